package brokerbackend

import (
	"strconv"
	"sync"
	"time"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
	"github.com/amqpemu/amqpemu/broker"
)

// Service Bus message annotations (the broker-set system properties the
// Azure SDKs read from every received message).
const (
	annLockedUntil    = "x-opt-locked-until"    // timestamp: the peek-lock's end
	annSequenceNumber = "x-opt-sequence-number" // long
	annEnqueuedTime   = "x-opt-enqueued-time"   // timestamp
	annOffset         = "x-opt-offset"          // string: an Event Hubs event's position
)

// defaultLockDuration is the broker's default ack timeout.
const defaultLockDuration = 30 * time.Second

// WithLockDuration tells the backend the broker's ack timeout, which Azure
// clients see as each message's lock (x-opt-locked-until).
func WithLockDuration(d time.Duration) Option {
	return func(be *Backend) { be.lockDuration = d }
}

// azureConns are the connections that put a valid token to $cbs: their
// receivers get messages the way Service Bus delivers them. Safe for
// concurrent use.
type azureConns struct {
	mu  sync.Mutex
	ids map[uint64]struct{} // guarded by mu
}

func (a *azureConns) mark(id uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ids == nil {
		a.ids = make(map[uint64]struct{})
	}
	a.ids[id] = struct{}{}
}

func (a *azureConns) has(id uint64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.ids[id]
	return ok
}

func (a *azureConns) forget(id uint64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.ids, id)
}

// ConnClosed drops what the backend kept for the connection.
func (be *Backend) ConnClosed(connID uint64) { be.azure.forget(connID) }

// serviceBusMessage returns msg as Service Bus would deliver it: with
// message annotations x-opt-locked-until, x-opt-sequence-number,
// x-opt-offset (Event Hubs) and x-opt-enqueued-time (device messages), and a message-id when the sender
// set none (the @azure/service-bus receiver tracks its lock renewals by
// message-id and fails without one). seq is the engine's sequence number
// (the delivery token, stable across redeliveries). A message that does
// not parse goes out unchanged.
func serviceBusMessage(msg []byte, seq uint64, enqueued, lockedUntil time.Time) []byte {
	m, err := frames.ParseMessage(msg)
	if err != nil {
		return msg
	}
	ann := encoding.Map{
		{Key: encoding.Symbol(annLockedUntil), Value: encoding.Timestamp(lockedUntil.UnixMilli())},
		{Key: encoding.Symbol(annSequenceNumber), Value: int64(seq)},
		{Key: encoding.Symbol(annOffset), Value: strconv.FormatUint(seq, 10)},
	}
	if !enqueued.IsZero() {
		ann = append(ann, encoding.MapEntry{Key: encoding.Symbol(annEnqueuedTime), Value: encoding.Timestamp(enqueued.UnixMilli())})
	}
	if m.MessageAnnotations != nil {
		old, err := frames.DecodeAnnotatedMap(m.MessageAnnotations)
		if err != nil {
			return msg
		}
		for _, e := range old {
			if k, ok := e.Key.(encoding.Symbol); ok && (k == annLockedUntil || k == annSequenceNumber || k == annEnqueuedTime || k == annOffset) {
				continue
			}
			ann = append(ann, e)
		}
	}
	props := m.Properties
	var p frames.Properties
	if m.Properties != nil {
		if p, err = frames.DecodeProperties(m.Properties); err != nil {
			return msg
		}
	}
	if p.MessageID == nil {
		p.MessageID = strconv.FormatUint(seq, 10)
		if props, err = p.Append(nil); err != nil {
			return msg
		}
	}
	out := make([]byte, 0, len(msg)+96)
	out = append(out, m.Header...)
	out = append(out, m.DeliveryAnnotations...)
	if out, err = frames.AppendMapSection(out, encoding.DescMessageAnnotations, ann); err != nil {
		return msg
	}
	out = append(out, props...)
	out = append(out, m.ApplicationProperties...)
	for _, b := range m.Body {
		out = append(out, b...)
	}
	return append(out, m.Footer...)
}

// azureDelivery encodes a broker delivery for a receiver on a connection
// that authenticated through $cbs.
func (be *Backend) azureDelivery(d broker.Delivery, now time.Time) []byte {
	msg := d.Raw
	var enqueued time.Time
	if msg == nil {
		msg = VendorMessage(d.Message)
		enqueued = d.Message.GenerateTime
	}
	lock := be.lockDuration
	if lock <= 0 {
		lock = defaultLockDuration
	}
	return serviceBusMessage(msg, d.Token, enqueued, now.Add(lock))
}

// encode turns a broker delivery into the link's AMQP message.
func (c *consumer) encode(d broker.Delivery) amqp.Delivery {
	if c.sb == nil {
		return toAMQP(d)
	}
	return amqp.Delivery{ID: d.Token, Message: c.sb.azureDelivery(d, time.Now())}
}
