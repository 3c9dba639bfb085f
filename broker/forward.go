package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Forwarding: a product's device messages of some kinds handed, batch by
// batch, to a function of another package (the log service's data
// forwarding), at least once. Each forward is a durable consumer of the
// device stream ("f_<name>", apart from the groups' "g_" and the queues'
// "q_"), so that what was not yet handed over survives a restart; a
// message is acked only once the function has returned nil for its batch,
// and a failed batch is given back to be retried after forwardRetry.

// ForwardFunc takes a batch of device messages, in stream order. It
// returns nil once every one of them is stored where it goes; an error
// makes the whole batch come again.
type ForwardFunc func(ctx context.Context, msgs []DeviceMessage) error

// Forward is a running forward; Stop ends it.
type Forward struct {
	b        *Broker
	name     string // the durable consumer's
	fn       ForwardFunc
	ctx      context.Context // of run's engine calls; cancel ends them
	cancel   context.CancelFunc
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

const (
	forwardBatch = 100
	forwardWait  = time.Second     // a fetch's longest wait for messages
	forwardRetry = 2 * time.Second // before a failed batch is tried again
)

func forwardConsumer(name string) string { return "f_" + name }

// StartForward makes (or updates) the durable consumer of forward name for
// productKey's messages of kinds (KindData when none) and starts handing
// them to fn. A new forward takes the messages stored from now on; one that
// exists resumes where it was. name takes letters, digits, '_' and '-'.
func (b *Broker) StartForward(ctx context.Context, name, productKey string, kinds []string, fn ForwardFunc) (*Forward, error) {
	if reason := badChars(name, maxStateName, isIDChar); reason != "" {
		return nil, fmt.Errorf("%w: forward name %s %s", ErrInvalidName, quote(name), reason)
	}
	if err := checkProductKey(productKey); err != nil {
		return nil, err
	}
	if len(kinds) == 0 {
		kinds = []string{KindData}
	}
	var filters []string
	for _, k := range kinds {
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("%w: unknown message kind %q (known: %v)", ErrInvalidArgument, k, Kinds)
		}
		filters = append(filters, deviceFilters(k, productKey)...)
	}
	if b.isClosed() {
		return nil, ErrClosed
	}
	_, err := b.e().stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:        forwardConsumer(name),
		FilterSubjects: filters,
		DeliverPolicy:  jetstream.DeliverNewPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        b.cfg.AckTimeout,
		MaxDeliver:     -1,
		MaxAckPending:  10 * forwardBatch,
	})
	if err != nil {
		return nil, b.unavailable(fmt.Errorf("forward %s: %w", name, err))
	}
	f := &Forward{b: b, name: forwardConsumer(name), fn: fn, stop: make(chan struct{}), done: make(chan struct{})}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	go f.run() // Stop waits for it
	return f, nil
}

// DeleteForward removes forward name's consumer (stop it first); an absent
// one is no error.
func (b *Broker) DeleteForward(ctx context.Context, name string) error {
	if b.isClosed() {
		return ErrClosed
	}
	err := b.e().stream.DeleteConsumer(ctx, forwardConsumer(name))
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return b.unavailable(fmt.Errorf("deleting forward %s: %w", name, err))
	}
	return nil
}

// ForwardBacklog counts the messages forward name has not yet handed over
// (waiting, or handed and not yet stored).
func (b *Broker) ForwardBacklog(ctx context.Context, name string) (int, error) {
	if b.isClosed() {
		return 0, ErrClosed
	}
	c, err := b.e().stream.Consumer(ctx, forwardConsumer(name))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, fmt.Errorf("%w: forward %s", ErrGroupNotFound, name)
	}
	if err != nil {
		return 0, b.unavailable(err)
	}
	info := c.CachedInfo()
	return int(info.NumPending) + info.NumAckPending, nil
}

// Stop ends the forward and waits for the batch in hand; what it fetched
// and did not store comes again to the next StartForward (or after the ack
// timeout). The consumer stays. Stop is idempotent.
func (f *Forward) Stop() {
	f.stopOnce.Do(func() {
		close(f.stop)
		f.cancel()
	})
	<-f.done
}

func (f *Forward) stopped() bool {
	select {
	case <-f.stop:
		return true
	default:
		return false
	}
}

// sleep waits d or until Stop.
func (f *Forward) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-f.stop:
	}
}

func (f *Forward) run() {
	defer close(f.done)
	for !f.stopped() && !f.b.isClosed() {
		err := f.once(f.ctx)
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			// Deleted (by another node sharing the engine): nothing to forward.
			f.b.log.Info().Str("forward", f.name).Msg("the forward's consumer is gone; forwarding stops")
			return
		}
		if err != nil && !f.stopped() {
			f.b.log.Warn().Err(err).Str("forward", f.name).Msg("forwarding device messages; retrying")
			f.sleep(forwardRetry)
		}
	}
}

// once fetches a batch (from the current engine: supervise may have
// replaced it), hands it to fn and acks it, or gives it back.
func (f *Forward) once(ctx context.Context) error {
	e := f.b.e()
	c, err := e.stream.Consumer(ctx, f.name)
	if err != nil {
		return fmt.Errorf("opening the consumer: %w", err)
	}
	batch, err := c.Fetch(forwardBatch, jetstream.FetchMaxWait(forwardWait))
	if err != nil {
		return fmt.Errorf("fetching: %w", err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && len(msgs) == 0 {
		return fmt.Errorf("fetching: %w", err)
	}
	if len(msgs) == 0 {
		return nil
	}
	dms := make([]DeviceMessage, len(msgs))
	for i, m := range msgs {
		meta, _ := parseAckReply(m.Reply())
		dms[i] = f.b.fromNATS(&nats.Msg{Subject: m.Subject(), Data: m.Data(), Header: m.Headers()}, meta)
	}
	if err := f.fn(ctx, dms); err != nil {
		for _, m := range msgs {
			m.NakWithDelay(forwardRetry) // lost naks come back after the ack timeout
		}
		return err
	}
	// Stored: ack even when Stop came meanwhile, or the batch comes again.
	actx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, m := range msgs {
		if err := m.DoubleAck(actx); err != nil {
			return fmt.Errorf("acking: %w", err)
		}
	}
	return nil
}
