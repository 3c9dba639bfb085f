package memqueue

import (
	"context"
	"sync"
	"testing"

	"github.com/amqpemu/amqpemu/amqp"
)

// sink records deliveries; gone makes Deliver refuse, like a closed link.
type sink struct {
	mu      sync.Mutex
	got     []amqp.Delivery
	drained int
	gone    bool
}

func (s *sink) Deliver(d amqp.Delivery) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return false
	}
	s.got = append(s.got, d)
	return true
}

func (s *sink) DeliverBatch(ds []amqp.Delivery) bool {
	for _, d := range ds {
		if !s.Deliver(d) {
			return false
		}
	}
	return true
}

func (s *sink) Drained() { s.mu.Lock(); s.drained++; s.mu.Unlock() }

func publish(t *testing.T, b *Backend, addr string, bodies ...string) {
	t.Helper()
	p, err := b.OpenProducer(context.Background(), amqp.LinkRequest{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range bodies {
		var outcome amqp.Outcome
		p.Publish([]byte(body), 0, func(o amqp.Outcome) { outcome = o })
		if outcome.Kind != amqp.Accepted {
			t.Fatalf("publish outcome %v", outcome.Kind)
		}
	}
}

func consume(t *testing.T, b *Backend, addr string) (amqp.Consumer, *sink) {
	t.Helper()
	s := &sink{}
	c, err := b.OpenConsumer(context.Background(), amqp.LinkRequest{Address: addr}, s)
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

func TestDeliversOnlyWithinCredit(t *testing.T) {
	b := New()
	publish(t, b, "q", "a", "b", "c")
	c, s := consume(t, b, "q")
	c.Flow(2, false)
	if len(s.got) != 2 || string(s.got[0].Message) != "a" || string(s.got[1].Message) != "b" {
		t.Fatalf("got %v", s.got)
	}
	c.Flow(4, true) // drain: delivers what it has, then Drained
	if len(s.got) != 3 || s.drained != 1 {
		t.Fatalf("after drain: %d deliveries, drained %d", len(s.got), s.drained)
	}
	publish(t, b, "q", "d")
	if len(s.got) != 3 {
		t.Fatal("delivered without credit after a drain")
	}
}

func TestOutcomes(t *testing.T) {
	b := New()
	publish(t, b, "q", "a", "b", "c")
	c, s := consume(t, b, "q")
	c.Flow(3, false)
	c.Settle([]uint64{s.got[0].ID}, amqp.Outcome{Kind: amqp.Accepted})
	c.Settle([]uint64{s.got[1].ID}, amqp.Outcome{Kind: amqp.Rejected})
	c.Settle([]uint64{s.got[2].ID}, amqp.Outcome{Kind: amqp.Released})
	if w, u := b.Depth("q"); w != 1 || u != 0 {
		t.Fatalf("depth %d/%d, want the released message waiting", w, u)
	}
	c.Flow(4, false)
	if len(s.got) != 4 || string(s.got[3].Message) != "c" {
		t.Fatalf("released message not redelivered: %v", s.got)
	}
	st := b.Stats()
	if st.Accepted != 1 || st.Rejected != 1 || st.Released != 1 || st.Redelivered != 1 || st.Delivered != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCloseHandsBackUnsettled(t *testing.T) {
	b := New()
	publish(t, b, "q", "a", "b")
	c1, s1 := consume(t, b, "q")
	c1.Flow(2, false)
	c2, s2 := consume(t, b, "q")
	c2.Flow(5, false)
	if len(s1.got) != 2 || len(s2.got) != 0 {
		t.Fatalf("deliveries %d/%d", len(s1.got), len(s2.got))
	}
	c1.Close()
	if len(s2.got) != 2 {
		t.Fatalf("the other consumer got %d of the closed one's 2", len(s2.got))
	}
}

func TestRefusedDeliveryStaysQueued(t *testing.T) {
	b := New()
	c, s := consume(t, b, "q")
	c.Flow(1, false)
	s.gone = true
	publish(t, b, "q", "a")
	if w, _ := b.Depth("q"); w != 1 {
		t.Fatalf("waiting %d, want the refused message back in the queue", w)
	}
}

// TestRandomAmongConsumersWithCredit: each message goes to one consumer
// chosen at random among those with credit (a loose statistical check).
func TestRandomAmongConsumersWithCredit(t *testing.T) {
	b := New()
	var sinks []*sink
	for range 4 {
		c, s := consume(t, b, "q")
		c.Flow(10000, false)
		sinks = append(sinks, s)
	}
	_, idle := consume(t, b, "q") // no credit: must get nothing
	const n = 4000
	for range n {
		publish(t, b, "q", "m")
	}
	for i, s := range sinks {
		// Expected 1000 each; 800 is more than 6 standard deviations below.
		if len(s.got) < 800 {
			t.Errorf("consumer %d got %d of %d", i, len(s.got), n)
		}
	}
	if len(idle.got) != 0 {
		t.Errorf("a consumer without credit got %d", len(idle.got))
	}
}
