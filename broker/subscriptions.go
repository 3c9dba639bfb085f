package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
)

// Message kinds a subscription can select (the vendor's subscription flags).
const (
	KindData      = "data"       // device data: custom topics, properties, events
	KindStatus    = "status"     // online/offline changes
	KindLifecycle = "lifecycle"  // create, delete, enable, disable
	KindTopo      = "topo"       // gateway topology changes
	KindFound     = "found"      // sub-devices found by a gateway
	KindOTA       = "ota"        // OTA upgrade events
	KindHistory   = "history"    // thing history data
	KindTag       = "tag"        // device tag changes
	KindOTAVer    = "otaVersion" // OTA module versions reported
	KindOTAJob    = "otaJob"     // OTA job state changes
)

// Kinds lists every message kind.
var Kinds = []string{KindData, KindStatus, KindLifecycle, KindTopo, KindFound, KindOTA, KindHistory, KindTag, KindOTAVer, KindOTAJob}

// Subscription says which groups receive which kinds of a product's messages.
type Subscription struct {
	Groups []string `json:"groups"` // ids; SetSubscription also takes names
	Kinds  []string `json:"kinds"`
	// Flags are the platform's further subscription flags (its
	// SubscribeFlags, such as jt808DeviceDataFlag), kept and answered back;
	// no message kind of the emulator depends on them.
	Flags map[string]bool `json:"subscribeFlags,omitempty"`
}

// SetSubscription replaces a product's subscription and updates the filters
// of every group it adds or removes.
func (b *Broker) SetSubscription(ctx context.Context, productKey string, s Subscription) error {
	if err := checkProductKey(productKey); err != nil {
		return err
	}
	if len(s.Kinds) == 0 {
		s.Kinds = []string{KindData}
	}
	for _, k := range s.Kinds {
		if !slices.Contains(Kinds, k) {
			return fmt.Errorf("%w: unknown message kind %q (known: %v)", ErrInvalidArgument, k, Kinds)
		}
	}
	ids := make([]string, 0, len(s.Groups))
	for _, ref := range s.Groups {
		g, err := b.Group(ctx, ref)
		if err != nil {
			return err
		}
		if !slices.Contains(ids, g.ID) {
			ids = append(ids, g.ID)
		}
	}
	s.Groups = ids
	old, err := b.Subscription(ctx, productKey)
	if err != nil && !errors.Is(err, ErrGroupNotFound) {
		return err
	}
	data, _ := json.Marshal(s)
	rev, err := settled(b, ctx, func(ctx context.Context) (uint64, error) { return b.e().subs.Put(ctx, productKey, data) })
	if err != nil {
		return fmt.Errorf("storing subscription: %w", err)
	}
	// Route ingest by the new subscription before saying it is in place,
	// and make the consumers' filters from it.
	if err := b.subCache.waitFor(ctx, rev); err != nil {
		return err
	}
	return b.syncConsumers(ctx, append(slices.Clone(old.Groups), s.Groups...))
}

// Subscription returns a product's subscription (empty when it has none).
func (b *Broker) Subscription(ctx context.Context, productKey string) (Subscription, error) {
	if err := checkProductKey(productKey); err != nil {
		return Subscription{}, err
	}
	e, err := settled(b, ctx, func(ctx context.Context) (jetstream.KeyValueEntry, error) { return b.e().subs.Get(ctx, productKey) })
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return Subscription{}, nil
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("reading the subscription of %s: %w", productKey, err)
	}
	var s Subscription
	if err := json.Unmarshal(e.Value(), &s); err != nil {
		return Subscription{}, fmt.Errorf("subscription of %s is corrupt: %w", productKey, err)
	}
	return s, nil
}

// DeleteSubscription removes a product's subscription.
func (b *Broker) DeleteSubscription(ctx context.Context, productKey string) error {
	old, err := b.Subscription(ctx, productKey)
	if err != nil {
		return err
	}
	err = b.settle(ctx, func(ctx context.Context) error { return b.e().subs.Delete(ctx, productKey) })
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("deleting the subscription of %s: %w", productKey, err)
	}
	if err := b.subCache.waitGone(ctx, productKey); err != nil {
		return err
	}
	return b.syncConsumers(ctx, old.Groups)
}

// Subscriptions returns every product's subscription, by product key.
func (b *Broker) Subscriptions(ctx context.Context) (map[string]Subscription, error) {
	all, err := b.subscriptions(ctx)
	return all, b.unavailable(err)
}

// subscriptions returns every product's subscription, from the cache the
// bucket's watch keeps: it holds this node's own writes once they are
// applied (SetSubscription waits for that), where a listing of a
// replicated bucket may be served by a replica a moment behind.
func (b *Broker) subscriptions(context.Context) (map[string]Subscription, error) {
	if b.isClosed() {
		return nil, ErrClosed
	}
	if !b.connected() {
		return nil, fmt.Errorf("%w: not connected to JetStream; try again", ErrUnavailable)
	}
	return b.subCache.all(), nil
}

// productsOf lists the products whose subscription names group id.
func (b *Broker) productsOf(ctx context.Context, id string) ([]string, error) {
	all, err := b.subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for pk, s := range all {
		if slices.Contains(s.Groups, id) {
			out = append(out, pk)
		}
	}
	slices.Sort(out)
	return out, nil
}

// filters returns the subjects group id's consumer selects.
func (b *Broker) filters(ctx context.Context, id string) ([]string, error) {
	if id == DefaultGroupID {
		return []string{rootDefault + ".>"}, nil // routing.go decides what DEFAULT_GROUP gets
	}
	all, err := b.subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for pk, s := range all {
		if !slices.Contains(s.Groups, id) {
			continue
		}
		for _, k := range s.Kinds {
			out = append(out, deviceFilters(k, pk)...)
		}
	}
	if len(out) == 0 {
		// A consumer without a filter would take the whole stream; this
		// subject is never published to.
		return []string{"queue." + id + ".unsubscribed"}, nil
	}
	slices.Sort(out)
	return out, nil
}

func (b *Broker) syncConsumers(ctx context.Context, ids []string) error {
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if err := b.syncConsumer(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// syncConsumer creates group id's durable consumer or updates its filters.
func (b *Broker) syncConsumer(ctx context.Context, id string) error {
	filters, err := b.filters(ctx, id)
	if err != nil {
		return err
	}
	return b.ensureConsumer(ctx, consumerName(id), filters, nil)
}

func (b *Broker) ensureConsumer(ctx context.Context, name string, filters []string, meta map[string]string) error {
	// Nodes starting together create DEFAULT_GROUP's consumer at once.
	err := retry(ctx, attemptWait, func(ctx context.Context) error { return b.createConsumer(ctx, name, filters, meta) }, transient)
	if err != nil {
		return b.unavailable(fmt.Errorf("consumer %s: %w", name, err))
	}
	return nil
}

// createConsumer creates or updates one durable consumer; it has the
// stream's replicas.
func (b *Broker) createConsumer(ctx context.Context, name string, filters []string, meta map[string]string) error {
	_, err := b.e().stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:        name,
		Metadata:       meta,
		FilterSubjects: filters,
		// DeliverAll keeps every reset possible (DeliverPolicy is immutable).
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       b.cfg.AckTimeout,
		MaxDeliver:    -1,
		MaxAckPending: 10000,
		MaxWaiting:    512,
	})
	return err
}

// consumerName is the durable consumer of a group.
func consumerName(id string) string { return "g_" + id }
