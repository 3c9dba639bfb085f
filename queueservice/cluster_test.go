package queueservice

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/natstest"
)

// TestQueueTwoNodes: two amqpemu nodes (brokers) on one external NATS
// JetStream server share the queues and groups: what one node made the
// other lists, a handler one node handed out the other acknowledges, and
// the consumers of a group on both nodes share its messages, each once.
func TestQueueTwoNodes(t *testing.T) {
	ns := natstest.Server(t)
	node := func() *client {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		b, err := broker.Open(ctx, broker.Config{NATSURLs: []string{ns.ClientURL()}, Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close(context.Background()) })
		hs, _ := startServer(t, b, func(c *Config) { c.AckWait = 2 * time.Second })
		return newClient(t, hs)
	}
	a, b := node(), node()
	q := a.createQueue("shared")
	g := b.createGroups(q, "workers")[0]
	var list GroupList
	a.ok(200, &list, "GET", a.base()+"/"+q+"/groups", nil, nil)
	if len(list.Groups) != 1 || list.Groups[0].ID != g {
		t.Fatalf("node a lists %+v, want the group node b made", list.Groups)
	}
	a.send(q, "m1", "m2", "m3", "m4")
	onA := a.consumeN(q, g, 2, 5)
	onB := b.consumeN(q, g, 2, 5)
	all := append(bodies(onA), bodies(onB)...)
	slices.Sort(all)
	if !slices.Equal(all, []string{"m1", "m2", "m3", "m4"}) {
		t.Fatalf("the nodes got %v and %v, want m1..m4 once between them", bodies(onA), bodies(onB))
	}
	// Each node acknowledges the other's handlers.
	if res := b.ack(q, g, "success", onA...); res != (AckResult{Success: 2}) {
		t.Errorf("b acking a's: %+v", res)
	}
	if res := a.ack(q, g, "success", onB...); res != (AckResult{Success: 2}) {
		t.Errorf("a acking b's: %+v", res)
	}
	// Nothing comes again, past the ack wait, on either node.
	if again := a.consume(q, g, 10, 3); len(again) != 0 {
		t.Errorf("a got %v again", bodies(again))
	}
	if again := b.consume(q, g, 10, 1); len(again) != 0 {
		t.Errorf("b got %v again", bodies(again))
	}
}
