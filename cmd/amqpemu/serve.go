package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/brokerbackend"
	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/devices"
	"github.com/amqpemu/amqpemu/downlink"
	"github.com/amqpemu/amqpemu/history"
	"github.com/amqpemu/amqpemu/internal/datadir"
	"github.com/amqpemu/amqpemu/kafka"
	"github.com/amqpemu/amqpemu/metrics"
	"github.com/amqpemu/amqpemu/mqtt"
	"github.com/amqpemu/amqpemu/stomp"
	"github.com/amqpemu/amqpemu/vendorauth"
)

// The development access key, printed at start; set your own with
// --access-key-id/--access-key-secret or their environment twins.
const (
	defaultAccessKeyID     = "amqpemu-dev-key"
	defaultAccessKeySecret = "amqpemu-dev-secret"
)

// serveFlags are the flags of `amqpemu serve`; each has an AMQPEMU_* twin.
type serveFlags struct {
	dataDir, natsURL       string
	replicas               int
	serverName             string
	clusterName            string
	clusterListen, routes  string
	retention, ackWait     time.Duration
	maxGroups              int
	maxMembers             int
	memberTTL              time.Duration
	maxMessageSize         int
	amqpAddr, amqpsAddr    string
	stompAddr, stompsAddr  string
	httpAddr               string
	mqttAddr, mqttsAddr    string
	kafkaAddr              string
	kafkaAdvertised        string
	listenAll              bool
	allowAnonymous         bool
	autoRegisterDevices    bool
	metricsPublic          bool
	accessKeyID            string
	accessKeySecret        string
	tlsCert, tlsKey        string
	tlsHosts               string
	maxSkew                time.Duration
	logLevel, logFormat    string
	idleTimeout            time.Duration
	cpuProfile, memProfile string
}

