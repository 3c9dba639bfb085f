package amqp

import "sync"

// Kinds of mailbox events.
const (
	evDeliver uint8 = iota // a backend delivery for a sending link
	evDrained              // the backend finished a drain
	evOutcome              // a producer's outcome for a client's delivery
)

// event carries a backend callback to the connection's owner goroutine.
type event struct {
	kind    uint8
	link    *link
	d       Delivery
	id      uint32 // evOutcome: the client's delivery-id
	outcome Outcome
	settled bool // evOutcome: the client sent the delivery pre-settled
}

// mailbox is an unbounded queue from backend goroutines to the owner. It
// never blocks the backend, so a slow client cannot stall dispatch to others;
// its length is bounded by the credit the owner grants.
type mailbox struct {
	mu     sync.Mutex
	items  []event
	closed bool
	notify chan struct{} // capacity 1: "items is not empty"
}

// put queues e; false means the connection is gone.
func (m *mailbox) put(e event) bool {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return false
	}
	m.items = append(m.items, e)
	m.mu.Unlock()
	select {
	case m.notify <- struct{}{}:
	default:
	}
	return true
}

// putDeliveries queues deliveries for l with one wake-up of the owner, so
// it handles them, and writes their transfers, together.
func (m *mailbox) putDeliveries(l *link, ds []Delivery) bool {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return false
	}
	for _, d := range ds {
		m.items = append(m.items, event{kind: evDeliver, link: l, d: d})
	}
	m.mu.Unlock()
	select {
	case m.notify <- struct{}{}:
	default:
	}
	return true
}

// take swaps out the queued events, handing back spare to reuse.
func (m *mailbox) take(spare []event) []event {
	clear(spare)
	m.mu.Lock()
	items := m.items
	m.items = spare[:0]
	m.mu.Unlock()
	return items
}

func (m *mailbox) close() {
	m.mu.Lock()
	m.closed = true
	m.items = nil
	m.mu.Unlock()
}
