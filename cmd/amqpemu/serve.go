package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/brokerbackend"
	"github.com/amqpemu/amqpemu/broker"
)

// serveFlags are the flags of `amqpemu serve`; each has an AMQPEMU_* twin.
type serveFlags struct {
	dataDir, natsURL    string
	retention, ackWait  time.Duration
	maxGroups           int
	maxMembers          int
	amqpAddr, amqpsAddr string
	tlsCert, tlsKey     string
	logLevel, logFormat string
	idleTimeout         time.Duration
}

func parseServeFlags(args []string, stderr *os.File) (*serveFlags, error) {
	f := &serveFlags{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.dataDir, "data", "./amqpemu-data", "JetStream store and state (embedded server)")
	fs.StringVar(&f.natsURL, "nats-url", "", "use an external NATS JetStream server or cluster instead of the embedded one")
	fs.DurationVar(&f.retention, "retention", 24*time.Hour, "how long device messages are kept")
	fs.DurationVar(&f.ackWait, "ack-timeout", 30*time.Second, "unsettled messages are redelivered after this")
	fs.IntVar(&f.maxGroups, "max-groups", 1000, "consumer groups at most")
	fs.IntVar(&f.maxMembers, "max-clients", 64, "online clients per consumer group at most")
	fs.StringVar(&f.amqpAddr, "amqp", "127.0.0.1:5672", "AMQP 1.0 listen address, plain TCP (`off` disables; port 0 picks one)")
	fs.StringVar(&f.amqpsAddr, "amqps", "127.0.0.1:5671", "AMQP 1.0 over TLS listen address (needs --tls-cert and --tls-key for now)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate (PEM)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS private key (PEM)")
	fs.StringVar(&f.logLevel, "log-level", "info", "trace, debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "", "console or json (default console on a terminal, else json)")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 60*time.Second, "close AMQP connections silent this long (half is advertised)")
	if err := applyEnv(fs); err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return f, nil
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

// serve runs the broker and the AMQP listeners until ctx ends.
func serve(ctx context.Context, args []string, stderr *os.File) error {
	f, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(f, stderr)
	if err != nil {
		return err
	}
	ctx0, cancel0 := context.WithTimeout(ctx, 60*time.Second)
	b, err := broker.Open(ctx0, broker.Config{
		DataDir: f.dataDir, NATSURL: f.natsURL, Retention: f.retention, AckTimeout: f.ackWait,
		MaxGroups: f.maxGroups, MaxMembers: f.maxMembers,
		Logger: log.With().Str("component", "broker").Logger(),
	})
	cancel0()
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b.Close(cctx)
	}()
	srv := amqp.NewServer(amqp.Config{
		Backend:     brokerbackend.New(b),
		Logger:      log.With().Str("component", "amqp").Logger(),
		IdleTimeout: f.idleTimeout,
	})
	listeners, err := openListeners(f)
	if err != nil {
		return err
	}
	if len(listeners) == 0 {
		return errors.New("every listener is off: nothing to serve")
	}
	errc := make(chan error, len(listeners))
	for name, ln := range listeners {
		log.Info().Str("listener", name).Str("addr", ln.Addr().String()).Msg("listening")
		go func() { errc <- srv.Serve(ln) }()
	}
	engine := "embedded JetStream in " + f.dataDir
	if f.natsURL != "" {
		engine = "NATS at " + f.natsURL
	}
	log.Info().Str("engine", engine).Msg("amqpemu ready")
	select {
	case <-ctx.Done():
	case err = <-errc:
		log.Error().Err(err).Msg("listener failed")
	}
	log.Info().Msg("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		log.Warn().Err(serr).Msg("shutdown timed out")
	}
	return err
}

// openListeners opens the plain and TLS AMQP listeners the flags ask for.
func openListeners(f *serveFlags) (map[string]net.Listener, error) {
	out := map[string]net.Listener{}
	if f.amqpAddr != "off" {
		ln, err := net.Listen("tcp", f.amqpAddr)
		if err != nil {
			return nil, fmt.Errorf("--amqp: %w", err)
		}
		out["amqp"] = ln
	}
	if f.amqpsAddr != "off" && (f.tlsCert != "" || f.tlsKey != "") {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		ln, err := tls.Listen("tcp", f.amqpsAddr, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("--amqps: %w", err)
		}
		out["amqps"] = ln
	}
	return out, nil
}

func closeAll(lns map[string]net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}
