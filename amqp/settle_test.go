package amqp_test

import (
	"testing"

	"github.com/amqpemu/amqpemu/amqp/frames"
)

// TestReceiverSettlesFirst: a client sender asking for rcv-settle-mode
// second is told first, and its delivery is settled with its outcome
// (python3-uamqp asks second, then waits for a settlement that never came).
func TestReceiverSettlesFirst(t *testing.T) {
	ts := startServer(t)
	p := dialRaw(t, ts.addr)
	p.openConn(t)
	p.begin(t, 0)
	a := senderAttach(0, "settle-first")
	a.RcvSettleMode = frames.RcvSecond
	p.send(t, 0, a)
	reply, _ := expectBody[*frames.Attach](t, p)
	if reply.Target == nil || reply.RcvSettleMode != frames.RcvFirst {
		t.Fatalf("attach reply %v with rcv-settle-mode %d, want accepted with first (0)", reply, reply.RcvSettleMode)
	}
	p.sendTransfer(t, 0, firstTransfer(0, 0), dataMessage([]byte("x")))
	d, _ := expectBody[*frames.Disposition](t, p)
	if _, ok := d.State.(*frames.Accepted); !ok || !d.Settled || d.First != 0 {
		t.Fatalf("disposition %v, want delivery 0 accepted and settled", d)
	}
}
