package broker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// metaAddress is the consumer metadata key holding a generic queue's
// address: its durable name is a hash of it (queueName).
const metaAddress = "amqpemu-queue-address"

func queueMeta(address string) map[string]string { return map[string]string{metaAddress: address} }

// QueueInfo is a generic queue: an address that named no consumer group,
// created on first use.
type QueueInfo struct {
	Address       string `json:"address"`
	Accumulation  int    `json:"accumulation"`
	OnlineClients int    `json:"onlineClients"`
}

// Queues lists the generic queues by address, apart from consumer groups.
func (b *Broker) Queues(ctx context.Context) ([]QueueInfo, error) {
	if b.isClosed() {
		return nil, ErrClosed
	}
	var out []QueueInfo
	lister := b.e().stream.ListConsumers(ctx)
	for info := range lister.Info() {
		address, ok := info.Config.Metadata[metaAddress]
		if !strings.HasPrefix(info.Name, "q_") || !ok {
			continue // a consumer group, or a queue made before addresses were kept
		}
		q := QueueInfo{Address: address, Accumulation: int(info.NumPending) + info.NumAckPending}
		if g := b.live(info.Name); g != nil {
			g.mu.Lock()
			q.OnlineClients = len(g.members)
			g.mu.Unlock()
		}
		out = append(out, q)
	}
	if err := lister.Err(); err != nil {
		return nil, b.unavailable(err)
	}
	slices.SortFunc(out, func(x, y QueueInfo) int { return strings.Compare(x.Address, y.Address) })
	return out, nil
}

func (g *dispatcher) isQueue() bool { return strings.HasPrefix(g.name, "q_") }

func (g *dispatcher) observeDelivered(redelivered bool) {
	if qo, ok := g.b.cfg.Observer.(QueueObserver); ok && g.isQueue() {
		qo.QueueDelivered(g.label, redelivered)
		return
	}
	g.b.cfg.Observer.Delivered(g.label, redelivered)
}

func (g *dispatcher) observeSettled(o Outcome) {
	if qo, ok := g.b.cfg.Observer.(QueueObserver); ok && g.isQueue() {
		qo.QueueSettled(g.label, o)
		return
	}
	g.b.cfg.Observer.Settled(g.label, o)
}

// Generic queues: an address that is not a device topic is a queue created
// on first use; its receivers compete as one group.

// queueName is the durable consumer of a generic queue: a hash, since
// addresses may hold characters durable names cannot.
func queueName(address string) string {
	sum := sha256.Sum256([]byte(address))
	return "q_" + hex.EncodeToString(sum[:12])
}

func queueSubject(address string) string { return "queue." + queueName(address) }

func isQueueSubject(s string) bool { return strings.HasPrefix(s, "queue.") }

// JoinQueue adds a member to the generic queue at address, creating it.
func (b *Broker) JoinQueue(ctx context.Context, address string, info MemberInfo, r Receiver) (*Member, error) {
	if err := checkAddress(address); err != nil {
		return nil, err
	}
	name := queueName(address)
	if err := b.ensureConsumer(ctx, name, []string{queueSubject(address)}, queueMeta(address)); err != nil {
		return nil, err
	}
	return b.join(ctx, name, address, info, r, false)
}

// PublishQueue stores a message for the generic queue at address, exactly as
// given, once JetStream has acknowledged it. The queue is created (its
// consumer made) before the first message so nothing sent is missed.
func (b *Broker) PublishQueue(ctx context.Context, address string, raw []byte) error {
	if err := b.checkSize(len(raw)); err != nil {
		return err
	}
	if err := b.ensureQueue(address); err != nil {
		return err
	}
	_, err := b.e().js.PublishMsg(ctx, queueMsg(address, raw))
	return b.unavailable(err)
}

func queueMsg(address string, raw []byte) *nats.Msg {
	return &nats.Msg{Subject: queueSubject(address), Data: raw}
}

// ensureQueue creates a generic queue's consumer the first time it is used.
func (b *Broker) ensureQueue(address string) error {
	if err := checkAddress(address); err != nil {
		return err
	}
	name := queueName(address)
	b.mu.Lock()
	known := b.queues[name]
	b.mu.Unlock()
	if known {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.ensureConsumer(ctx, name, []string{queueSubject(address)}, queueMeta(address)); err != nil {
		return err
	}
	b.mu.Lock()
	b.queues[name] = true
	b.mu.Unlock()
	return nil
}

// PublishQueueAsync stores a generic queue message like PublishQueue,
// without blocking the caller.
func (b *Broker) PublishQueueAsync(address string, raw []byte, done func(error)) error {
	if err := b.checkSize(len(raw)); err != nil {
		return err
	}
	if !b.connected() {
		return fmt.Errorf("%w: not connected to JetStream", ErrUnavailable)
	}
	if err := b.ensureQueue(address); err != nil {
		return err
	}
	e := b.e()
	f, err := e.js.PublishMsgAsync(queueMsg(address, raw))
	if err != nil {
		return b.unavailable(err)
	}
	b.awaitAck(e, f, false, done)
	return nil
}
