package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Queue streams (the queue service facade's storage).
//
// Each queue of the queue service is a JetStream stream of its own,
// "QS_<queue>" on subject "qs.<queue>", and each of its consumer groups a
// durable pull consumer on it (AckExplicit, DeliverAll, MaxDeliver
// unlimited): every group sees every message of its queue, and within a
// group the engine hands each message to one pull request. A stream per
// queue, rather than subjects of the device stream, so that a queue keeps
// its own retention, deleting it drops its messages and consumers at once,
// and the engine's per-stream consumer cap counts one queue's groups only.
//
// A delivery is acknowledged through its JetStream reply subject, which
// names the stream, the consumer and the delivery: any node on the same
// engine can settle it, so the front end hands the subject to its client
// (encoded) rather than keeping state of its own.

// ErrQueueStreamNotFound is the answer for a queue whose stream, or a group
// whose consumer, does not exist.
var ErrQueueStreamNotFound = errors.New("queue stream or reader not found")

// ErrBadDelivery is the answer for a settlement token that names no
// delivery of the reader it is given for.
var ErrBadDelivery = errors.New("not a delivery of this queue reader")

// maxQueueID bounds queue and reader ids: they become part of stream,
// consumer and subject names.
const maxQueueID = 64

// QueueReader names one consumer group of a queue stream.
type QueueReader struct {
	Queue string // the queue's id: letters, digits, '-' and '_'
	Group string // the group's id: the same characters
}

// QueueDelivery is one message handed to a reader.
type QueueDelivery struct {
	Data      []byte
	Seq       uint64    // the message's stream sequence
	Stored    time.Time // when the engine stored it
	Delivered uint64    // times delivered, this one included
	Token     string    // settles this delivery (SettleQueue); opaque
}

// QueueReaderStats is a reader's position: its backlog is Pending +
// AckPending.
type QueueReaderStats struct {
	Pending    uint64 // not yet delivered
	AckPending int    // delivered, not acknowledged
	Acked      uint64 // the ack floor's stream sequence
	Last       uint64 // the stream's last sequence
}

func checkQueueID(what, id string) error {
	if reason := badChars(id, maxQueueID, isIDChar); reason != "" {
		return fmt.Errorf("%w: %s %s %s", ErrInvalidName, what, quote(id), reason)
	}
	return nil
}

func queueStreamName(queue string) string    { return "QS_" + queue }
func queueStreamSubject(queue string) string { return "qs." + queue }

func (q QueueReader) check() error {
	if err := checkQueueID("queue", q.Queue); err != nil {
		return err
	}
	return checkQueueID("group", q.Group)
}

func (q QueueReader) String() string { return q.Queue + "/" + q.Group }

// CreateQueueStream makes the queue's stream, keeping messages for
// retention (0: for ever); making one that exists updates its retention.
func (b *Broker) CreateQueueStream(ctx context.Context, queue string, retention time.Duration) error {
	if err := checkQueueID("queue", queue); err != nil {
		return err
	}
	if b.isClosed() {
		return ErrClosed
	}
	_, err := b.e().js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:      queueStreamName(queue),
		Subjects:  []string{queueStreamSubject(queue)},
		Retention: jetstream.LimitsPolicy,
		Storage:   jetstream.FileStorage,
		Discard:   jetstream.DiscardOld,
		MaxAge:    retention,
		Replicas:  b.cfg.Replicas,
	})
	if err != nil {
		return b.unavailable(fmt.Errorf("creating queue stream %s: %w", queue, err))
	}
	return nil
}

// DeleteQueueStream removes the queue's stream with its messages and
// readers; an absent one is no error.
func (b *Broker) DeleteQueueStream(ctx context.Context, queue string) error {
	if err := checkQueueID("queue", queue); err != nil {
		return err
	}
	if b.isClosed() {
		return ErrClosed
	}
	err := b.e().js.DeleteStream(ctx, queueStreamName(queue))
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return b.unavailable(fmt.Errorf("deleting queue stream %s: %w", queue, err))
	}
	return nil
}

