package broker

import (
	"strings"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/internal/natstest"
)

// TestExternalNATS runs the broker against a separate NATS JetStream server
// reached by URL (the --nats-url path), here one on 127.0.0.1.
func TestExternalNATS(t *testing.T) {
	ns := natstest.Server(t)
	b := openBroker(t, "", func(c *Config) { c.NATSURLs = []string{ns.ClientURL()} })
	m, in := join(t, b, DefaultGroupID, 5)
	ids := publish(t, b, "pkX", 2)
	for i := range 2 {
		d := in.next(t)
		if d.Message.MessageID != ids[i] {
			t.Fatalf("got %s, want %s", d.Message.MessageID, ids[i])
		}
		m.Settle(d.Token, Ack)
	}
	waitBacklog(t, b, DefaultGroupID, 0)
}

// TestAckTimeoutRedelivers: a message left unsettled past the ack timeout
// is delivered again.
func TestAckTimeoutRedelivers(t *testing.T) {
	b := openBroker(t, t.TempDir(), func(c *Config) { c.AckTimeout = 500 * time.Millisecond })
	m, in := join(t, b, DefaultGroupID, 5)
	ids := publish(t, b, "pk1", 1)
	first := in.next(t)
	start := time.Now()
	again := in.next(t) // never settled: JetStream redelivers after the ack timeout
	if again.Message.MessageID != ids[0] || !again.Redelivered || first.Redelivered {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("redelivered after %v, before the ack timeout", waited)
	}
	m.Settle(again.Token, Ack)
	waitBacklog(t, b, DefaultGroupID, 0)
}

// A message size limit the external server's max_payload cannot hold is
// refused at Open, naming both numbers, rather than failing each publish.
func TestExternalNATSMaxPayloadTooSmall(t *testing.T) {
	ns := natstest.Server(t)
	_, err := Open(ctxT(t), Config{NATSURLs: []string{ns.ClientURL()}, MaxMessageSize: 2 << 20})
	if err == nil || !strings.Contains(err.Error(), "max_payload of 1048576") {
		t.Fatalf("Open with a 2 MiB limit on a 1 MiB server: %v", err)
	}
}
