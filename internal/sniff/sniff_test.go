package sniff

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/amqpemu/amqpemu/devtls"
)

// TestPlainAndTLSOnOnePort: an echo server behind Listener answers a plain
// client and a TLS client (which verifies the certificate) on the same
// port, and a client that never sends does not stop the others.
func TestPlainAndTLSOnOnePort(t *testing.T) {
	dir := t.TempDir()
	m, err := devtls.Ensure(filepath.Join(dir, "tls"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(m.CertFile, m.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Listener(raw, &tls.Config{Certificates: []tls.Certificate{cert}})
	defer ln.Close()
	kinds := make(chan bool, 3)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					return
				}
				kinds <- c.(*conn).TLS()
				io.WriteString(c, "echo "+line)
			}()
		}
	}()

	silent, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	plain, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	roundTrip(t, plain, "\x10plain\n", false, kinds)

	pool := x509.NewCertPool()
	ca, err := os.ReadFile(m.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(ca)
	secure, err := tls.Dial("tcp", raw.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer secure.Close()
	roundTrip(t, secure, "secure\n", true, kinds)
}

func roundTrip(t *testing.T, c net.Conn, line string, wantTLS bool, kinds chan bool) {
	t.Helper()
	if _, err := io.WriteString(c, line); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != "echo "+line {
		t.Fatalf("answer %q, %v", got, err)
	}
	if isTLS := <-kinds; isTLS != wantTLS {
		t.Fatalf("served as TLS %v, want %v", isTLS, wantTLS)
	}
}