// AppendQueue stores data as the queue's next message once JetStream has
// acknowledged it, and returns its sequence.
func (b *Broker) AppendQueue(ctx context.Context, queue string, data []byte) (uint64, error) {
	if err := checkQueueID("queue", queue); err != nil {
		return 0, err
	}
	if b.isClosed() {
		return 0, ErrClosed
	}
	if err := b.checkSize(len(data)); err != nil {
		return 0, err
	}
	ack, err := b.e().js.Publish(ctx, queueStreamSubject(queue), data, jetstream.WithExpectStream(queueStreamName(queue)))
	if errors.Is(err, jetstream.ErrNoStreamResponse) {
		return 0, fmt.Errorf("%w: queue %s", ErrQueueStreamNotFound, queue)
	}
	if err != nil {
		return 0, b.unavailable(fmt.Errorf("appending to queue %s: %w", queue, err))
	}
	return ack.Sequence, nil
}

// CreateQueueReader makes the group's durable consumer on its queue, from
// the queue's first message, redelivering what is not acknowledged within
// ackWait. Making one that exists is no error.
func (b *Broker) CreateQueueReader(ctx context.Context, q QueueReader, ackWait time.Duration) error {
	if err := q.check(); err != nil {
		return err
	}
	if b.isClosed() {
		return ErrClosed
	}
	_, err := b.e().js.CreateOrUpdateConsumer(ctx, queueStreamName(q.Queue), jetstream.ConsumerConfig{
		Durable:       q.Group,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
		MaxAckPending: 10000,
		MaxWaiting:    512,
		Replicas:      b.cfg.Replicas,
	})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("%w: queue %s", ErrQueueStreamNotFound, q.Queue)
	}
	if err != nil {
		return b.unavailable(fmt.Errorf("creating queue reader %s: %w", q, err))
	}
	return nil
}

// DeleteQueueReader removes the group's consumer; an absent one is no error.
func (b *Broker) DeleteQueueReader(ctx context.Context, q QueueReader) error {
	if err := q.check(); err != nil {
		return err
	}
	if b.isClosed() {
		return ErrClosed
	}
	err := b.e().js.DeleteConsumer(ctx, queueStreamName(q.Queue), q.Group)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return b.unavailable(fmt.Errorf("deleting queue reader %s: %w", q, err))
	}
	return nil
}

func (b *Broker) queueConsumer(ctx context.Context, q QueueReader) (jetstream.Consumer, error) {
	if err := q.check(); err != nil {
		return nil, err
	}
	if b.isClosed() {
		return nil, ErrClosed
	}
	c, err := b.e().js.Consumer(ctx, queueStreamName(q.Queue), q.Group)
	if errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrQueueStreamNotFound, q)
	}
	if err != nil {
		return nil, b.unavailable(fmt.Errorf("opening queue reader %s: %w", q, err))
	}
	return c, nil
}

// ReadQueue hands up to max messages to the reader: whatever is waiting at
// once, or else the first to arrive within wait and what is waiting behind
// it. None within wait is an empty answer. Each message stays the reader's
// until settled or its ack wait passes.
func (b *Broker) ReadQueue(ctx context.Context, q QueueReader, max int, wait time.Duration) ([]QueueDelivery, error) {
	c, err := b.queueConsumer(ctx, q)
	if err != nil {
		return nil, err
	}
	if max < 1 {
		return nil, nil
	}
	out, err := queueWaiting(c, nil, max)
	if err != nil || len(out) > 0 || wait <= 0 {
		return out, b.unavailable(err)
	}
	// Nothing waiting: one pull request for a single message, held by the
	// engine for wait at most, then whatever has come behind it. Asking
	// for max at once would hold the answer until max arrived.
	first, err := collectQueue(c.Fetch(1, jetstream.FetchMaxWait(wait)))
	if err != nil || len(first) == 0 {
		return first, b.unavailable(err)
	}
	out, err = queueWaiting(c, first, max)
	return out, b.unavailable(err)
}

// queueWaiting adds to out what is waiting for the reader, up to max in all.
// A no-wait pull answers what the consumer knows of when it is asked: a
// message stored a moment before may not be counted yet, so it asks again
// while answers come (each asks for no more than is missing).
func queueWaiting(c jetstream.Consumer, out []QueueDelivery, max int) ([]QueueDelivery, error) {
	for len(out) < max {
		more, err := collectQueue(c.FetchNoWait(max - len(out)))
		if err != nil {
			if len(out) > 0 {
				return out, nil // those are the reader's now
			}
			return nil, err
		}
		if len(more) == 0 {
			break
		}
		out = append(out, more...)
	}
	return out, nil
}

