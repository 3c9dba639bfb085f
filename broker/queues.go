package broker

import (
	"context"
	"slices"
	"strings"
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

func (g *group) isQueue() bool { return strings.HasPrefix(g.name, "q_") }

func (g *group) observeDelivered(redelivered bool) {
	if qo, ok := g.b.cfg.Observer.(QueueObserver); ok && g.isQueue() {
		qo.QueueDelivered(g.label, redelivered)
		return
	}
	g.b.cfg.Observer.Delivered(g.label, redelivered)
}

func (g *group) observeSettled(o Outcome) {
	if qo, ok := g.b.cfg.Observer.(QueueObserver); ok && g.isQueue() {
		qo.QueueSettled(g.label, o)
		return
	}
	g.b.cfg.Observer.Settled(g.label, o)
}
