package amqp_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/frames"
	"github.com/amqpemu/amqpemu/internal/testlog"
)

// waitLine waits for an entry with message msg whose fields include want.
func waitLine(t *testing.T, b *testlog.Buffer, msg string, want map[string]any) map[string]any {
	t.Helper()
	var seen []map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		seen = b.Entries(t, msg)
	next:
		for _, e := range seen {
			for k, v := range want {
				if s, ok := v.(string); ok && strings.HasPrefix(s, "~") {
					if got, _ := e[k].(string); !strings.Contains(got, s[1:]) {
						continue next
					}
				} else if e[k] != v {
					continue next
				}
			}
			return e
		}
		time.Sleep(10 * time.Millisecond) // polling the log, written from the server's goroutines
	}
	t.Fatalf("no %q log line with %v; got %v", msg, want, seen)
	return nil
}

func logServer(t *testing.T, mods ...func(*amqp.Config)) (*testServer, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	mods = append([]func(*amqp.Config){func(c *amqp.Config) { c.Logger = zerolog.New(logs).Level(zerolog.InfoLevel) }}, mods...)
	return startServer(t, mods...), logs
}

// TestConnectionAndLinkLogging: connections and links are logged at info:
// opened with container id, mechanism and user; links attached with handle,
// role and address, detached by whom and why; the connection closed and why.
func TestConnectionAndLinkLogging(t *testing.T) {
	ts, logs := logServer(t, func(c *amqp.Config) { c.MaxMessageSize = 1000 })
	ctx := ctxT(t)
	conn, err := goamqp.Dial(ctx, "amqp://"+ts.addr, &goamqp.ConnOptions{ContainerID: "log-test", SASLType: goamqp.SASLTypePlain("alice", "pw")})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.NewSender(ctx, "logq", nil); err != nil {
		t.Fatal(err)
	}
	rcv, err := sess.NewReceiver(ctx, "logq", nil)
	if err != nil {
		t.Fatal(err)
	}
	rcv.Close(ctx)
	conn.Close()
	opened := waitLine(t, logs, "connection opened", map[string]any{"container": "log-test", "mechanism": "PLAIN", "user": "alice", "level": "info"})
	if opened["remote"] == nil {
		t.Errorf("connection opened without the remote address: %v", opened)
	}
	waitLine(t, logs, "link attached", map[string]any{"role": "sender", "address": "logq", "handle": float64(0), "level": "info"})
	waitLine(t, logs, "link attached", map[string]any{"role": "receiver", "address": "logq", "handle": float64(1)})
	waitLine(t, logs, "link detached", map[string]any{"by": "client", "handle": float64(1), "level": "info"})
	waitLine(t, logs, "connection closed", map[string]any{"by": "client", "container": "log-test", "level": "info"})

	// A link the server detaches, and a client that closes with an error.
	p := dialRaw(t, ts.addr)
	p.openConn(t)
	p.begin(t, 0)
	p.attachSender(t, 0, 0, "q")
	first := firstTransfer(0, 0)
	first.More = true
	p.sendTransfer(t, 0, first, bytes.Repeat([]byte("x"), 600))
	p.sendTransfer(t, 0, &frames.Transfer{Handle: 0}, bytes.Repeat([]byte("x"), 600))
	p.expectDetach(t, 0, frames.ErrCondMessageSizeExceeded)
	waitLine(t, logs, "link detached", map[string]any{"by": "server", "condition": string(frames.ErrCondMessageSizeExceeded), "description": "~1000 bytes"})
	p.send(t, 0, &frames.Close{Error: &frames.Error{Condition: frames.ErrCondInternalError, Description: "client gave up"}})
	p.expectClose(t, "")
	waitLine(t, logs, "connection closed", map[string]any{"by": "client", "container": "raw-peer", "condition": string(frames.ErrCondInternalError), "description": "client gave up"})
}

// TestSASLFailureLogged: a refused or malformed PLAIN sign-in logs why, with
// the mechanism and user name.
func TestSASLFailureLogged(t *testing.T) {
	ts, logs := logServer(t, func(c *amqp.Config) {
		c.Authenticator = amqp.AuthenticatorFunc(func(_ context.Context, cr amqp.Credentials) (*amqp.Principal, error) {
			if cr.Username == "mallory" {
				return nil, amqp.ErrAuthFailed
			}
			return &amqp.Principal{Name: cr.Username, Mechanism: cr.Mechanism}, nil
		})
	})
	for _, tc := range []struct {
		init *frames.SASLInit
		want map[string]any
	}{
		{&frames.SASLInit{Mechanism: "PLAIN", InitialResponse: []byte("\x00mallory\x00pw")},
			map[string]any{"mechanism": "PLAIN", "user": "mallory", "error": "~authentication failed", "level": "info"}},
		{&frames.SASLInit{Mechanism: "PLAIN", InitialResponse: []byte("no-nul-at-all")},
			map[string]any{"mechanism": "PLAIN", "error": "~1 NUL-separated parts"}},
		{&frames.SASLInit{Mechanism: "CRAM-MD5"},
			map[string]any{"mechanism": "CRAM-MD5", "error": "~not offered"}},
	} {
		p := dialRaw(t, ts.addr)
		p.writeHeader(t, frames.ProtocolSASL)
		p.expectHeader(t, frames.ProtocolSASL)
		p.expectFrame(t) // mechanisms
		p.sendSASL(t, tc.init)
		if o, ok := p.expectFrame(t).body.(*frames.SASLOutcome); !ok || o.Code != frames.SASLAuth {
			t.Fatalf("expected sasl-outcome auth, got %v", o)
		}
		waitLine(t, logs, "connection refused", tc.want)
	}
}