// collectQueue drains a fetch into deliveries. A fetch that fails after some
// messages came keeps them (they are the reader's now) and drops the error.
func collectQueue(batch jetstream.MessageBatch, err error) ([]QueueDelivery, error) {
	if err != nil {
		return nil, err
	}
	var out []QueueDelivery
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil {
			continue // not a JetStream delivery; cannot be settled either
		}
		out = append(out, QueueDelivery{Data: m.Data(), Seq: md.Sequence.Stream, Stored: md.Timestamp,
			Delivered: md.NumDelivered, Token: m.Reply()})
	}
	if err := batch.Error(); err != nil && len(out) == 0 &&
		!errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
		return nil, err
	}
	return out, nil
}

// SettleQueue acknowledges a delivery of the reader (ok) or gives it back
// for redelivery at once (!ok), and waits for the engine to confirm. A
// token of another reader, or none at all, is ErrBadDelivery.
func (b *Broker) SettleQueue(ctx context.Context, q QueueReader, token string, ok bool) error {
	body := []byte("+ACK")
	if !ok {
		body = []byte("-NAK")
	}
	return b.replyQueue(ctx, q, token, body)
}

// ExtendQueue makes a delivery of the reader due for redelivery d from
// now (rather than the reader's ack wait after it was delivered) unless
// it is settled before; it waits for the engine to confirm. The engine's
// delayed nak does this: it moves the delivery's deadline and leaves it
// pending, so a later ack still takes it.
func (b *Broker) ExtendQueue(ctx context.Context, q QueueReader, token string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%w: a redelivery delay of %v", ErrInvalidArgument, d)
	}
	return b.replyQueue(ctx, q, token, fmt.Appendf(nil, `-NAK {"delay":%d}`, d.Nanoseconds()))
}

// replyQueue sends body to a delivery's reply subject and waits for the
// engine's answer.
func (b *Broker) replyQueue(ctx context.Context, q QueueReader, token string, body []byte) error {
	if err := q.check(); err != nil {
		return err
	}
	if b.isClosed() {
		return ErrClosed
	}
	if !isDeliveryOf(token, queueStreamName(q.Queue), q.Group) {
		return fmt.Errorf("%w: %s", ErrBadDelivery, q)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
	}
	if _, err := b.e().nc.RequestWithContext(ctx, token, body); err != nil {
		return b.unavailable(fmt.Errorf("settling a delivery of %s: %w", q, err))
	}
	return nil
}

// isDeliveryOf reports whether token is a JetStream reply subject of the
// consumer on stream, in either form:
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
//	$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>[.<token>]
func isDeliveryOf(token, stream, consumer string) bool {
	if _, ok := parseAckReply(token); !ok {
		return false
	}
	if strings.ContainsAny(token, " \t\r\n*>") {
		return false
	}
	parts := strings.Split(token[len(ackPrefix):], ".")
	switch len(parts) {
	case 7:
		return parts[0] == stream && parts[1] == consumer
	case 9, 10:
		return parts[2] == stream && parts[3] == consumer
	}
	return false
}

// QueueReaderStats reads the reader's position from the engine.
func (b *Broker) QueueReaderStats(ctx context.Context, q QueueReader) (QueueReaderStats, error) {
	c, err := b.queueConsumer(ctx, q)
	if err != nil {
		return QueueReaderStats{}, err
	}
	info := c.CachedInfo()
	st := QueueReaderStats{Pending: info.NumPending, AckPending: info.NumAckPending, Acked: info.AckFloor.Stream}
	if s, err := b.e().js.Stream(ctx, queueStreamName(q.Queue)); err == nil {
		st.Last = s.CachedInfo().State.LastSeq
	}
	return st, nil
}

// QueueStreamState is what a queue stream holds.
type QueueStreamState struct {
	Messages uint64 // kept now
	Last     uint64 // the last sequence stored: messages appended so far
}

// QueueStreamState reads the queue stream's counters from the engine.
func (b *Broker) QueueStreamState(ctx context.Context, queue string) (QueueStreamState, error) {
	if err := checkQueueID("queue", queue); err != nil {
		return QueueStreamState{}, err
	}
	if b.isClosed() {
		return QueueStreamState{}, ErrClosed
	}
	s, err := b.e().js.Stream(ctx, queueStreamName(queue))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return QueueStreamState{}, fmt.Errorf("%w: queue %s", ErrQueueStreamNotFound, queue)
	}
	if err != nil {
		return QueueStreamState{}, b.unavailable(fmt.Errorf("reading queue stream %s: %w", queue, err))
	}
	st := s.CachedInfo().State
	return QueueStreamState{Messages: st.Msgs, Last: st.LastSeq}, nil
}
