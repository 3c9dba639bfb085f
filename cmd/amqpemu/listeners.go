package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"github.com/amqpemu/amqpemu/devtls"
)

// listenerSpec is one listener the flags may ask for.
type listenerSpec struct {
	name, flag, addr string
	tls              bool
}

func listenerSpecs(f *serveFlags) []listenerSpec {
	return []listenerSpec{
		{"amqp", "--amqp", f.amqpAddr, false},
		{"amqps", "--amqps", f.amqpsAddr, true},
		{"stomp", "--stomp", f.stompAddr, false},
		{"stomps", "--stomps", f.stompsAddr, true},
		{"http", "--http", f.httpAddr, false},
	}
}

// openListeners opens every listener that is not `off`. TLS listeners use
// --tls-cert/--tls-key, or the development CA and certificate kept in
// DATA/tls; the second result is the CA file users trust, if generated.
func openListeners(f *serveFlags) (map[string]net.Listener, string, error) {
	var tlsConf *tls.Config
	var caFile string
	out := map[string]net.Listener{}
	for _, spec := range listenerSpecs(f) {
		if spec.addr == "off" {
			continue
		}
		ln, err := net.Listen("tcp", spec.addr)
		if err != nil {
			closeAll(out)
			return nil, "", fmt.Errorf("%s: %w", spec.flag, err)
		}
		if spec.tls {
			if tlsConf == nil {
				if tlsConf, caFile, err = loadTLS(f); err != nil {
					ln.Close()
					closeAll(out)
					return nil, "", err
				}
			}
			ln = tls.NewListener(ln, tlsConf)
		}
		out[spec.name] = ln
	}
	return out, caFile, nil
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
