package broker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
)

// Names of the JetStream assets the broker owns.
const (
	streamName   = "AMQPEMU"
	groupsBucket = "amqpemu_groups"
	subsBucket   = "amqpemu_subscriptions"
)

// Broker is the consumer-group engine. Lock order: Broker.mu before dispatcher.mu.
type Broker struct {
	cfg Config
	log zerolog.Logger
	ns  *server.Server // nil with an external NATS

	// eng is the current engine connection; supervise replaces it when
	// the connection is lost for good.
	eng atomic.Pointer[engine]

	subCache *subCache // the subscriptions bucket, for routing at ingest
	ingest   ingestMeter

	kafkaSkips skipCache // empty partition reads, for Read (kafka.go)

	mu       sync.Mutex
	runtimes map[string]*dispatcher // live dispatchers by durable consumer name
	queues   map[string]bool        // generic queues whose consumer exists

	acks      chan pubWait  // asynchronous publishes awaiting their ack, in order
	quit      chan struct{} // closed by Close: stops ackLoop, supervise and keep
	acksDone  chan struct{}
	superDone chan struct{}
	keepDone  chan struct{}
	closed    bool

	// On a shared engine (slots.go, nodes.go, lease.go).
	node    string // this node's name among those sharing the engine
	slots   slots
	leases  leases
	cluster cluster
}

// Open starts the embedded JetStream server (or connects to cfg.NATSURLs),
// waits until JetStream answers (in a cluster: once it has a meta leader),
// and makes sure the stream, the KV buckets and DEFAULT_GROUP exist. Nodes
// of one cluster may open at the same time. ctx bounds the whole.
func Open(ctx context.Context, cfg Config) (*Broker, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b := &Broker{cfg: cfg, log: cfg.Logger, runtimes: make(map[string]*dispatcher), queues: make(map[string]bool),
		acks: make(chan pubWait, 4096), quit: make(chan struct{}), acksDone: make(chan struct{}),
		superDone: make(chan struct{}), keepDone: make(chan struct{}), subCache: newSubCache(),
		node: nodeName(cfg.ServerName), slots: slots{held: map[string]*heldSlot{}}, leases: leases{tasks: map[string]*lease{}}}
	b.cluster.since = time.Now()
	go b.ackLoop()
	e, err := b.start(ctx)
	if err == nil {
		b.eng.Store(e)
		err = b.setup(ctx)
	}
	if err == nil && b.shared() {
		err = b.keepRound() // the others see this node from the start
	}
	if err != nil {
		close(b.superDone)
		close(b.keepDone)
		b.Close(context.Background())
		return nil, err
	}
	go b.supervise()
	if b.shared() {
		go b.keep()
	} else {
		close(b.keepDone)
	}
	return b, nil
}

// start starts the embedded server, or not with an external one, and
// connects to it.
func (b *Broker) start(ctx context.Context) (*engine, error) {
	if len(b.cfg.NATSURLs) == 0 {
		if err := b.startServer(); err != nil {
			return nil, err
		}
	}
	return b.dial(ctx)
}

// clustered reports whether the embedded server is a cluster node.
func (b *Broker) clustered() bool { return b.cfg.ClusterListen != "" }

func (b *Broker) startServer() error {
	if b.cfg.DataDir == "" {
		return errors.New("broker: Config.DataDir is required for the embedded server")
	}
	opts := &server.Options{
		ServerName:             cmp.Or(b.cfg.ServerName, "amqpemu"),
		DontListen:             true, // in-process connections only
		JetStream:              true,
		StoreDir:               b.cfg.DataDir,
		NoSigs:                 true,
		DisableJetStreamBanner: true,
		// v2.15 caps a stream at 1000 consumers by default; groups and
		// generic queues are all consumers of one stream.
		JetStreamLimits: server.JSLimitOpts{DefaultMaxConsumers: -1},
		// A stored message is the payload plus headers; NATS refuses
		// anything over MaxPayload (default 1 MiB).
		MaxPayload: int32(max(1<<20, b.cfg.MaxMessageSize+headroom)),
	}
	if err := b.clusterOptions(opts); err != nil {
		return err
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("starting embedded NATS: %w", err)
	}
	ns.SetLoggerV2(natsLogger{b.log.With().Str("component", "nats").Logger()}, false, false, false)
	b.ns = ns
	go ns.Start()
	if !ns.ReadyForConnections(10*time.Second) || !ns.JetStreamEnabled() {
		if b.clustered() {
			return fmt.Errorf("embedded JetStream did not start (is %s locked by another amqpemu, or %s in use?)", b.cfg.DataDir, b.cfg.ClusterListen)
		}
		return fmt.Errorf("embedded JetStream did not start (is %s locked by another amqpemu?)", b.cfg.DataDir)
	}
	return nil
}

