package amqp_test

import (
	"bytes"
	"testing"

	goamqp "github.com/Azure/go-amqp"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// TestSessionWindowEnforced: the server grants its incoming window as
// frames are consumed; a peer that sends past what it was granted ends the
// session with amqp:session:window-violation. One delivery cut into 5001
// one-byte frames holds all of them until it completes, so the window the
// begin granted is all the peer has.
func TestSessionWindowEnforced(t *testing.T) {
	ts := startServer(t)
	p := dialRaw(t, ts.addr)
	p.openConn(t)
	b := p.begin(t, 0)
	n := int(b.IncomingWindow) + 1
	if credit := p.attachSender(t, 0, 0, "win"); credit == 0 {
		t.Fatal("no credit")
	}
	msg := dataMessage(bytes.Repeat([]byte{'w'}, n))
	var out []byte
	for i := range n {
		chunk := msg[i : i+1]
		tr := &frames.Transfer{Handle: 0, More: true}
		if i == 0 {
			tr = firstTransfer(0, 0)
			tr.More = true
		}
		if i == n-1 {
			tr.More, chunk = false, msg[i:]
		}
		out = frames.AppendFrame(out, frames.TypeAMQP, 0, tr, chunk)
	}
	p.write(t, out)
	granted := uint64(b.IncomingWindow)
	for {
		f := p.expectFrame(t)
		switch fb := f.body.(type) {
		case *frames.Flow:
			if fb.NextIncomingID != nil {
				granted = max(granted, uint64(*fb.NextIncomingID)+uint64(fb.IncomingWindow))
			}
			continue
		case *frames.End:
			checkCond(t, "end", fb.Error, frames.ErrCondWindowViolation)
			if granted >= uint64(n) {
				t.Fatalf("session ended although the server granted %d transfers and got %d", granted, n)
			}
		default:
			t.Fatalf("expected the session to end with window-violation, got %v (the server granted %d transfer frames)", f.body, granted)
		}
		break
	}
	p.send(t, 0, &frames.End{})
	p.begin(t, 1)
	p.useSession(t, 1, 0, "win-other-session", 0)
	if w, _ := ts.backend.Depth("win"); w != 0 {
		t.Fatalf("queue depth %d, want 0: the violating delivery must be dropped", w)
	}
}

// TestSessionWindowRegranted: many multi-frame deliveries, more frames in
// all than the window, flow through as the server re-grants.
func TestSessionWindowRegranted(t *testing.T) {
	ts := startServer(t, func(c *amqp.Config) { c.MaxFrameSize = 512; c.MaxMessageSize = 2 << 20 })
	_, sess := dial(t, ts, &goamqp.ConnOptions{MaxFrameSize: 512})
	ctx := ctxT(t)
	snd, err := sess.NewSender(ctx, "regrant", nil)
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte{'r'}, 1<<20) // ~2,200 frames each: 5 take 11,000
	for i := range 5 {
		if err := snd.Send(ctx, goamqp.NewMessage(payload), nil); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if w, _ := ts.backend.Depth("regrant"); w != 5 {
		t.Fatalf("queue depth %d, want 5", w)
	}
}

// TestSessionWindowPartialDeliveriesGrow: two links' incomplete deliveries
// fill the whole window; neither could finish, so the server widens the
// window instead of waiting forever, and both deliveries go through.
func TestSessionWindowPartialDeliveriesGrow(t *testing.T) {
	ts := startServer(t)
	p := dialRaw(t, ts.addr)
	p.openConn(t)
	b := p.begin(t, 0)
	half := int(b.IncomingWindow) / 2
	p.attachSender(t, 0, 0, "grow-a")
	p.attachSender(t, 0, 1, "grow-b")
	// frame is frame i of link h's delivery: one byte each (more=true), the
	// last one carrying the rest.
	msgs := [2][]byte{dataMessage(bytes.Repeat([]byte{'a'}, half+16)), dataMessage(bytes.Repeat([]byte{'b'}, half+16))}
	frame := func(h uint32, i int, last bool) []byte {
		msg := msgs[h]
		tr := &frames.Transfer{Handle: h, More: !last}
		if i == 0 {
			tr = firstTransfer(h, h)
			tr.More = true
		}
		chunk := msg[i : i+1]
		if last {
			chunk = msg[i:]
		}
		return frames.AppendFrame(nil, frames.TypeAMQP, 0, tr, chunk)
	}
	var out []byte
	for h := range uint32(2) {
		for i := range half {
			out = append(out, frame(h, i, false)...)
		}
	}
	p.write(t, out) // the whole window, half in each link's open delivery
	granted := uint64(b.IncomingWindow)
	for granted < uint64(2*half+2) {
		f, _ := expectBody[*frames.Flow](t, p)
		if f.NextIncomingID != nil {
			granted = max(granted, uint64(*f.NextIncomingID)+uint64(f.IncomingWindow))
		}
	}
	p.write(t, append(frame(0, half, true), frame(1, half, true)...))
	var accepted [2]bool
	for !accepted[0] || !accepted[1] {
		d, _ := expectBody[*frames.Disposition](t, p)
		if _, ok := d.State.(*frames.Accepted); !ok || d.First > 1 {
			t.Fatalf("disposition %v, want deliveries 0 and 1 accepted", d)
		}
		for id := d.First; id <= d.LastID(); id++ {
			accepted[id] = true
		}
	}
}
