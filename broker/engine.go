package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// engine is one connection to JetStream and the handles made on it. A
// connection that NATS closes for good (the server refused something with
// -ERR, or an external cluster went away beyond the client's reconnects)
// is never reused: supervise dials a new engine and swaps it in whole.
type engine struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	groups  jetstream.KeyValue
	subs    jetstream.KeyValue
	members jetstream.KeyValue // member slots and nodes; nil unless the engine is shared (slots.go)
	closed  chan struct{}      // closed by the connection's ClosedHandler
	// dropped is closed when the connection drops (nats.go then
	// reconnects, to another server of a cluster) and replaced by a new
	// one: acknowledgements due on the dropped connection never come.
	dropped  atomic.Pointer[chan struct{}]
	idBase   uint64 // of the stream's message ids (messageIDOf)
	replicas int    // of the stream and buckets, for state buckets made later
	creator  string // tags the KV buckets this engine creates (ensureKV)

	stateMu sync.Mutex                    // guards state
	state   map[string]jetstream.KeyValue // StateBucket handles by bucket name, made on first use
}

// e is the current engine.
func (b *Broker) e() *engine { return b.eng.Load() }

// Healthy reports whether the broker is open and its engine connection up
// and, on a shared engine, whether it could write there recently (its
// JetStream cluster has a quorum).
func (b *Broker) Healthy() bool {
	e := b.e()
	return !b.isClosed() && e != nil && e.nc.IsConnected() && b.inQuorum() && !b.cluster.behind.Load()
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
	if err == nil || errors.Is(err, ErrUnavailable) || (b.Healthy() && !engineAway(err)) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// dial connects to the engine and makes sure the stream and buckets exist.
func (b *Broker) dial(ctx context.Context) (*engine, error) {
	e := &engine{closed: make(chan struct{}), creator: strconv.FormatUint(newIDBase(), 36)}
	first := make(chan struct{})
	e.dropped.Store(&first)
	opts := []nats.Option{nats.Name("amqpemu"), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond),
		nats.ClosedHandler(func(*nats.Conn) { close(e.closed) }),
		nats.DisconnectErrHandler(func(*nats.Conn, error) {
			next := make(chan struct{})
			close(*e.dropped.Swap(&next))
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			b.log.Warn().Err(err).Msg("engine connection error")
		})}
	var err error
	if b.ns != nil {
		e.nc, err = nats.Connect("", append(opts, nats.InProcessServer(b.ns))...)
	} else {
		// nats.go takes the servers comma-separated and, beyond them,
		// learns the cluster's other nodes from the one it reaches.
		e.nc, err = nats.Connect(strings.Join(b.cfg.NATSURLs, ","), opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to NATS: %w", err)
	}
	if max := e.nc.MaxPayload(); int64(b.cfg.MaxMessageSize+headroom) > max {
		e.nc.Close()
		return nil, fmt.Errorf("the message size limit of %d bytes does not fit NATS's max_payload of %d bytes (less %d for headers): lower it or raise max_payload on the server",
			b.cfg.MaxMessageSize, max, headroom)
	}
	if err := e.attach(ctx, b.cfg, b.clustered() || len(b.cfg.NATSURLs) > 1, b.shared()); err != nil {
		e.nc.Close()
		return nil, err
	}
	if b.shared() {
		if err := b.serveStats(e); err != nil {
			e.nc.Close()
			return nil, fmt.Errorf("answering status requests: %w", err)
		}
	}
	return e, nil
}

// publishAckWait is how long a publish waits for JetStream's
// acknowledgement before its sender is told to send again. JetStream
// answers in milliseconds; no answer at all means the stream's leader died
// with the message (seen in bench/cluster.sh: 30 s of ingest stalled on
// the unanswered), and a new leader is elected in seconds.
const publishAckWait = 5 * time.Second

// headroom is room for a stored message's headers and subject beyond its
// payload.
const headroom = 16 << 10

// attach makes the JetStream handles once JetStream is ready, creating
// the stream and the KV buckets if they do not exist. Other nodes may be
// creating them at the same time: each step is create-or-update, retried
// while it fails for a reason the cluster resolves (a lost race, an
// election, peers not yet known).
func (e *engine) attach(ctx context.Context, cfg Config, cluster, shared bool) error {
	var err error
	// Futures time out rather than wait forever on a connection that died.
	if e.js, err = jetstream.New(e.nc, jetstream.WithPublishAsyncTimeout(publishAckWait)); err != nil {
		return err
	}
	if err := e.waitReady(ctx, cluster); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := retry(ctx, attemptWait, func(ctx context.Context) error { return e.ensureStream(ctx, cfg) }, transient); err != nil {
		return fmt.Errorf("creating stream: %w", explainReplicas(err, cfg.Replicas))
	}
	if e.groups, err = e.ensureKV(ctx, groupsBucket, cfg.Replicas); err != nil {
		return fmt.Errorf("creating groups bucket: %w", err)
	}
	if e.subs, err = e.ensureKV(ctx, subsBucket, cfg.Replicas); err != nil {
		return fmt.Errorf("creating subscriptions bucket: %w", err)
	}
	if shared {
		if e.members, err = e.ensureKVTTL(ctx, membersBucket, cfg.Replicas, cfg.MemberTTL); err != nil {
			return fmt.Errorf("creating members bucket: %w", err)
		}
	}
	e.replicas = cfg.Replicas
	return nil
}

// ensureStream creates the stream, or updates it to cfg keeping the
// message id base it was created with; a stream already as cfg wants is
// left alone. Of nodes creating it at once, one wins; the others fail
// with "stream name already in use" (their id bases differ) and, retried,
// read the winner's stream.
func (e *engine) ensureStream(ctx context.Context, cfg Config) error {
	scfg := jetstream.StreamConfig{
		Name:      streamName,
		Subjects:  []string{rootDefault + ".>", rootSubscribed + ".>", "queue.>", kafkaRoot + ".>"},
		Retention: jetstream.LimitsPolicy,
		Storage:   jetstream.FileStorage,
		Discard:   jetstream.DiscardOld,
		MaxAge:    cfg.Retention,
		Replicas:  cfg.Replicas,
		// Kafka reads fetch batches of a topic's messages (kafka_scan.go).
		AllowDirect: true,
	}
	s, err := e.js.Stream(ctx, streamName)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		scfg.Metadata = map[string]string{idBaseKey: strconv.FormatUint(newIDBase(), 10)}
		s, err = e.js.CreateStream(ctx, scfg)
	case err != nil:
		return fmt.Errorf("reading stream: %w", err)
	default:
		have := s.CachedInfo().Config
		scfg.Metadata = have.Metadata
		if _, ok := have.Metadata[idBaseKey]; !ok { // made by a version without it
			scfg.Metadata = map[string]string{idBaseKey: strconv.FormatUint(newIDBase(), 10)}
		}
		if !sameStream(have, scfg) {
			s, err = e.js.UpdateStream(ctx, scfg)
		}
	}
	if err != nil {
		return err
	}
	e.stream = s
	// What the server holds is what every node uses.
	if e.idBase, err = strconv.ParseUint(s.CachedInfo().Config.Metadata[idBaseKey], 10, 64); err != nil {
		return fmt.Errorf("stream %s: metadata %s: %w", streamName, idBaseKey, err)
	}
	return nil
}

