package amqp_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// TestLargeFrameAfterIdle: the server reads a burst of small frames (its
// large read buffer), then the connection idles (its buffers go back; the
// server's heartbeats, from a timer now, still arrive), and then a single
// frame far larger than any read buffer still arrives whole; both messages
// reach a receiver byte for byte.
func TestLargeFrameAfterIdle(t *testing.T) {
	const maxFrame = 1 << 20
	ts := startServer(t, func(c *amqp.Config) {
		c.MaxFrameSize, c.MaxMessageSize = maxFrame, maxFrame
		c.HeartbeatFloor = 10 * time.Millisecond
	})
	p := dialRaw(t, ts.addr)
	hdr := frames.ProtocolAMQP
	p.write(t, append(hdr[:], frames.AppendFrame(nil, frames.TypeAMQP, 0,
		&frames.Open{ContainerID: "idler", MaxFrameSize: maxFrame, ChannelMax: 255, IdleTimeOut: 20}, nil)...))
	p.expectHeader(t, frames.ProtocolAMQP)
	expectBody[*frames.Open](t, p)
	p.begin(t, 0)
	p.attachSender(t, 0, 0, "q")

	// The burst: one delivery of 90 KB in 300-byte frames, written at once.
	burst := bytes.Repeat([]byte("burst-"), 300*50)
	msg := dataMessage(burst)
	var out []byte
	for i := 0; i < len(msg); i += 300 {
		tr := &frames.Transfer{Handle: 0}
		if i == 0 {
			tr = firstTransfer(0, 0)
		}
		tr.More = i+300 < len(msg)
		out = frames.AppendFrame(out, frames.TypeAMQP, 0, tr, msg[i:min(i+300, len(msg))])
	}
	p.write(t, out)
	p.expectAccepted(t, 0)

	// Idle: the heartbeats the server sends every 10 ms while we send
	// nothing are the proof that time passed.
	for range 5 {
		f, err := p.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if f.body != nil {
			t.Fatalf("unexpected %v while idle", f.body)
		}
	}

	big := bytes.Repeat([]byte("0123456789abcdef"), 300<<10/16)
	p.sendTransfer(t, 0, firstTransfer(0, 1), dataMessage(big))
	p.expectAccepted(t, 1)

	p.send(t, 0, receiverAttach(1, "q"))
	expectBody[*frames.Attach](t, p)
	credit, dc := uint32(2), uint32(0)
	p.send(t, 0, &frames.Flow{NextIncomingID: ptr(uint32(0)), IncomingWindow: 100, NextOutgoingID: 2,
		OutgoingWindow: 100, Handle: ptr(uint32(1)), DeliveryCount: &dc, LinkCredit: &credit})
	p.expectTransfer(t, 1, burst)
	p.expectTransfer(t, 1, big)
}
