// Package memqueue is an in-memory amqp.Backend: a queue per address,
// competing consumers, each message to one consumer chosen at random among
// those with credit, released messages redelivered. It keeps nothing across
// restarts; it serves tests and runs the binary before the broker lands.
package memqueue

import (
	"context"
	"math/rand/v2"
	"sync"

	"github.com/amqpemu/amqpemu/amqp"
)

// Stats counts what happened to messages, across all queues.
type Stats struct {
	Published, Delivered, Accepted, Rejected, Released, Redelivered uint64
}

// Backend holds the queues. The zero value is not usable; call New.
type Backend struct {
	mu     sync.Mutex // guards everything below and every queue and consumer
	queues map[string]*queue
	nextID uint64
	stats  Stats
	rng    *rand.Rand
}

// New returns an empty backend.
func New() *Backend {
	return &Backend{queues: make(map[string]*queue), rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

type message struct {
	id        uint64
	data      []byte
	format    uint32
	delivered bool // delivered at least once
}

type queue struct {
	name      string
	msgs      []*message // FIFO; msgs[head:] are waiting
	head      int
	consumers []*consumer
}

type consumer struct {
	b        *Backend
	q        *queue
	out      amqp.Deliverer
	credit   uint64 // limit - delivered
	limit    uint64 // the link's, from Flow
	sent     uint64 // deliveries made to the link
	inflight map[uint64]*message
	closed   bool
}

func (b *Backend) queue(name string) *queue {
	q := b.queues[name]
	if q == nil {
		q = &queue{name: name}
		b.queues[name] = q
	}
	return q
}

// OpenConsumer attaches a consumer to the queue named by the address.
func (b *Backend) OpenConsumer(_ context.Context, req amqp.LinkRequest, out amqp.Deliverer) (amqp.Consumer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.queue(req.Address)
	c := &consumer{b: b, q: q, out: out, inflight: make(map[uint64]*message)}
	q.consumers = append(q.consumers, c)
	return c, nil
}

// OpenProducer attaches a producer to the queue named by the address.
func (b *Backend) OpenProducer(_ context.Context, req amqp.LinkRequest) (amqp.Producer, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &producer{b: b, q: b.queue(req.Address)}, nil
}

// Stats returns a snapshot of the counters.
func (b *Backend) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// Depth returns how many messages of a queue wait for delivery and how many
// are delivered but not settled.
func (b *Backend) Depth(address string) (waiting, unsettled int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.queues[address]
	if q == nil {
		return 0, 0
	}
	for _, c := range q.consumers {
		unsettled += len(c.inflight)
	}
	return len(q.msgs) - q.head, unsettled
}

type producer struct {
	b *Backend
	q *queue
}

func (p *producer) Publish(msg []byte, format uint32, done func(amqp.Outcome)) {
	b := p.b
	b.mu.Lock()
	b.nextID++
	p.q.push(&message{id: b.nextID, data: msg, format: format})
	b.stats.Published++
	b.dispatch(p.q)
	b.mu.Unlock()
	done(amqp.Outcome{Kind: amqp.Accepted})
}

func (p *producer) Close() {}

func (q *queue) push(m *message) { q.msgs = append(q.msgs, m) }

// pushFront puts a message back at the head so it is redelivered first.
func (q *queue) pushFront(m *message) {
	if q.head > 0 {
		q.head--
		q.msgs[q.head] = m
		return
	}
	q.msgs = append([]*message{m}, q.msgs...)
}

func (q *queue) pop() *message {
	m := q.msgs[q.head]
	q.msgs[q.head] = nil
	q.head++
	if q.head == len(q.msgs) {
		q.msgs, q.head = q.msgs[:0], 0
	} else if q.head > 1024 && q.head > len(q.msgs)/2 {
		n := copy(q.msgs, q.msgs[q.head:])
		clear(q.msgs[n:])
		q.msgs, q.head = q.msgs[:n], 0
	}
	return m
}

// dispatch hands waiting messages to consumers with credit, each to one
// chosen at random. b.mu is held.
func (b *Backend) dispatch(q *queue) {
	var ready []*consumer
	for q.head < len(q.msgs) {
		ready = ready[:0]
		for _, c := range q.consumers {
			if c.credit > 0 && !c.closed {
				ready = append(ready, c)
			}
		}
		if len(ready) == 0 {
			return
		}
		c := ready[b.rng.IntN(len(ready))]
		m := q.pop()
		if !c.out.Deliver(amqp.Delivery{ID: m.id, Message: m.data, Format: m.format}) {
			c.detach() // its connection is gone
			q.pushFront(m)
			continue
		}
		c.credit--
		c.sent++
		c.inflight[m.id] = m
		b.stats.Delivered++
		if m.delivered {
			b.stats.Redelivered++
		}
		m.delivered = true
	}
}

func (c *consumer) Flow(limit uint64, drain bool) {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.closed {
		return
	}
	c.limit, c.credit = limit, 0
	if limit > c.sent {
		c.credit = limit - c.sent
	}
	b.dispatch(c.q)
	if drain {
		c.credit = 0
		c.out.Drained()
	}
}

func (c *consumer) Settle(ids []uint64, o amqp.Outcome) {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	requeued := false
	for _, id := range ids {
		m := c.inflight[id]
		if m == nil {
			continue
		}
		delete(c.inflight, id)
		switch o.Kind {
		case amqp.Accepted:
			b.stats.Accepted++
		case amqp.Rejected:
			b.stats.Rejected++
		default: // released or modified: deliver again
			b.stats.Released++
			c.q.pushFront(m)
			requeued = true
		}
	}
	if requeued {
		b.dispatch(c.q)
	}
}

func (c *consumer) Close() {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	c.detach()
	b.dispatch(c.q)
}

// detach removes the consumer and requeues its unsettled messages. b.mu is held.
func (c *consumer) detach() {
	if c.closed {
		return
	}
	c.closed = true
	q := c.q
	for i, x := range q.consumers {
		if x == c {
			q.consumers = append(q.consumers[:i], q.consumers[i+1:]...)
			break
		}
	}
	for id, m := range c.inflight {
		delete(c.inflight, id)
		q.pushFront(m)
	}
}