// clusterOptions makes opts a clustered JetStream node when ClusterListen
// is set: nats-server's own routes, meta group and RAFT replication.
func (b *Broker) clusterOptions(opts *server.Options) error {
	if !b.clustered() {
		return nil
	}
	host, port, err := splitHostPort(b.cfg.ClusterListen)
	if err != nil {
		return fmt.Errorf("%w: ClusterListen %q: %w", ErrConfig, b.cfg.ClusterListen, err)
	}
	routes, err := routeURLs(b.cfg.Routes)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	// nats-server dials explicit routes until they answer, so the nodes of
	// a cluster may start in any order.
	opts.Cluster = server.ClusterOpts{Name: b.cfg.ClusterName, Host: host, Port: port}
	opts.Routes = routes
	// nats-server starts routing only once its client listener is up, so a
	// node cannot be DontListen: it listens on a port of loopback it picks.
	opts.DontListen, opts.Host, opts.Port = false, "127.0.0.1", server.RANDOM_PORT
	// At shutdown the broker's own connection is already closed; these
	// bound lame duck mode (shutdownServer) should anything else be left.
	opts.LameDuckDuration, opts.LameDuckGracePeriod = 3*time.Second, time.Second
	return nil
}

func (b *Broker) setup(ctx context.Context) error {
	if err := b.watchSubscriptions(ctx); err != nil {
		return fmt.Errorf("reading subscriptions: %w", err)
	}
	// Just made in a cluster, a bucket may not answer reads for a moment.
	if err := retry(ctx, attemptWait, b.ensureDefaultGroup, transient); err != nil {
		return err
	}
	if b.ns != nil && !b.clustered() {
		return b.recoverInFlight(ctx)
	}
	if b.clustered() {
		b.waitCaughtUp(ctx)
	}
	return nil
}

// recoverInFlight hands back what was delivered but not settled when the
// process last stopped. JetStream would wait out the ack timeout; an
// embedded server that is no cluster node has no other amqpemu whose
// clients could still hold them, so each such consumer restarts from its ack floor at once
// (redelivering, at worst, messages acked above the floor: at-least-once).
func (b *Broker) recoverInFlight(ctx context.Context) error {
	lister := b.e().stream.ListConsumers(ctx)
	for info := range lister.Info() {
		if info.NumAckPending == 0 {
			continue
		}
		if _, err := b.e().js.ResetConsumer(ctx, streamName, info.Name); err != nil {
			return fmt.Errorf("handing back in-flight messages of %s: %w", info.Name, err)
		}
		b.log.Info().Str("consumer", info.Name).Int("unsettled", info.NumAckPending).Msg("redelivering messages unsettled at the last stop")
	}
	return lister.Err()
}

// Close stops every dispatcher (handing back what members held), then the
// NATS connection and the embedded server. It is safe to call twice.
func (b *Broker) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	rts := make([]*dispatcher, 0, len(b.runtimes))
	for _, g := range b.runtimes {
		rts = append(rts, g)
	}
	b.mu.Unlock()
	for _, g := range rts {
		g.stop()
	}
	if b.shared() && b.e() != nil {
		b.leaveCluster()
	}
	close(b.quit)
	<-b.acksDone
	<-b.superDone
	<-b.keepDone
	if e := b.e(); e != nil {
		// Drain flushes pending acks; it is asynchronous, so wait for it.
		if e.nc.Drain() == nil {
			select {
			case <-e.closed:
			case <-ctx.Done():
			}
		}
		e.nc.Close()
	}
	b.shutdownServer()
	return nil
}

func (b *Broker) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

func (b *Broker) shutdownServer() {
	if b.ns == nil {
		return
	}
	if b.clustered() {
		// Lame duck mode hands the RAFT groups this node leads to its
		// peers and waits a second for them to take over; a plain
		// Shutdown steps down and stops at once, and the streams it led
		// answer nobody until an election (seconds) picks a new leader.
		b.ns.LameDuckShutdown()
	}
	b.ns.Shutdown() // a no-op after lame duck mode, unless it had nothing to do
	b.ns.WaitForShutdown()
}

// natsLogger routes the embedded server's log into zerolog; its Fatalf does
// not exit the process (JetStream start failures surface through Open).
type natsLogger struct{ log zerolog.Logger }

func (l natsLogger) Noticef(format string, v ...any) { l.log.Debug().Msgf(format, v...) }
func (l natsLogger) Warnf(format string, v ...any)   { l.log.Warn().Msgf(format, v...) }
func (l natsLogger) Fatalf(format string, v ...any)  { l.log.Error().Msgf(format, v...) }
func (l natsLogger) Errorf(format string, v ...any)  { l.log.Error().Msgf(format, v...) }
func (l natsLogger) Debugf(format string, v ...any)  { l.log.Trace().Msgf(format, v...) }
func (l natsLogger) Tracef(format string, v ...any)  { l.log.Trace().Msgf(format, v...) }
