package broker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// engine is one connection to JetStream and the handles made on it. A
// connection that NATS closes for good (the server refused something with
// -ERR, or an external cluster went away beyond the client's reconnects)
// is never reused: supervise dials a new engine and swaps it in whole.
type engine struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	groups jetstream.KeyValue
	subs   jetstream.KeyValue
	closed chan struct{} // closed by the connection's ClosedHandler
	idBase uint64        // of the stream's message ids (messageIDOf)

	stateMu sync.Mutex                    // guards state
	state   map[string]jetstream.KeyValue // StateBucket handles by bucket name, made on first use
}

// e is the current engine.
func (b *Broker) e() *engine { return b.eng.Load() }

// Healthy reports whether the broker is open and its engine connection up.
func (b *Broker) Healthy() bool {
	e := b.e()
	return !b.isClosed() && e != nil && e.nc.IsConnected()
}

// connected is Healthy without the broker lock, for the publish paths
// (callers there have checked that the broker is open).
func (b *Broker) connected() bool {
	e := b.e()
	return e != nil && e.nc.IsConnected()
}

// unavailable marks err as the engine's absence when the connection is
// down, so front ends answer "try again" rather than "internal error".
func (b *Broker) unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || b.Healthy() {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// dial connects to the engine and makes sure the stream and buckets exist.
func (b *Broker) dial(ctx context.Context) (*engine, error) {
	e := &engine{closed: make(chan struct{})}
	opts := []nats.Option{nats.Name("amqpemu"), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.ClosedHandler(func(*nats.Conn) { close(e.closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			b.log.Warn().Err(err).Msg("engine connection error")
		})}
	var err error
	if b.ns != nil {
		e.nc, err = nats.Connect("", append(opts, nats.InProcessServer(b.ns))...)
	} else {
		e.nc, err = nats.Connect(b.cfg.NATSURL, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS: %w", err)
	}
	if max := e.nc.MaxPayload(); int64(b.cfg.MaxMessageSize+headroom) > max {
		e.nc.Close()
		return nil, fmt.Errorf("the message size limit of %d bytes does not fit NATS's max_payload of %d bytes (less %d for headers): lower it or raise max_payload on the server",
			b.cfg.MaxMessageSize, max, headroom)
	}
	if err := e.attach(ctx, b.cfg); err != nil {
		e.nc.Close()
		return nil, err
	}
	return e, nil
}

// headroom is room for a stored message's headers and subject beyond its
// payload.
const headroom = 16 << 10

// attach makes the JetStream handles, creating the stream and the KV
// buckets if they do not exist.
func (e *engine) attach(ctx context.Context, cfg Config) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var err error
	// Futures time out rather than wait forever on a connection that died.
	if e.js, err = jetstream.New(e.nc, jetstream.WithPublishAsyncTimeout(30*time.Second)); err != nil {
		return err
	}
	base, err := e.storedIDBase(ctx)
	if err != nil {
		return fmt.Errorf("reading stream: %w", err)
	}
	e.stream, err = e.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:      streamName,
		Subjects:  []string{rootDefault + ".>", rootSubscribed + ".>", "queue.>"},
		Retention: jetstream.LimitsPolicy,
		Storage:   jetstream.FileStorage,
		Discard:   jetstream.DiscardOld,
		MaxAge:    cfg.Retention,
		Metadata:  map[string]string{idBaseKey: strconv.FormatUint(base, 10)},
	})
	if err != nil {
		return fmt.Errorf("creating stream: %w", err)
	}
	// Read back: another node may have created the stream first.
	if e.idBase, err = strconv.ParseUint(e.stream.CachedInfo().Config.Metadata[idBaseKey], 10, 64); err != nil {
		return fmt.Errorf("stream %s: metadata %s: %w", streamName, idBaseKey, err)
	}
	if e.groups, err = e.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: groupsBucket, Storage: jetstream.FileStorage}); err != nil {
		return fmt.Errorf("creating groups bucket: %w", err)
	}
	if e.subs, err = e.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: subsBucket, Storage: jetstream.FileStorage}); err != nil {
		return fmt.Errorf("creating subscriptions bucket: %w", err)
	}
	return nil
}

// idBaseKey is the stream metadata holding the base of its message ids.
const idBaseKey = "amqpemu-message-id-base"

// storedIDBase is the stream's message id base, or a new one for a stream
// that does not exist yet or has none (made by a version without it).
func (e *engine) storedIDBase(ctx context.Context) (uint64, error) {
	s, err := e.js.Stream(ctx, streamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return newIDBase(), nil
	}
	if err != nil {
		return 0, err
	}
	if base, err := strconv.ParseUint(s.CachedInfo().Config.Metadata[idBaseKey], 10, 64); err == nil {
		return base, nil
	}
	return newIDBase(), nil
}

// supervise replaces the engine connection whenever NATS closes it, until
// the broker closes. Dispatchers pick the new connection up on their next
// pull (group.refresh).
func (b *Broker) supervise() {
	defer close(b.superDone)
	for {
		e := b.e()
		select {
		case <-e.closed:
		case <-b.quit:
			return
		}
		b.log.Error().AnErr("cause", e.nc.LastError()).Msg("engine connection lost; reconnecting")
		if !b.reconnect() {
			return
		}
		b.log.Info().Msg("engine connection restored")
	}
}

// reconnect dials until it has a new engine (true) or the broker closes.
func (b *Broker) reconnect() bool {
	wait := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		e, err := b.dial(ctx)
		if err == nil {
			b.eng.Store(e)
			err = b.watchSubscriptions(ctx)
			if err != nil {
				e.nc.Close() // the next attempt replaces it
			}
		}
		cancel()
		if err == nil {
			return true
		}
		b.log.Warn().Err(err).Int("attempt", attempt).Msg("engine still unreachable")
		select {
		case <-time.After(wait):
		case <-b.quit:
			return false
		}
		wait = min(2*wait, 2*time.Second)
	}
}
