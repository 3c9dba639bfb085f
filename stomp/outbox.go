package stomp

import (
	"errors"
	"sync"
	"time"

	"github.com/amqpemu/amqpemu/broker"
)

// maxQueuedControl bounds the control frames (RECEIPT and the like) queued
// for the writer: a client that sends frames with receipts and never reads
// stalls its own reader instead of growing the queue.
const maxQueuedControl = 64

var errOutboxClosed = errors.New("connection closing")

// outItem is one thing for the writer: an encoded control frame, or a
// delivery to encode as a MESSAGE frame for sub.
type outItem struct {
	frame     []byte
	heartbeat time.Duration // with CONNECTED: send heart-beats this often from now on
	last      bool          // write this frame, then close

	sub *subscription
	d   broker.Delivery

	// flushed, when set, is closed once everything queued before it is
	// written and its ack:auto deliveries settled (see pushBarrier).
	flushed chan struct{}
}

// outbox is the writer's queue, in the order frames go out. Deliveries are
// bounded by the member's credit, control frames by maxQueuedControl, so
// neither the broker (which must never block) nor the reader can grow it
// without bound.
type outbox struct {
	mu     sync.Mutex
	items  []outItem
	ctrl   int // control frames queued
	closed bool
	ready  chan struct{} // capacity 1: items arrived
	room   chan struct{} // capacity 1: the writer took control frames
}

func newOutbox() *outbox {
	return &outbox{ready: make(chan struct{}, 1), room: make(chan struct{}, 1)}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// pushDelivery queues a delivery; false when the connection is closing or
// the subscription was dropped (the broker then hands the message to
// another member). It never blocks for long: called by broker goroutines.
func (o *outbox) pushDelivery(sub *subscription, d broker.Delivery) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || sub.closed.Load() {
		return false
	}
	o.items = append(o.items, outItem{sub: sub, d: d})
	signal(o.ready)
	return true
}

// pushControl queues a control frame, waiting while too many are queued.
func (o *outbox) pushControl(it outItem, quit <-chan struct{}) error {
	for {
		o.mu.Lock()
		if o.closed {
			o.mu.Unlock()
			return errOutboxClosed
		}
		if o.ctrl < maxQueuedControl {
			o.items = append(o.items, it)
			o.ctrl++
			signal(o.ready)
			o.mu.Unlock()
			return nil
		}
		o.mu.Unlock()
		select {
		case <-o.room:
		case <-quit:
			return errStopped
		}
	}
}

// pushBarrier queues a marker the writer closes once what came before it
// is written and settled; false when the connection is closing.
func (o *outbox) pushBarrier(flushed chan struct{}) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	o.items = append(o.items, outItem{flushed: flushed})
	signal(o.ready)
	return true
}

// take hands the writer everything queued, giving spare back for reuse.
func (o *outbox) take(spare []outItem) []outItem {
	clear(spare)
	o.mu.Lock()
	items := o.items
	o.items = spare[:0]
	if o.ctrl > 0 {
		o.ctrl = 0
		signal(o.room)
	}
	o.mu.Unlock()
	return items
}

// detach refuses sub's further deliveries and drops those queued: the
// member's Leave hands them back to the broker.
func (o *outbox) detach(sub *subscription) {
	o.mu.Lock()
	defer o.mu.Unlock()
	sub.closed.Store(true)
	o.items = dropDeliveries(o.items, sub)
}

// close queues final (nil: nothing) as the last frame, dropping queued
// deliveries but keeping the control frames before it (a CONNECTED or
// RECEIPT the client is owed).
func (o *outbox) close(final []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.closed = true
	o.items = dropDeliveries(o.items, nil)
	o.items = append(o.items, outItem{frame: final, last: true})
	signal(o.ready)
}

// dropDeliveries removes the deliveries of sub (nil: of any subscription).
func dropDeliveries(items []outItem, sub *subscription) []outItem {
	kept := items[:0]
	for _, it := range items {
		if it.sub == nil || (sub != nil && it.sub != sub) {
			kept = append(kept, it)
		}
	}
	clear(items[len(kept):])
	return kept
}