// serveFlagSet declares the serve flags into f.
func serveFlagSet(f *serveFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&f.dataDir, "data", "./amqpemu-data", "JetStream store and state (embedded server)")
	fs.StringVar(&f.natsURL, "nats-url", "", "use an external NATS JetStream server or cluster instead of the embedded one (several URLs comma-separated)")
	fs.IntVar(&f.replicas, "replicas", 1, "copies JetStream keeps of the stream and the state buckets, 1 to 5 (over 1 needs a cluster)")
	fs.StringVar(&f.serverName, "server-name", "", "this node's name, unique among the cluster's nodes (needed with --cluster-listen; with --nats-url it names the amqpemu node, else the host name and a random suffix do)")
	fs.StringVar(&f.clusterName, "cluster-name", broker.DefaultClusterName, "name of the embedded cluster, the same on every node")
	fs.StringVar(&f.clusterListen, "cluster-listen", "", "make the embedded NATS a clustered JetStream node: host:port where the other nodes' routes connect")
	fs.StringVar(&f.routes, "routes", "", "the embedded cluster's nodes, comma-separated nats-route://host:port (this node may be listed)")
	fs.DurationVar(&f.retention, "retention", 24*time.Hour, "how long device messages are kept")
	fs.DurationVar(&f.ackWait, "ack-timeout", 30*time.Second, "unsettled messages are redelivered after this")
	fs.IntVar(&f.maxGroups, "max-groups", 1000, "consumer groups at most")
	fs.IntVar(&f.maxMembers, "max-clients", 64, "online clients per consumer group at most")
	fs.DurationVar(&f.memberTTL, "member-ttl", 15*time.Second, "in a cluster, how long the clients of an amqpemu node that died still count against --max-clients")
	fs.IntVar(&f.maxMessageSize, "max-message-size", broker.DefaultMaxMessageSize, "largest device message payload (and generic queue message) in bytes, on every front end")
	fs.StringVar(&f.amqpAddr, "amqp", "127.0.0.1:5672", "AMQP 1.0 listen address, plain TCP (`off` disables; port 0 picks one)")
	fs.StringVar(&f.amqpsAddr, "amqps", "127.0.0.1:5671", "AMQP 1.0 over TLS listen address (`off` disables)")
	fs.StringVar(&f.stompAddr, "stomp", "127.0.0.1:61613", "STOMP 1.2 listen address, plain TCP (`off` disables)")
	fs.StringVar(&f.stompsAddr, "stomps", "127.0.0.1:61614", "STOMP 1.2 over TLS listen address (`off` disables)")
	fs.StringVar(&f.mqttAddr, "mqtt", "127.0.0.1:1883", "MQTT device listen address, plain TCP and TLS on one port as on the platform: devices sign in with their triple (`off` disables)")
	fs.StringVar(&f.mqttsAddr, "mqtts", "off", "MQTT over TLS only, on a port of its own (e.g. 127.0.0.1:8883)")
	fs.StringVar(&f.kafkaAddr, "kafka", "off", "Kafka protocol listen address (e.g. 127.0.0.1:9092): topics named after products and Kafka consumer groups, no authentication")
	fs.StringVar(&f.kafkaAdvertised, "kafka-advertised", "", "host:port the Kafka listener tells clients to connect to (default: the address each client connected to; set it behind a port mapping)")
	fs.StringVar(&f.httpAddr, "http", "127.0.0.1:8080", "REST API, /metrics and /healthz listen address (`off` disables)")
	fs.BoolVar(&f.listenAll, "listen-all", false, "listen on every interface instead of loopback (then anonymous access is off and the API needs the access key)")
	fs.BoolVar(&f.allowAnonymous, "allow-anonymous", false, "keep anonymous AMQP access when listening beyond loopback")
	fs.BoolVar(&f.autoRegisterDevices, "auto-register-devices", false, "register a device unknown to the registry at its first MQTT sign-in, and let such devices in unchecked (loopback only)")
	fs.BoolVar(&f.metricsPublic, "metrics-public", false, "serve /metrics without the access key when listening beyond loopback (for a Prometheus that cannot authenticate)")
	fs.StringVar(&f.accessKeyID, "access-key-id", defaultAccessKeyID, "the access key id clients and API callers use")
	fs.StringVar(&f.accessKeySecret, "access-key-secret", defaultAccessKeySecret, "the access key secret")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate chain (PEM) instead of the generated development one")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS private key (PEM) for --tls-cert")
	fs.StringVar(&f.tlsHosts, "tls-hosts", "", "extra host names and IPs for the generated certificate, comma-separated (localhost, 127.0.0.1 and ::1 are always in it)")
	fs.DurationVar(&f.maxSkew, "max-timestamp-skew", 0, "refuse signed sign-ins whose timestamp is further than this from now (0: no window, as the platform's samples need)")
	fs.StringVar(&f.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "", "console or json (default console on a terminal, else json)")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 60*time.Second, "close AMQP connections silent this long (half is advertised)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the server to this file until it stops (go tool pprof)")
	fs.StringVar(&f.memProfile, "memprofile", "", "write an allocation profile of the server to this file when it stops")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: amqpemu [serve] [flags]\n\nFlags (each has an AMQPEMU_* environment twin: --log-level is AMQPEMU_LOG_LEVEL):\n")
		fs.PrintDefaults()
	}
	return fs
}

func parseServeFlags(args []string, stdout, stderr io.Writer) (*serveFlags, error) {
	f := &serveFlags{}
	fs := serveFlagSet(f)
	if err := applyEnv(fs); err != nil {
		return nil, err
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see amqpemu serve --help)", fs.Arg(0))
	}
	if f.kafkaAdvertised != "" {
		if _, port, err := net.SplitHostPort(f.kafkaAdvertised); err != nil || port == "" {
			return nil, fmt.Errorf("--kafka-advertised %q: want host:port", f.kafkaAdvertised)
		}
	}
	if err := checkMaxMessageSize(f.maxMessageSize); err != nil {
		return nil, err
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	if err := checkClusterFlags(f); err != nil {
		return nil, err
	}
	if f.listenAll {
		for _, a := range []*string{&f.amqpAddr, &f.amqpsAddr, &f.stompAddr, &f.stompsAddr, &f.httpAddr, &f.mqttAddr, &f.mqttsAddr, &f.kafkaAddr} {
			if h, p, err := net.SplitHostPort(*a); err == nil && h == "127.0.0.1" {
				*a = net.JoinHostPort("", p)
			}
		}
	}
	return f, nil
}

// maxEngineMessage is the largest --max-message-size: NATS refuses a
// max_payload over 64 MiB, and a stored message carries headers beside
// its payload. The embedded server is started with room for the limit; an
// external one must allow it (broker.Open says so when it does not).
const maxEngineMessage = 63 << 20