// sameStream reports whether the stream has every setting want sets.
func sameStream(have, want jetstream.StreamConfig) bool {
	return slices.Equal(have.Subjects, want.Subjects) && have.MaxAge == want.MaxAge && have.Replicas == want.Replicas &&
		have.Retention == want.Retention && have.Discard == want.Discard && have.Metadata[idBaseKey] == want.Metadata[idBaseKey] &&
		have.AllowDirect == want.AllowDirect
}

// ensureKV opens a KV bucket, creating it or changing its replicas as
// needed. Each engine tags what it creates with a name of its own: nodes
// creating a bucket at once then ask for different buckets, and the server
// refuses all but one at once ("already in use", retried as a read). Two
// identical creates at once can both go unanswered (seen with nats-server
// 2.15.2 and R3 buckets).
func (e *engine) ensureKV(ctx context.Context, bucket string, replicas int) (jetstream.KeyValue, error) {
	return e.ensureKVTTL(ctx, bucket, replicas, 0)
}

// ensureKVTTL is ensureKV for a bucket whose keys expire ttl after their
// last write (0: never); a bucket made with another ttl gets this one.
func (e *engine) ensureKVTTL(ctx context.Context, bucket string, replicas int, ttl time.Duration) (jetstream.KeyValue, error) {
	var kv jetstream.KeyValue
	waited := 0
	err := retry(ctx, attemptWait, func(ctx context.Context) error {
		var err error
		kv, err = e.js.KeyValue(ctx, bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = e.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, Storage: jetstream.FileStorage,
				Replicas: replicas, TTL: ttl, Metadata: map[string]string{creatorKey: e.creator}})
		}
		if err != nil {
			return err
		}
		st, err := kv.Status(ctx)
		if err != nil {
			return err
		}
		bs, ok := st.(*jetstream.KeyValueBucketStatus)
		if !ok {
			return fmt.Errorf("bucket %s: unexpected status %T", bucket, st)
		}
		if bs.StreamInfo().Config.Replicas != replicas || bs.TTL() != ttl {
			if kv, err = e.js.UpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, Storage: jetstream.FileStorage,
				Replicas: replicas, TTL: ttl, Metadata: st.Metadata()}); err != nil {
				return err
			}
			if st, err = kv.Status(ctx); err != nil {
				return err
			}
			bs = st.(*jetstream.KeyValueBucketStatus)
		}
		if replicas > 1 && bs.StreamInfo().Config.AllowDirect {
			// The node that made the bucket turns direct gets off; the
			// others wait for it (identical updates at once can stall, like
			// creates), and do it themselves only if it does not.
			if waited++; st.Metadata()[creatorKey] != e.creator && waited < 20 {
				return errSettingUp
			}
			kv, err = e.consistentReads(ctx, bucket, bs.StreamInfo().Config)
		}
		return err
	}, func(err error) bool { return err == errSettingUp || transient(err) })
	return kv, explainReplicas(err, replicas)
}

// consistentReads turns direct gets off on a replicated bucket: any
// replica answers a direct get, one a moment behind too, so a node could
// miss what it has just written (a group it created). Without them the
// stream leader answers every read. nats.go makes buckets with direct gets,
// hence the update after creation.
func (e *engine) consistentReads(ctx context.Context, bucket string, cfg jetstream.StreamConfig) (jetstream.KeyValue, error) {
	cfg.AllowDirect = false
	if _, err := e.js.UpdateStream(ctx, cfg); err != nil {
		return nil, err
	}
	return e.js.KeyValue(ctx, bucket) // binds without direct gets
}

// errSettingUp says another node is still setting a bucket up.
var errSettingUp = errors.New("bucket being set up by another node")

// creatorKey is the bucket metadata naming the engine that created it.
const creatorKey = "amqpemu-created-by"

// idBaseKey is the stream metadata holding the base of its message ids.
const idBaseKey = "amqpemu-message-id-base"

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
