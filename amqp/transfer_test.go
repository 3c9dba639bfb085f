package amqp_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// TestMessageSizeLimit: a multi-frame delivery that grows past MaxMessageSize
// detaches its link with amqp:link:message-size-exceeded; the session lives on.
func TestMessageSizeLimit(t *testing.T) {
	ts := startServer(t, func(c *amqp.Config) { c.MaxMessageSize = 1000 })
	p := dialRaw(t, ts.addr)
	p.openConn(t)
	p.begin(t, 0)
	p.attachSender(t, 0, 0, "q")
	chunk := bytes.Repeat([]byte("x"), 600)
	first := firstTransfer(0, 0)
	first.More = true
	p.sendTransfer(t, 0, first, chunk)
	p.sendTransfer(t, 0, &frames.Transfer{Handle: 0}, chunk)
	p.expectDetach(t, 0, frames.ErrCondMessageSizeExceeded)
	p.send(t, 0, &frames.Detach{Handle: 0, Closed: true})
	p.useSession(t, 0, 1, "q", 1)
}

// TestAbortedDeliveryDropped: an aborted multi-frame delivery is discarded;
// the next delivery on the link goes through whole.
func TestAbortedDeliveryDropped(t *testing.T) {
	ts := startServer(t)
	p := dialRaw(t, ts.addr)
	p.openConn(t)
	p.begin(t, 0)
	p.attachSender(t, 0, 0, "q")
	first := firstTransfer(0, 0)
	first.More = true
	p.sendTransfer(t, 0, first, []byte{0x00, 0x53})
	p.sendTransfer(t, 0, &frames.Transfer{Handle: 0, Aborted: true}, nil)
	p.sendTransfer(t, 0, firstTransfer(0, 1), dataMessage([]byte("whole")))
	p.expectAccepted(t, 1)
	if st := ts.backend.Stats(); st.Published != 1 {
		t.Fatalf("published %d, want only the whole message", st.Published)
	}
}

// TestDeliveryIDWraparound delivers across delivery-id 2^32-1 → 0 to a raw
// receiver and settles a range that spans the wrap.
func TestDeliveryIDWraparound(t *testing.T) {
	ts := startServer(t, func(c *amqp.Config) {
		amqp.SetInitialSeq(c, math.MaxUint32-1)
		amqp.SetInitialDeliveryID(c, math.MaxUint32-1)
	})
	preload(t, ts, "q", 4, 16)
	p := dialRaw(t, ts.addr)
	p.openConn(t)
	p.begin(t, 0)
	p.send(t, 0, receiverAttach(0, "q"))
	if a, _ := expectBody[*frames.Attach](t, p); a.Source == nil || a.InitialDeliveryCount == nil || *a.InitialDeliveryCount != math.MaxUint32-1 {
		t.Fatalf("attach reply %v", a)
	}
	credit, dc := uint32(4), uint32(math.MaxUint32-1)
	p.send(t, 0, &frames.Flow{NextIncomingID: ptr(uint32(math.MaxUint32 - 1)), IncomingWindow: 100, NextOutgoingID: 0,
		OutgoingWindow: 100, Handle: ptr(uint32(0)), DeliveryCount: &dc, LinkCredit: &credit})
	want := []uint32{math.MaxUint32 - 1, math.MaxUint32, 0, 1}
	for _, id := range want {
		tr := p.expectTransfer(t, 0, nil)
		if tr.DeliveryID != id {
			t.Fatalf("delivery-id %d, want %d", tr.DeliveryID, id)
		}
	}
	last := uint32(1)
	p.send(t, 0, &frames.Disposition{Role: frames.RoleReceiver, First: math.MaxUint32 - 1, Last: &last, Settled: true, State: &frames.Accepted{}})
	waitFor(t, func() bool { return ts.backend.Stats().Accepted == 4 })
}

func ptr[T any](v T) *T { return &v }

// TestBareMessageByteExact: the message a sender sends reaches a receiver
// byte for byte, including property types clients disagree on (a described
// value, a symbol, a uuid message-id), split over 512-byte frames.
func TestBareMessageByteExact(t *testing.T) {
	ts := startServer(t)
	snd := dialRaw(t, ts.addr)
	snd.openConn(t)
	snd.begin(t, 0)
	snd.attachSender(t, 0, 0, "exact")
	props := frames.Properties{MessageID: encoding.UUID{1, 2, 3}, ContentType: "application/octet-stream"}
	msg, err := props.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, err = frames.AppendMapSection(msg, encoding.DescApplicationProperties, encoding.Map{
		{Key: "offset", Value: &encoding.Described{Descriptor: encoding.Symbol("com.microsoft:datetime-offset"), Value: int64(637000000000000000)}},
		{Key: "kind", Value: encoding.Symbol("sym")},
		{Key: "generateTime", Value: int64(1763900000000)},
	})
	if err != nil {
		t.Fatal(err)
	}
	msg = frames.AppendData(msg, bytes.Repeat([]byte("payload-"), 200))
	snd.sendTransfer(t, 0, firstTransfer(0, 0), msg)
	snd.expectAccepted(t, 0)

	rcv := dialRaw(t, ts.addr)
	rcv.openConnWith(t, 512)
	rcv.begin(t, 0)
	rcv.send(t, 0, receiverAttach(0, "exact"))
	expectBody[*frames.Attach](t, rcv)
	credit, dc := uint32(1), uint32(0)
	rcv.send(t, 0, &frames.Flow{NextIncomingID: ptr(uint32(0)), IncomingWindow: 100, OutgoingWindow: 100,
		Handle: ptr(uint32(0)), DeliveryCount: &dc, LinkCredit: &credit})
	var got []byte
	frameCount := 0
	for {
		f := rcv.expectFrame(t)
		tr, ok := f.body.(*frames.Transfer)
		if !ok {
			continue
		}
		if f.size > 512 {
			t.Fatalf("frame of %d bytes to a peer with max-frame-size 512", f.size)
		}
		frameCount++
		got = append(got, f.payload...)
		if !tr.More {
			break
		}
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("message changed in transit:\n sent %x\n got  %x", msg, got)
	}
	if frameCount < 4 {
		t.Fatalf("%d-byte message came in %d frames", len(msg), frameCount)
	}
}

// TestReceiverWithoutSource: the vendor's Python sample attaches its
// receiver with no source at all; the link is accepted with an empty
// address (the backend's default) and messages flow.
func TestReceiverWithoutSource(t *testing.T) {
	ts := startServer(t)
	preload(t, ts, "", 1, 16)
	p := dialRaw(t, ts.addr)
	p.openConn(t)
	p.begin(t, 0)
	a := receiverAttach(0, "")
	a.Source = nil
	p.send(t, 0, a)
	if reply, _ := expectBody[*frames.Attach](t, p); reply.Handle != 0 || reply.Source == nil {
		t.Fatalf("attach reply %v: want a source (a null one means refused)", reply)
	}
	credit, dc := uint32(1), uint32(0)
	p.send(t, 0, &frames.Flow{NextIncomingID: ptr(uint32(0)), IncomingWindow: 100, OutgoingWindow: 100,
		Handle: ptr(uint32(0)), DeliveryCount: &dc, LinkCredit: &credit})
	p.expectTransfer(t, 0, nil)
}
