package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Member slots: when several amqpemu nodes share one JetStream (an
// external NATS, or embedded cluster nodes), a group's online clients are
// counted across all of them. Each member holds one of its group's
// MaxMembers slots, a key of the members bucket taken with an atomic
// create, so no race admits more. The node that holds a slot renews it;
// the bucket's TTL (MemberTTL) frees the slots of a node that died.
//
//	slot.<consumer>.<n>   a member: slotInfo
//	node.<name>           a live node: nodeInfo (nodes.go)
//	lease.<task>          the node that does a cluster-wide task (lease.go)
const membersBucket = "amqpemu_members"

// slotInfo is what a slot says of its member.
type slotInfo struct {
	Node     string    `json:"node"`
	ClientID string    `json:"clientId"`
	Address  string    `json:"address"`
	Since    time.Time `json:"since"`
}

// slots are the member slots this node holds, by key.
type slots struct {
	mu   sync.Mutex
	held map[string]*heldSlot
}

// heldSlot is a slot and its revision. Its mutex orders the renewal and
// the release of one slot, so a release never misses a newer revision.
type heldSlot struct {
	mu  sync.Mutex
	rev uint64
	val []byte
	off bool // released
}

// shared reports whether other amqpemu nodes may use the same JetStream.
func (b *Broker) shared() bool { return len(b.cfg.NATSURLs) > 0 || b.clustered() }

// Shared reports whether other amqpemu nodes may use the same JetStream
// (an external NATS, or a clustered embedded one): what is counted or done
// once per cluster is then agreed through it.
func (b *Broker) Shared() bool { return b.shared() }

func slotPrefix(consumer string) string { return "slot." + consumer + "." }

// claimSlot takes a free slot of consumer's group for a member, or
// refuses with ErrTooManyMembers when all MaxMembers are held, on any node.
func (b *Broker) claimSlot(ctx context.Context, consumer string, info MemberInfo, since time.Time) (string, error) {
	kv := b.e().members
	val, err := json.Marshal(slotInfo{Node: b.node, ClientID: info.ClientID, Address: info.Address, Since: since})
	if err != nil {
		return "", err
	}
	taken, err := b.slotHolders(ctx, consumer)
	if err != nil {
		return "", b.unavailable(fmt.Errorf("reading the member slots: %w", err))
	}
	// In random order, so members joining at once on several nodes
	// rarely contend for the same key.
	for _, i := range rand.Perm(b.cfg.MaxMembers) {
		key := slotPrefix(consumer) + strconv.Itoa(i)
		if _, ok := taken[key]; ok {
			continue
		}
		rev, err := kv.Create(ctx, key, val)
		switch {
		case err == nil:
			b.slots.mu.Lock()
			b.slots.held[key] = &heldSlot{rev: rev, val: val}
			b.slots.mu.Unlock()
			return key, nil
		case errors.Is(err, jetstream.ErrKeyExists):
			continue // a member on another node got it first
		default:
			return "", b.unavailable(fmt.Errorf("claiming a member slot: %w", err))
		}
	}
	return "", fmt.Errorf("%w: %d online clients is the limit of a consumer group", ErrTooManyMembers, b.cfg.MaxMembers)
}

// slotHolders reads the slots of consumer's group that are held now.
func (b *Broker) slotHolders(ctx context.Context, consumer string) (map[string]slotInfo, error) {
	out := make(map[string]slotInfo)
	err := b.readKeys(ctx, slotPrefix(consumer)+"*", func(key string, value []byte) {
		var s slotInfo
		if json.Unmarshal(value, &s) == nil {
			out[key] = s
		}
	})
	return out, err
}

// readKeys calls fn with each live key of the members bucket matching
// filter, and its value.
//
// A watch counts the keys it will deliver when it starts, and says it has
// delivered them all only once that many have come. Keys whose TTL ends
// in between are never delivered, so its listing never ends (nats.go's
// jetstream watcher has no timer for this, unlike its legacy one). A
// listing that stalls is started again, as a new watch counts afresh, and
// with more patience each time in case the engine is only slow.
func (b *Broker) readKeys(ctx context.Context, filter string, fn func(key string, value []byte)) error {
	for patience := 500 * time.Millisecond; ; patience *= 2 {
		entries, err := b.listKeys(ctx, filter, patience)
		if errors.Is(err, errListingStalled) {
			continue
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			fn(e.Key(), e.Value())
		}
		return nil
	}
}

var errListingStalled = errors.New("members bucket listing stalled")

// listKeys lists the live keys matching filter with one watch, which
// fails with errListingStalled when nothing comes for patience.
func (b *Broker) listKeys(ctx context.Context, filter string, patience time.Duration) ([]jetstream.KeyValueEntry, error) {
	w, err := b.e().members.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	stall := time.NewTimer(patience)
	defer stall.Stop()
	var entries []jetstream.KeyValueEntry
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("members bucket watch ended")
			}
			if e == nil { // the values there were when it started have all come
				return entries, nil
			}
			entries = append(entries, e)
			stall.Reset(patience)
		case <-stall.C:
			return nil, errListingStalled
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// releaseSlot frees a member's slot. One another node has taken since
// (this node could not renew it in time) is left alone.
func (b *Broker) releaseSlot(key string) {
	b.slots.mu.Lock()
	h := b.slots.held[key]
	delete(b.slots.held, key)
	b.slots.mu.Unlock()
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.off = true
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.e().members.Delete(ctx, key, jetstream.LastRevision(h.rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		// The TTL frees it in the end.
		b.log.Warn().Err(err).Str("slot", key).Dur("freed within", b.cfg.MemberTTL).Msg("member slot not released")
	}
}

// renewSlots writes every slot this node holds again, so the TTL does not
// free it. A slot that expired meanwhile is taken back if still free.
func (b *Broker) renewSlots(ctx context.Context) error {
	b.slots.mu.Lock()
	held := make(map[string]*heldSlot, len(b.slots.held))
	for k, h := range b.slots.held {
		held[k] = h
	}
	b.slots.mu.Unlock()
	kv := b.e().members
	var errs []error
	for key, h := range held {
		h.mu.Lock()
		if !h.off {
			errs = append(errs, b.renewSlot(ctx, kv, key, h))
		}
		h.mu.Unlock()
	}
	return errors.Join(errs...)
}

// renewSlot renews one slot; h.mu is held.
func (b *Broker) renewSlot(ctx context.Context, kv jetstream.KeyValue, key string, h *heldSlot) error {
	rev, err := kv.Update(ctx, key, h.val, h.rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyNotFound) {
		rev, err = kv.Create(ctx, key, h.val)
		if errors.Is(err, jetstream.ErrKeyExists) {
			// Another node's member has it: this member is over the
			// limit until one leaves. Its own release must not free it.
			h.off = true
			b.slots.mu.Lock()
			delete(b.slots.held, key)
			b.slots.mu.Unlock()
			b.log.Warn().Str("slot", key).Msg("a member's slot expired before it could be renewed and was taken by another node")
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("renewing member slot %s: %w", key, err)
	}
	h.rev = rev
	return nil
}
