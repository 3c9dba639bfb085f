package amqp_test

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/memqueue"
)

// testServer is a Server on 127.0.0.1:0 with an in-memory backend.
type testServer struct {
	*amqp.Server
	addr    string
	backend *memqueue.Backend
}

// startServer starts a server for the test and shuts it down at cleanup.
func startServer(t testing.TB, mod ...func(*amqp.Config)) *testServer {
	t.Helper()
	be := memqueue.New()
	cfg := amqp.Config{Backend: be, Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(testLogLevel())}
	for _, m := range mod {
		m(&cfg)
	}
	srv := amqp.NewServer(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != amqp.ErrServerClosed {
			t.Errorf("Serve returned %v", err)
		}
	})
	return &testServer{Server: srv, addr: ln.Addr().String(), backend: be}
}

// newTestServer returns the address of a fresh server (used by the interop test).
func newTestServer(t *testing.T) string { return startServer(t).addr }

// dial opens a go-amqp connection and a session to the server.
func dial(t *testing.T, ts *testServer, opts *goamqp.ConnOptions) (*goamqp.Conn, *goamqp.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := goamqp.Dial(ctx, "amqp://"+ts.addr, opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	return conn, sess
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testLogLevel is warn, or trace when AMQPEMU_TRACE is set (frame-by-frame logs).
func testLogLevel() zerolog.Level {
	if os.Getenv("AMQPEMU_TRACE") != "" {
		return zerolog.TraceLevel
	}
	return zerolog.WarnLevel
}
