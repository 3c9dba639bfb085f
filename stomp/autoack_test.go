package stomp_test

import (
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/stomp"
	"github.com/amqpemu/amqpemu/stomp/frame"
)

// An ack:auto message is acknowledged once written. A client that reads it
// and disconnects at once could overtake the writer between its write and
// its ack: the message then went back to the group and reached the next
// consumer again (seen with stomp.py under the race detector). The hook
// widens that window; it does not synchronise anything.
func TestAutoAckSurvivesQuickDisconnect(t *testing.T) {
	restore := stomp.SetTestHookWritten(func() { time.Sleep(200 * time.Millisecond) })
	t.Cleanup(restore) // registered first, so it runs after the server is shut down
	e := start(t)
	c := dial(t, e.addr)
	c.connect("plain", "x")
	c.subscribe("auto")
	e.publish(t, "pk", []byte("once"))
	if m := c.messages(1)[0]; string(m.Body) != "once" {
		t.Fatalf("got %q", m.Body)
	}
	c.send(frame.Disconnect, "receipt", "bye")
	c.expectReceipt("bye")
	e.waitBacklog(t, broker.DefaultGroupID, 0)
}
