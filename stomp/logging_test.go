package stomp_test

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/testlog"
	"github.com/amqpemu/amqpemu/stomp"
)

// waitLogged polls until a line with message msg is logged and returns it.
func waitLogged(t *testing.T, b *testlog.Buffer, msg string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		if e := b.Entries(t, msg); len(e) > 0 {
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
	logs := &testlog.Buffer{}
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
	checkFields(t, waitLogged(t, logs, "connected"), merge(common, map[string]any{"version": "1.2"}))
	checkFields(t, waitLogged(t, logs, "subscribed"), merge(common, map[string]any{"destination": "/topic/#", "subscription": "1"}))
	checkFields(t, waitLogged(t, logs, "unsubscribed"), merge(common, map[string]any{"subscription": "1"}))
	checkFields(t, waitLogged(t, logs, "connection closed"), merge(common, map[string]any{"reason": "client disconnected"}))

	// A refused subscription: the reason is the ERROR frame's message.
	d := dial(t, e.addr)
	user, pass = signedLogin(t, "logged-2", "nosuchgroup000100", "")
	d.connect(user, pass)
	d.send("SUBSCRIBE", "id", "1", "destination", "/topic/#")
	d.expectError("does not exist")
	deadline := time.Now().Add(waitLong)
	for len(logs.Entries(t, "connection closed")) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the log
	}
	closed := logs.Entries(t, "connection closed")
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
