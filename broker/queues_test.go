package broker

import (
	"sync"
	"testing"
	"time"
)

// queueCounter is an Observer that also takes generic queue traffic.
type queueCounter struct {
	mu             sync.Mutex
	groups, queues map[string]int
	groupA, queueA map[string]int
}

func newQueueCounter() *queueCounter {
	return &queueCounter{groups: map[string]int{}, queues: map[string]int{}, groupA: map[string]int{}, queueA: map[string]int{}}
}

func (c *queueCounter) Delivered(l string, _ bool) { c.mu.Lock(); c.groups[l]++; c.mu.Unlock() }
func (c *queueCounter) Settled(l string, o Outcome) {
	c.mu.Lock()
	if o == Ack {
		c.groupA[l]++
	}
	c.mu.Unlock()
}
func (c *queueCounter) QueueDelivered(a string, _ bool) { c.mu.Lock(); c.queues[a]++; c.mu.Unlock() }
func (c *queueCounter) QueueSettled(a string, o Outcome) {
	c.mu.Lock()
	if o == Ack {
		c.queueA[a]++
	}
	c.mu.Unlock()
}

// A misspelled group name becomes a generic queue: it is listed apart from
// the groups, with its backlog and clients, and its traffic is observed as
// a queue's.
func TestQueuesListedApart(t *testing.T) {
	obs := newQueueCounter()
	b := openBroker(t, t.TempDir(), func(c *Config) { c.Observer = obs })
	ctx := ctxT(t)
	if err := b.PublishQueue(ctx, "DEFAULT_GRUOP", []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := b.PublishQueue(ctx, "orders/eu", []byte("b")); err != nil {
		t.Fatal(err)
	}
	var qs []QueueInfo
	waitFor(t, func() bool { // the consumer's pending count follows the store shortly after
		var err error
		qs, err = b.Queues(ctx)
		return err == nil && len(qs) == 2 && qs[0] == (QueueInfo{Address: "DEFAULT_GRUOP", Accumulation: 1}) && qs[1].Address == "orders/eu"
	})
	groups, err := b.Groups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].ID != DefaultGroupID {
		t.Fatalf("groups %+v: a queue is listed as a group", groups)
	}

	in := make(inbox, 10)
	m, err := b.JoinQueue(ctx, "DEFAULT_GRUOP", MemberInfo{ClientID: "c"}, in)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	m.Credit(5)
	m.Settle(in.next(t).Token, Ack)
	waitFor(t, func() bool {
		qs, err := b.Queues(ctx)
		return err == nil && qs[0].Accumulation == 0 && qs[0].OnlineClients == 1
	})
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.queues["DEFAULT_GRUOP"] != 1 || obs.queueA["DEFAULT_GRUOP"] != 1 || len(obs.groups) != 0 {
		t.Fatalf("observed queues %v acks %v groups %v", obs.queues, obs.queueA, obs.groups)
	}
}

// waitFor polls cond (state the server updates asynchronously) for 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ingestCounter counts what the broker reports as ingested.
type ingestCounter struct {
	noObserver
	mu sync.Mutex
	n  int
}

func (c *ingestCounter) Ingested(n int) { c.mu.Lock(); c.n += n; c.mu.Unlock() }

func (c *ingestCounter) get() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// Ingest is counted in the broker, whichever front end stored the message
// (the HTTP API uses Publish, AMQP senders PublishAsync); generic queue
// messages are not device messages and do not count.
func TestIngestCounted(t *testing.T) {
	obs := &ingestCounter{}
	b := openBroker(t, t.TempDir(), func(c *Config) { c.Observer = obs })
	publish(t, b, "pk", 2)
	done := make(chan error, 1)
	if err := b.PublishAsync(DeviceMessage{ProductKey: "pk", DeviceName: "d"}, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := b.PublishQueue(ctxT(t), "q", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := obs.get(); got != 3 {
		t.Fatalf("ingested %d, want 3", got)
	}
}
