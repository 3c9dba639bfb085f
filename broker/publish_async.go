package broker

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// pubWait is one asynchronous publish awaiting JetStream's acknowledgement.
type pubWait struct {
	f      jetstream.PubAckFuture
	lost   <-chan struct{} // the engine connection it went out on closed
	drop   <-chan struct{} // that connection dropped (and reconnects)
	device bool            // a device message: counted as ingested once stored
	done   func(error)
}

// PublishAsync stores a device message without blocking the caller: done is
// called (from the broker's ack goroutine) once JetStream has stored it, or
// with the error. It returns an error for a bad message.
func (b *Broker) PublishAsync(m DeviceMessage, done func(error)) error {
	m, err := b.normalize(m)
	if err != nil {
		return err
	}
	if !b.connected() {
		return fmt.Errorf("%w: not connected to JetStream", ErrUnavailable)
	}
	e := b.e()
	f, err := e.js.PublishMsgAsync(b.toNATS(m))
	if err != nil {
		return b.unavailable(err)
	}
	b.awaitAck(e, f, true, done)
	return nil
}

func (b *Broker) awaitAck(e *engine, f jetstream.PubAckFuture, device bool, done func(error)) {
	select {
	case b.acks <- pubWait{f: f, lost: e.closed, drop: *e.dropped.Load(), device: device, done: done}:
	case <-b.quit:
		done(ErrClosed)
	}
}

// ackLoop reports publish acknowledgements in order; JetStream acknowledges
// one connection's publishes in the order they were sent.
func (b *Broker) ackLoop() {
	defer close(b.acksDone)
	for {
		select {
		case w := <-b.acks:
			b.settlePublish(w)
		case <-b.quit:
			for {
				select {
				case w := <-b.acks:
					b.settlePublish(w)
				default:
					return
				}
			}
		}
	}
}

func (b *Broker) settlePublish(w pubWait) {
	select {
	case <-w.f.Ok():
		if w.device {
			b.ingested(1)
		}
		w.done(nil)
	case err := <-w.f.Err():
		w.done(fmt.Errorf("message not stored: %w", err))
	case <-w.lost:
		b.lostAck(w)
	case <-w.drop:
		b.lostAck(w)
	}
}

// lostAck settles a publish whose connection went before its
// acknowledgement came.
func (b *Broker) lostAck(w pubWait) {
	select {
	case <-w.f.Ok(): // it arrived just before
		if w.device {
			b.ingested(1)
		}
		w.done(nil)
		return
	default:
	}
	// The acknowledgement may have been lost with the connection: the
	// sender is told it failed and may resend (at least once: the
	// message may have been stored).
	w.done(fmt.Errorf("%w: connection lost before the message was acknowledged", ErrUnavailable))
}

// ingested counts n stored device messages and tells the Observer.
func (b *Broker) ingested(n int) {
	if n > 0 {
		b.ingest.add(n, time.Now())
	}
	if io, ok := b.cfg.Observer.(IngestObserver); ok && n > 0 {
		io.Ingested(n)
	}
}