// checkClusterFlags refuses cluster flags that cannot work together,
// naming the flags (broker.Open checks the same of its Config).
func checkClusterFlags(f *serveFlags) error {
	switch {
	case f.replicas < 1 || f.replicas > broker.MaxReplicas:
		return fmt.Errorf("--replicas %d: want 1 to %d", f.replicas, broker.MaxReplicas)
	case f.natsURL != "" && (f.clusterListen != "" || f.routes != ""):
		return errors.New("--cluster-listen and --routes cluster the embedded NATS; with --nats-url the cluster is the external one")
	case f.routes != "" && f.clusterListen == "":
		return errors.New("--routes needs --cluster-listen: the other nodes route back to this one there")
	case f.clusterListen != "" && f.serverName == "":
		return errors.New("--cluster-listen needs --server-name, unique among the cluster's nodes")
	case f.natsURL == "" && f.clusterListen == "" && f.replicas > 1:
		return fmt.Errorf("--replicas %d needs a JetStream cluster: --cluster-listen with --routes, or --nats-url of a cluster", f.replicas)
	}
	if f.clusterListen != "" {
		if _, _, err := net.SplitHostPort(f.clusterListen); err != nil {
			return fmt.Errorf("--cluster-listen %q: want host:port: %w", f.clusterListen, err)
		}
	}
	for _, r := range splitList(f.routes) {
		if u, err := url.Parse(r); err != nil || u.Scheme != "nats-route" || u.Port() == "" {
			return fmt.Errorf("--routes: %q: want nats-route://host:port", r)
		}
	}
	return nil
}

func checkMaxMessageSize(n int) error {
	if n < 1 || n > maxEngineMessage {
		return fmt.Errorf("--max-message-size %d: want 1 to %d bytes (NATS carries at most 64 MiB per message, headers included)", n, maxEngineMessage)
	}
	return nil
}

// applyEnv sets each flag from its environment twin: --log-level ← AMQPEMU_LOG_LEVEL.
func applyEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(fl *flag.Flag) {
		name := "AMQPEMU_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := fl.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, e)
			}
		}
	})
	return err
}

func newLogger(f *serveFlags, w *os.File) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(f.logLevel)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("--log-level: %w", err)
	}
	format := f.logFormat
	if format == "" {
		format = "json"
		if isatty.IsTerminal(w.Fd()) {
			format = "console"
		}
	}
	var log zerolog.Logger
	switch format {
	case "json":
		log = zerolog.New(w)
	case "console":
		log = zerolog.New(zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"})
	default:
		return zerolog.Logger{}, fmt.Errorf("--log-format %q: want console or json", format)
	}
	return log.Level(level).With().Timestamp().Logger(), nil
}

