package stomp_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/stomp"
	"github.com/rs/zerolog"
)

// logBuffer collects zerolog's JSON lines; the server writes from several
// goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// entries returns the lines logged so far whose message is msg.
func (b *logBuffer) entries(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["message"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// wait polls until a line with message msg is logged and returns it.
func (b *logBuffer) wait(t *testing.T, msg string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		if e := b.entries(t, msg); len(e) > 0 {
			return e[0]
		}
		time.Sleep(5 * time.Millisecond) // polling the log
	}
	t.Fatalf("nothing logged as %q", msg)
	return nil
}

func checkFields(t *testing.T, entry map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if entry[k] != v {
			t.Errorf("%q logged %s = %v, want %v (all: %v)", entry["message"], k, entry[k], v, entry)
		}
	}
}

// Connections and subscriptions are logged at info level: connected with
// the remote address, version, client id and group; subscribed with the
// destination and group; closed with the reason.
func TestInfoLogging(t *testing.T) {
	logs := &logBuffer{}
	e := start(t, withConfig(func(c *stomp.Config) { c.Logger = zerolog.New(logs).Level(zerolog.InfoLevel) }))
	c := dial(t, e.addr)
	user, pass := signedLogin(t, "logged-1", broker.DefaultGroupID, "")
	c.connect(user, pass)
	c.subscribe("client-individual")
	c.send("UNSUBSCRIBE", "id", "1", "receipt", "u")
	c.expectReceipt("u")
	c.send("DISCONNECT", "receipt", "bye")
	c.expectReceipt("bye")
	c.expectClosed()
	common := map[string]any{"level": "info", "remote": c.nc.LocalAddr().String(), "client": "logged-1", "group": broker.DefaultGroupID}
	checkFields(t, logs.wait(t, "connected"), merge(common, map[string]any{"version": "1.2"}))
	checkFields(t, logs.wait(t, "subscribed"), merge(common, map[string]any{"destination": "/topic/#", "subscription": "1"}))
	checkFields(t, logs.wait(t, "unsubscribed"), merge(common, map[string]any{"subscription": "1"}))
	checkFields(t, logs.wait(t, "connection closed"), merge(common, map[string]any{"reason": "client disconnected"}))

	// A refused subscription: the reason is the ERROR frame's message.
	d := dial(t, e.addr)
	user, pass = signedLogin(t, "logged-2", "nosuchgroup000100", "")
	d.connect(user, pass)
	d.send("SUBSCRIBE", "id", "1", "destination", "/topic/#")
	d.expectError("does not exist")
	deadline := time.Now().Add(waitLong)
	for len(logs.entries(t, "connection closed")) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the log
	}
	closed := logs.entries(t, "connection closed")
	if len(closed) != 2 {
		t.Fatalf("%d connections logged as closed, want 2", len(closed))
	}
	checkFields(t, closed[1], map[string]any{"level": "info", "client": "logged-2", "group": "nosuchgroup000100",
		"reason": `consumer group "nosuchgroup000100" does not exist (the consumerGroupId of the user name)`, "error_frame": true})
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
