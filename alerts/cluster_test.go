package alerts_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/alerts"
	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/natstest"
)

// node is one amqpemu node of a cluster: a broker on the shared NATS,
// with its own evaluator, entered for the alerts lease.
type node struct {
	b   *broker.Broker
	src *scripted
	ev  *alerts.Evaluator
}

func openNode(t *testing.T, url, name string) *node {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	b, err := broker.Open(ctxT(t), broker.Config{NATSURLs: []string{url}, ServerName: name, MemberTTL: 1500 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	n := &node{b: b, src: &scripted{Broker: b}}
	n.ev, err = alerts.New(ctxT(t), alerts.Config{
		Source: n.src, Store: b.StateBucket("alerts"), Logger: log,
		UserID: "test-user", Secret: "test-secret", Location: time.UTC, RetryWait: time.Millisecond,
		Now:   func() time.Time { return t0 },
		Leads: func() bool { return b.Leads("alerts") },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.ev.Close(context.Background()) })
	return n
}

// Two amqpemu nodes on one NATS evaluate the same rule, made through one of
// them: the alert fires once, not once per node, and either node shows its
// state. When the leading node stops, the other takes over, from the
// state the first left, and the recovery also fires once.
func TestAlertsOncePerCluster(t *testing.T) {
	ns := natstest.Server(t)
	nodes := []*node{openNode(t, ns.ClientURL(), "a"), openNode(t, ns.ClientURL(), "b")}
	hook := newReceiver(t)
	g, err := nodes[0].b.CreateGroup(ctxT(t), "cluster_app")
	if err != nil {
		t.Fatal(err)
	}
	sp := spec(g.ID, hook.URL+"/hook")
	sp.SilenceTime = ptr(3600) // one ALERT, then the recovery
	r, err := nodes[1].ev.Create(ctxT(t), sp)
	if err != nil {
		t.Fatal(err)
	}
	feed := func(ns []*node, first int, values ...int) {
		t.Helper()
		for k, v := range values {
			for _, n := range ns {
				n.src.set(g.ID, v)
				if err := n.ev.Evaluate(ctxT(t), t0.Add(time.Duration(first+k)*time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, n := range ns {
			if err := n.ev.Flush(ctxT(t)); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantStates := func(want ...string) {
		t.Helper()
		calls := hook.got()
		if len(calls) != len(want) {
			t.Fatalf("%d calls, want %d (%v)", len(calls), len(want), bodies(calls))
		}
		for i, c := range calls {
			if got := c.form(t).Get("alertState"); got != want[i] {
				t.Fatalf("call %d: %q, want %q", i, got, want[i])
			}
		}
	}
	feed(nodes, 0, 150, 150)
	wantStates(alerts.StateAlert)
	for _, n := range nodes {
		st, err := n.ev.Get(ctxT(t), r.ID)
		if err != nil || len(st.Groups) != 1 || st.Groups[0].State != alerts.StateAlert {
			t.Fatalf("node %s: %+v, %v", n.b.Node(), st, err)
		}
	}
	leader, other := nodes[0], nodes[1]
	if other.b.Leads("alerts") {
		leader, other = other, leader
	}
	if err := leader.ev.Close(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	leader.b.Close(ctxT(t))
	deadline := time.Now().Add(10 * time.Second)
	for !other.b.Leads("alerts") {
		if time.Now().After(deadline) {
			t.Fatal("the other node did not take the alerts lease within 10s")
		}
		time.Sleep(50 * time.Millisecond) // the lease is taken at its renewal round
	}
	feed([]*node{other}, 2, 150, 10, 10)
	wantStates(alerts.StateAlert, alerts.StateOK)
}
