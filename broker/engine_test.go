package broker

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/internal/testlog"
)

// waitHealthy waits for the engine connection to be back.
func waitHealthy(t *testing.T, b *Broker) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !b.Healthy() {
		if time.Now().After(deadline) {
			t.Fatal("the engine connection did not come back within 20s")
		}
		time.Sleep(20 * time.Millisecond) // polling a state; there is no event to wait for from outside
	}
}

// The embedded server closes a connection that sends a protocol line over
// its limit (the fault a long name once caused). The broker must dial
// again, and its dispatchers, subscription routing and API must resume.
func TestEngineConnectionLostAndRestored(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	g, err := b.CreateGroup(ctx, "after_loss")
	if err != nil {
		t.Fatal(err)
	}
	m, in := join(t, b, DefaultGroupID, 100)
	publish(t, b, "pk1", 1)
	m.Settle(in.next(t).Token, Ack)

	old := b.e()
	// The real fault: a subject over the server's max control line.
	old.nc.Publish(strings.Repeat("x", 5000), nil)
	select {
	case <-old.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not close the connection")
	}
	waitHealthy(t, b)
	if b.e() == old {
		t.Fatal("still on the closed connection")
	}

	// The API works again.
	if _, err := b.Groups(ctx); err != nil {
		t.Fatalf("Groups after reconnect: %v", err)
	}
	// The member that joined before the loss gets new messages.
	publish(t, b, "pk1", 3)
	for range 3 {
		in.next(t)
	}
	// Subscription routing follows the new connection's watch.
	if err := b.SetSubscription(ctx, "pk2", Subscription{Groups: []string{g.ID}}); err != nil {
		t.Fatalf("SetSubscription after reconnect: %v", err)
	}
	if _, err := b.Publish(ctx, DeviceMessage{ProductKey: "pk2", DeviceName: "d"}); err != nil {
		t.Fatal(err)
	}
	in.none(t)                 // DEFAULT_GROUP is not in pk2's subscription
	waitBacklog(t, b, g.ID, 1) // the subscribed group has it
}

// While the engine is gone, calls fail with ErrUnavailable, not as
// internal errors, and Healthy says so.
func TestEngineUnavailable(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	b.ns.Shutdown() // the engine itself goes away; nothing can reconnect
	b.ns.WaitForShutdown()
	deadline := time.Now().Add(10 * time.Second)
	for b.Healthy() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if b.Healthy() {
		t.Fatal("healthy with the engine shut down")
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := b.Groups(short); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Groups: %v, want ErrUnavailable", err)
	}
	if _, err := b.Publish(short, DeviceMessage{ProductKey: "pk", DeviceName: "d"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Publish: %v, want ErrUnavailable", err)
	}
}

// A message size limit above NATS's default max payload of 1 MiB works on
// the embedded server, which is started with room for it.
func TestLargeMessageSizeLimit(t *testing.T) {
	b := openBroker(t, t.TempDir(), func(c *Config) { c.MaxMessageSize = 2 << 20 })
	if _, err := b.Publish(ctxT(t), DeviceMessage{ProductKey: "pk", DeviceName: "d", Payload: make([]byte, 2<<20)}); err != nil {
		t.Fatalf("a 2 MiB payload under a 2 MiB limit: %v", err)
	}
}

// settleFailures counts the settlements the engine did not take.
type settleFailures struct {
	noObserver
	mu  sync.Mutex
	ops map[string]int
}

func (s *settleFailures) EngineSettleFailed(op string) {
	s.mu.Lock()
	s.ops[op]++
	s.mu.Unlock()
}

// A settlement made after the delivery's engine connection was lost goes
// out on the new one: JetStream takes an acknowledgement from any
// connection of the account, so the message is not delivered again.
func TestAckAfterReconnect(t *testing.T) {
	obs := &settleFailures{ops: map[string]int{}}
	b := openBroker(t, t.TempDir(), func(c *Config) { c.Observer = obs; c.AckTimeout = time.Second })
	m, in := join(t, b, DefaultGroupID, 10)
	publish(t, b, "pk1", 1)
	d := in.next(t)
	old := b.e()
	old.nc.Close() // the delivery's connection is gone
	waitHealthy(t, b)
	m.Settle(d.Token, Ack)
	waitBacklog(t, b, DefaultGroupID, 0)
	time.Sleep(1500 * time.Millisecond) // past the ack timeout
	in.none(t)                          // nothing comes again
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.ops) != 0 {
		t.Fatalf("settle failures counted: %v", obs.ops)
	}
}

// A settlement the engine connection refuses is logged and counted (the
// message then comes again after the ack timeout).
func TestSettleFailureCounted(t *testing.T) {
	obs := &settleFailures{ops: map[string]int{}}
	var log testlog.Buffer
	b := openBroker(t, t.TempDir(), func(c *Config) { c.Observer = obs; c.Logger = zerolog.New(&log) })
	g, err := b.runtime(ctxT(t), consumerName(DefaultGroupID), DefaultGroupID)
	if err != nil {
		t.Fatal(err)
	}
	g.tell(&nats.Msg{Subject: "dev.data.pk.d"}, Requeue) // no reply subject: nowhere to send it
	obs.mu.Lock()
	got := obs.ops["nak"]
	obs.mu.Unlock()
	if got != 1 {
		t.Fatalf("nak failures counted: %d, want 1", got)
	}
	if !strings.Contains(log.String(), "the engine did not take a settlement") {
		t.Fatalf("not logged:\n%s", log.String())
	}
}
