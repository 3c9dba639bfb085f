package amqp_test

import (
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// TestHandshakeOneDeadline: one deadline covers the protocol header, SASL
// and open together. The peer finishes header and SASL at 70% of the
// deadline, then trickles its open a byte at a time: the server must cut it
// at the single deadline, before a fresh deadline counted from the end of
// SASL could have run out.
func TestHandshakeOneDeadline(t *testing.T) {
	const deadline = 600 * time.Millisecond
	ts := startServer(t, func(c *amqp.Config) { c.HandshakeTimeout = deadline })
	p := dialRaw(t, ts.addr)
	start := time.Now() // the server's clock starts after this
	p.writeHeader(t, frames.ProtocolSASL)
	p.expectHeader(t, frames.ProtocolSASL)
	if _, ok := p.expectFrame(t).body.(*frames.SASLMechanisms); !ok {
		t.Fatal("expected sasl-mechanisms")
	}
	p.sendSASL(t, &frames.SASLInit{Mechanism: "ANONYMOUS"})
	if o, ok := p.expectFrame(t).body.(*frames.SASLOutcome); !ok || o.Code != frames.SASLOK {
		t.Fatalf("expected sasl-outcome ok, got %v", o)
	}
	// Pacing, not synchronisation: the peer is slow on purpose.
	time.Sleep(time.Until(start.Add(deadline * 7 / 10)))
	p.writeHeader(t, frames.ProtocolAMQP)
	saslDone := time.Now() // the server read the header after this
	p.expectHeader(t, frames.ProtocolAMQP)

	open := frames.AppendFrame(nil, frames.TypeAMQP, 0, &frames.Open{ContainerID: "trickle", MaxFrameSize: 65536}, nil)
	closed := make(chan time.Time, 1)
	go func() {
		// Read until the server closes; record when.
		for {
			f, err := p.readFrame()
			if err != nil {
				closed <- time.Now()
				return
			}
			if c, ok := f.body.(*frames.Close); ok && c.Error != nil && c.Error.Condition == frames.ErrCondResourceLimitExceeded {
				closed <- time.Now()
				return
			}
		}
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var at time.Time
trickle:
	for i := 0; ; i++ {
		select {
		case at = <-closed:
			break trickle
		case <-tick.C:
			if i < len(open)-1 { // never the last byte: the open stays incomplete
				p.nc.SetWriteDeadline(time.Now().Add(rawTimeout))
				p.nc.Write(open[i : i+1])
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the server never cut the trickling peer")
		}
	}
	if limit := saslDone.Add(deadline); !at.Before(limit) {
		t.Fatalf("cut %v after the start, %v after SASL ended: a second deadline ran after SASL (want one %v deadline from the start)",
			at.Sub(start), at.Sub(saslDone), deadline)
	}
}
