package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"github.com/amqpemu/amqpemu/devtls"
	"github.com/amqpemu/amqpemu/internal/sniff"
)

// listenerSpec is one listener the flags may ask for. With sniff, it
// serves TLS and plain TCP on one port (as the platform's MQTT 1883 does).
type listenerSpec struct {
	name, flag, addr string
	tls, sniff       bool
}

func listenerSpecs(f *serveFlags) []listenerSpec {
	return []listenerSpec{
		{"amqp", "--amqp", f.amqpAddr, false, false},
		{"amqps", "--amqps", f.amqpsAddr, true, false},
		{"stomp", "--stomp", f.stompAddr, false, false},
		{"stomps", "--stomps", f.stompsAddr, true, false},
		{"http", "--http", f.httpAddr, false, false},
		{"mqtt", "--mqtt", f.mqttAddr, false, true},
		{"mqtts", "--mqtts", f.mqttsAddr, true, false},
		{"kafka", "--kafka", f.kafkaAddr, false, false},
	}
}

// openListeners opens every listener that is not `off`. TLS listeners use
// --tls-cert/--tls-key, or the development CA and certificate kept in
// DATA/tls; the second result is the CA file users trust, if generated.
// Every listener is tried, so one error reports every address that failed.
func openListeners(f *serveFlags) (map[string]net.Listener, string, error) {
	var tlsConf *tls.Config
	var caFile string
	for _, spec := range listenerSpecs(f) {
		if (spec.tls || spec.sniff) && spec.addr != "off" {
			var err error
			if tlsConf, caFile, err = loadTLS(f); err != nil {
				return nil, "", err
			}
			break
		}
	}
	out := map[string]net.Listener{}
	var failed listenError
	for _, spec := range listenerSpecs(f) {
		if spec.addr == "off" {
			continue
		}
		ln, err := net.Listen("tcp", spec.addr)
		if err != nil {
			failed = append(failed, listenFailure{spec, err})
			continue
		}
		switch {
		case spec.tls:
			ln = tls.NewListener(ln, tlsConf)
		case spec.sniff:
			ln = sniff.Listener(ln, tlsConf)
		}
		out[spec.name] = ln
	}
	if len(failed) > 0 {
		closeAll(out)
		return nil, "", failed
	}
	return out, caFile, nil
}

// listenFailure is one listener that could not be opened.
type listenFailure struct {
	spec listenerSpec
	err  error
}

// listenError lists every listener that could not be opened.
type listenError []listenFailure

func (e listenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot listen on %d address(es):", len(e))
	for _, f := range e {
		fmt.Fprintf(&b, "\n  %s %s (%s): %v", f.spec.flag, f.spec.addr, f.spec.name, cause(f.err))
	}
	b.WriteString("\n(give port 0, e.g. --amqp 127.0.0.1:0, to pick a free port, or `off` to disable a listener)")
	return b.String()
}

// Unwrap gives errors.Is and errors.As every failure.
func (e listenError) Unwrap() []error {
	out := make([]error, len(e))
	for i, f := range e {
		out[i] = f.err
	}
	return out
}

// cause drops what the failure line already says (the operation and the
// address) from net.Listen's error.
func cause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// loadTLS reads the user's certificate or makes sure the development one
// exists and covers --tls-hosts.
func loadTLS(f *serveFlags) (*tls.Config, string, error) {
	if f.tlsCert != "" {
		m, err := devtls.LoadKeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return nil, "", fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		return m.ServerConfig(), "", nil
	}
	m, err := devtls.Ensure(filepath.Join(f.dataDir, "tls"), splitList(f.tlsHosts))
	if err != nil {
		return nil, "", fmt.Errorf("development TLS certificate: %w", err)
	}
	return m.ServerConfig(), m.CAFile, nil
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func closeAll(lns map[string]net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}