// serve runs the broker, the AMQP listeners and the HTTP API until ctx ends.
func serve(ctx context.Context, args []string, stdout, stderr *os.File) error {
	f, err := parseServeFlags(args, stdout, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(f, stderr)
	if err != nil {
		return err
	}
	stopProfiles, err := startProfiles(f)
	if err != nil {
		return err
	}
	defer stopProfiles(log)
	lock, err := lockDataDir(f)
	if err != nil {
		return err
	}
	defer lock.Release()
	listeners, tlsInfo, err := openListeners(f)
	if err != nil {
		return err
	}
	if len(listeners) == 0 {
		return errors.New("every listener is off: nothing to serve")
	}
	defer closeAll(listeners)
	obs, err := newObservability()
	if err != nil {
		return err
	}
	b, err := openBroker(ctx, f, obs.observer, log)
	if err != nil {
		return err
	}
	defer closeBroker(b)
	logRestored(ctx, log, b, f)
	registry := devices.New(b.StateBucket("devices"), b)
	alertEval, stopAlerts, err := startAlerts(ctx, f, b, obs, log)
	if err != nil {
		return err
	}
	defer stopAlerts()
	sampler, err := history.New(history.Config{Source: b, Logger: log})
	if err != nil {
		return err
	}
	sampler.Start()
	defer sampler.Close() // before closeBroker: defers run last first

	exposed := beyondLoopback(listeners)
	// $cbs (Azure SDKs) accepts shared access signatures of the access key.
	backend := brokerbackend.New(b, brokerbackend.WithSASKeys(brokerbackend.SASKey{Name: f.accessKeyID, Key: f.accessKeySecret}),
		brokerbackend.WithLogger(log.With().Str("component", "amqp").Logger()), brokerbackend.WithLockDuration(f.ackWait))
	srv := amqp.NewServer(amqp.Config{
		Backend:        backend,
		Authenticator:  brokerbackend.SignedAuthenticator(verifier(f), amqpAuth(f, exposed)),
		Mechanisms:     saslMechanisms(f, exposed),
		Logger:         log.With().Str("component", "amqp").Logger(),
		Observer:       obs.observer,
		IdleTimeout:    f.idleTimeout,
		MaxMessageSize: uint64(b.MaxMessageSize()),
	})
	stompSrv := stomp.NewServer(stomp.Config{
		Broker:        b,
		Authenticator: stomp.SignedAuthenticator(verifier(f), !exposed || f.allowAnonymous),
		Logger:        log.With().Str("component", "stomp").Logger(),
		Observer:      metrics.NewSTOMPObserver(obs.counters),
	})
	downlinks := downlink.NewRecorder()
	mqttCfg := mqtt.Config{
		Broker:   b,
		Devices:  registry,
		Recorder: downlinks,
		Logger:   log.With().Str("component", "mqtt").Logger(),
	}
	switch {
	case f.autoRegisterDevices && exposed:
		log.Warn().Msg("--auto-register-devices is off: the listeners are open beyond loopback, where every device must sign in with its own secret")
	case f.autoRegisterDevices:
		mqttCfg.AutoRegister = registry.AutoRegister
	}
	devSrv := mqtt.New(mqttCfg)
	kafkaSrv := kafka.NewServer(kafka.Config{Backend: b, Advertised: f.kafkaAdvertised, Logger: log.With().Str("component", "kafka").Logger()})
	if _, on := listeners["kafka"]; on && exposed {
		log.Warn().Msg("the Kafka listener has no authentication: anyone who reaches it reads and writes every topic")
	}
	var ready atomic.Bool
	// /healthz fails until every listener is up, and while the engine is unreachable.
	healthy := func() bool { return ready.Load() && b.Healthy() }
	logs, err := newLogService(ctx, f, b, obs, log)
	if err != nil {
		return err
	}
	defer logs.Close() // before closeBroker
	web, err := newHTTPServer(f, b, obs, alertEval, registry, listeners, exposed, healthy, downlinks, devSrv, sampler, logs, log, kafkaSrv)
	if err != nil {
		return err
	}
	errc := make(chan error, len(listeners))
	var mqttListeners []net.Listener // one mqtt.Server serves both
	for name, ln := range listeners {
		log.Info().Str("listener", name).Str("addr", ln.Addr().String()).Msg("listening")
		switch name {
		case "http":
			go func() { errc <- web.Serve(ln) }()
		case "mqtt", "mqtts":
			mqttListeners = append(mqttListeners, ln)
		case "stomp", "stomps":
			go func() { errc <- stompSrv.Serve(ln) }()
		case "kafka":
			go func() { errc <- kafkaSrv.Serve(ln) }()
		default:
			go func() { errc <- srv.Serve(ln) }()
		}
	}
	if len(mqttListeners) > 0 {
		go func() { errc <- devSrv.Serve(mqttListeners...) }()
	}
	ready.Store(true)
	warnDevKey(log, f, exposed)
	logReady(log, f, exposed, tlsInfo)
	select {
	case <-ctx.Done():
	case err = <-errc:
		log.Error().Err(err).Msg("listener failed")
	}
	log.Info().Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	web.Shutdown(sctx)
	if serr := errors.Join(srv.Shutdown(sctx), stompSrv.Shutdown(sctx), devSrv.Shutdown(sctx), kafkaSrv.Shutdown(sctx)); serr != nil {
		log.Warn().Err(serr).Msg("shutdown timed out")
	}
	return err
}

// lockDataDir checks --data and locks it for the process's life, before
// anything reads or writes it, and makes f.dataDir absolute for the logs.
// With --nats-url the store is elsewhere but the directory still holds the
// generated TLS CA and certificate, which two processes would regenerate
// over each other (one serving a certificate the other's CA did not sign),
// so it is locked then too; give each node its own --data.
func lockDataDir(f *serveFlags) (*datadir.Lock, error) {
	lock, err := datadir.Acquire(f.dataDir)
	if err != nil {
		return nil, err
	}
	f.dataDir = lock.Dir()
	return lock, nil
}

func openBroker(ctx context.Context, f *serveFlags, obs broker.Observer, log zerolog.Logger) (*broker.Broker, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return broker.Open(ctx, broker.Config{
		DataDir: f.dataDir, NATSURLs: splitList(f.natsURL), Replicas: f.replicas,
		ServerName: f.serverName, ClusterName: f.clusterName, ClusterListen: f.clusterListen, Routes: splitList(f.routes),
		Retention: f.retention, AckTimeout: f.ackWait,
		MaxGroups: f.maxGroups, MaxMembers: f.maxMembers, MemberTTL: f.memberTTL, Observer: obs,
		MaxMessageSize: f.maxMessageSize,
		Logger:         log.With().Str("component", "broker").Logger(),
	})
}

func closeBroker(b *broker.Broker) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b.Close(ctx)
}

