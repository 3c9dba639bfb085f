package brokerbackend_test

import (
	"testing"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/testlog"
)

// TestMisspelledGroupLogged: a receiver whose source names no consumer
// group gets a generic queue; the first one logs that at info, so a
// misspelled DEFAULT_GRUOP does not wait in silence. The attach log names
// what each link joined.
func TestMisspelledGroupLogged(t *testing.T) {
	logs := &testlog.Buffer{}
	e := startB(t, func(c *amqp.Config) { c.Logger = zerolog.New(logs).Level(zerolog.InfoLevel) })
	_, sess := e.session(t)
	ctx := ctxT(t)
	for range 2 {
		if _, err := sess.NewReceiver(ctx, "DEFAULT_GRUOP", nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sess.NewReceiver(ctx, broker.DefaultGroupID, nil); err != nil {
		t.Fatal(err)
	}
	const msg = "no consumer group DEFAULT_GRUOP: serving generic queue DEFAULT_GRUOP"
	got := logs.Entries(t, msg)
	if len(got) != 1 || got[0]["level"] != "info" || got[0]["address"] != "DEFAULT_GRUOP" || got[0]["remote"] == nil {
		t.Fatalf("log lines %q: %v, want one at info with the address and the connection's fields", msg, got)
	}
	nodes := map[any]int{}
	for _, l := range logs.Entries(t, "link attached") {
		nodes[l["node"]]++
	}
	if nodes["generic queue DEFAULT_GRUOP"] != 2 || nodes["group "+broker.DefaultGroupID] != 1 {
		t.Fatalf("link attached nodes %v, want 2 generic queue DEFAULT_GRUOP and 1 group DEFAULT_GROUP", nodes)
	}
}