func logReady(log zerolog.Logger, f *serveFlags, exposed bool, tlsInfo string) {
	engine := "embedded JetStream in " + f.dataDir
	if f.clusterListen != "" {
		engine = fmt.Sprintf("embedded JetStream node %s of cluster %s (routes on %s) in %s", f.serverName, f.clusterName, f.clusterListen, f.dataDir)
	}
	if f.natsURL != "" {
		engine = "NATS at " + f.natsURL
	}
	ev := log.Info().Str("engine", engine).Int("replicas", f.replicas).Str("access_key_id", f.accessKeyID)
	if f.accessKeySecret == defaultAccessKeySecret {
		ev = ev.Str("access_key_secret", f.accessKeySecret) // the public dev secret, printed for convenience
	}
	if tlsInfo != "" {
		ev = ev.Str("tls_ca", tlsInfo)
	}
	ev.Bool("auth_required", exposed).Msg("amqpemu ready")
}

// beyondLoopback reports whether any listener accepts connections from
// other machines: then anonymous access is off and the API needs the key.
func beyondLoopback(lns map[string]net.Listener) bool {
	for _, ln := range lns {
		if ap, err := netip.ParseAddrPort(ln.Addr().String()); err != nil || !ap.Addr().IsLoopback() {
			return true
		}
	}
	return false
}

// amqpAuth accepts anyone on loopback (or with --allow-anonymous); otherwise
// SASL PLAIN with the access key id and secret.
func amqpAuth(f *serveFlags, exposed bool) amqp.Authenticator {
	if !exposed || f.allowAnonymous {
		return amqp.AllowAll
	}
	return amqp.AuthenticatorFunc(func(_ context.Context, c amqp.Credentials) (*amqp.Principal, error) {
		switch { // the reason goes to the log; the client sees only the SASL outcome
		case c.Mechanism != "PLAIN":
			return nil, fmt.Errorf("%w: mechanism %s is off beyond loopback (use PLAIN with the access key, or --allow-anonymous)", amqp.ErrAuthFailed, c.Mechanism)
		case !equalSecret(c.Username, f.accessKeyID):
			return nil, fmt.Errorf("%w: user name is neither the access key id nor a signed user name", amqp.ErrAuthFailed)
		case !equalSecret(c.Password, f.accessKeySecret):
			return nil, fmt.Errorf("%w: wrong password for the access key id", amqp.ErrAuthFailed)
		}
		return &amqp.Principal{Name: c.Username, Mechanism: c.Mechanism}, nil
	})
}

// verifier checks the platform's signed user names against the access key.
func verifier(f *serveFlags) *vendorauth.Verifier {
	return &vendorauth.Verifier{Secret: vendorauth.SingleKey(f.accessKeyID, f.accessKeySecret), MaxSkew: f.maxSkew}
}

// saslMechanisms offers ANONYMOUS only where anonymous access is allowed:
// clients such as Qpid JMS pick a mechanism from what is offered.
func saslMechanisms(f *serveFlags, exposed bool) []string {
	if exposed && !f.allowAnonymous {
		return []string{"PLAIN"}
	}
	return []string{"PLAIN", "ANONYMOUS"}
}

func equalSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
