package amqp_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// badCase is one misbehaving client. After run, a fresh go-amqp client must
// still round-trip a message through the same server.
type badCase struct {
	name   string
	mods   []func(*amqp.Config)
	client *goamqp.ConnOptions // for the round trip after the case
	run    func(t *testing.T, ts *testServer)
}

// TestBadInput drives the server with hostile or broken clients and checks
// each failure is answered with the right condition, in the right scope, and
// that the server keeps serving others.
func TestBadInput(t *testing.T) {
	var cases []badCase
	cases = append(cases, headerCases()...)
	cases = append(cases, framingCases()...)
	cases = append(cases, sessionCases()...)
	cases = append(cases, linkCases()...)
	cases = append(cases, resourceCases()...)
	cases = append(cases, timeoutCases()...)
	cases = append(cases, saslCases()...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, tc.mods...)
			// The peer runs as a subtest so that the round trip runs (and
			// tells whether the server survived) even when the peer fails.
			t.Run("peer", func(t *testing.T) { tc.run(t, ts) })
			checkServes(t, ts, tc.client)
		})
	}
}

// checkServes round-trips one message through ts with a fresh go-amqp client.
func checkServes(t *testing.T, ts *testServer, opts *goamqp.ConnOptions) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := goamqp.Dial(ctx, "amqp://"+ts.addr, opts)
	if err != nil {
		t.Fatalf("server no longer serves: dial: %v", err)
	}
	defer conn.Close()
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		t.Fatalf("server no longer serves: session: %v", err)
	}
	const addr = "still-serving"
	snd, err := sess.NewSender(ctx, addr, nil)
	if err != nil {
		t.Fatalf("server no longer serves: sender: %v", err)
	}
	rcv, err := sess.NewReceiver(ctx, addr, &goamqp.ReceiverOptions{Credit: 1})
	if err != nil {
		t.Fatalf("server no longer serves: receiver: %v", err)
	}
	want := []byte("ping " + t.Name())
	if err := snd.Send(ctx, goamqp.NewMessage(want), nil); err != nil {
		t.Fatalf("server no longer serves: send: %v", err)
	}
	m, err := rcv.Receive(ctx, nil)
	if err != nil {
		t.Fatalf("server no longer serves: receive: %v", err)
	}
	if !bytes.Equal(m.GetData(), want) {
		t.Fatalf("round trip got %q, want %q", m.GetData(), want)
	}
	if err := rcv.AcceptMessage(ctx, m); err != nil {
		t.Fatalf("accept: %v", err)
	}
}

// pollUntil polls cond until it holds or the timeout passes.
func pollUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// wrongHeader sends a protocol header the server does not speak and expects
// its own AMQP header back and the socket closed (§2.2).
func wrongHeader(name string, hdr []byte) badCase {
	return badCase{name: name, run: func(t *testing.T, ts *testServer) {
		p := dialRaw(t, ts.addr)
		p.write(t, hdr)
		p.expectHeader(t, frames.ProtocolAMQP)
		p.expectEOF(t)
	}}
}

func headerCases() []badCase {
	return []badCase{
		wrongHeader("header-http", []byte("HTTP/1.1")),
		wrongHeader("header-http-request", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")),
		wrongHeader("header-tls", frames.ProtocolTLS[:]),
		wrongHeader("header-version-1.0.1", []byte{'A', 'M', 'Q', 'P', 0, 1, 0, 1}),
		wrongHeader("header-version-0.9.1", []byte{'A', 'M', 'Q', 'P', 0, 0, 9, 1}),
	}
}

func framingCases() []badCase {
	return []badCase{
		{name: "truncated-frame", run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			frame := make([]byte, 20)
			binary.BigEndian.PutUint32(frame, 100) // says 100 bytes, 20 follow
			frame[4] = 2
			p.write(t, frame)
			p.closeWrite(t)
			// The connection ends; a close frame (framing-error) before EOF is
			// allowed, as the peer can still read.
			for {
				f, err := p.readFrame()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatalf("expected EOF, got %v", err)
					}
					break
				}
				if c, ok := f.body.(*frames.Close); ok {
					checkCond(t, "close", c.Error, frames.ErrCondFramingError)
				} else if f.body != nil {
					t.Fatalf("unexpected %v", f.body)
				}
			}
			pollUntil(t, 5*time.Second, "the connection to end", func() bool { return ts.ConnCount() == 0 })
		}},
		{name: "frame-over-max-frame-size",
			mods: []func(*amqp.Config){func(c *amqp.Config) { c.MaxFrameSize = 512 }},
			run: func(t *testing.T, ts *testServer) {
				p := dialRaw(t, ts.addr)
				if o := p.openConn(t); o.MaxFrameSize != 512 {
					t.Fatalf("server max-frame-size %d, want 512", o.MaxFrameSize)
				}
				frame := make([]byte, 600)
				binary.BigEndian.PutUint32(frame, 600)
				frame[4] = 2
				p.write(t, frame)
				p.expectClose(t, frames.ErrCondFramingError)
				p.closeConn(t)
			}},
		{name: "unknown-performative", run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			// a described list with descriptor 0x99 (no such performative)
			p.write(t, []byte{0, 0, 0, 12, 2, frames.TypeAMQP, 0, 0, 0x00, 0x53, 0x99, 0x45})
			p.expectClose(t, frames.ErrCondNotImplemented)
			p.closeConn(t)
		}},
		{name: "attach-on-channel-without-session", run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			p.send(t, 5, receiverAttach(0, "q"))
			p.expectClose(t, frames.ErrCondIllegalState)
			p.closeConn(t)
		}},
		{name: "frame-before-open", run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			p.writeHeader(t, frames.ProtocolAMQP)
			p.send(t, 0, &frames.Begin{IncomingWindow: 100, OutgoingWindow: 100})
			p.expectHeader(t, frames.ProtocolAMQP)
			// §2.4.1: open is the first frame each side sends, even when the
			// connection is then closed with an error.
			if _, ch := expectBody[*frames.Open](t, p); ch != 0 {
				t.Fatalf("open on channel %d", ch)
			}
			p.expectClose(t, frames.ErrCondIllegalState)
			p.closeConn(t)
		}},
		{name: "garbage-after-close", run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			p.begin(t, 0)
			garbage := make([]byte, 4096)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range garbage {
				garbage[i] = byte(rng.UintN(256))
			}
			p.send(t, 0, &frames.Close{})
			p.write(t, garbage)
			p.expectClose(t, "")
			p.expectEOF(t)
			p.nc.Close()
			pollUntil(t, 5*time.Second, "the connection to end", func() bool { return ts.ConnCount() == 0 })
		}},
	}
}

func sessionCases() []badCase {
	return []badCase{
		{name: "session-window-5001-frames", run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			b := p.begin(t, 0)
			if b.IncomingWindow != 5000 {
				t.Fatalf("server incoming-window %d, want 5000", b.IncomingWindow)
			}
			n := int(b.IncomingWindow) + 1
			if credit := p.attachSender(t, 0, 0, "win"); credit == 0 {
				t.Fatal("no credit")
			}
			// The cheapest way to send N+1 transfer frames: one delivery cut
			// into N+1 frames (continuation frames need no link credit, but
			// each counts against the session window).
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
			// §2.5.6: a transfer beyond the window the server granted ends the
			// session with window-violation; within it, the delivery goes
			// through. The server may widen its window at any time (it
			// re-grants at half), so either outcome can be right, depending
			// on what it granted before frame N+1.
			granted := uint64(b.IncomingWindow) // next-incoming-id (0) + incoming-window
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
					p.send(t, 0, &frames.End{})
					p.begin(t, 1)
					p.useSession(t, 1, 0, "win-other-session", 0)
					return
				case *frames.Disposition:
					if _, ok := fb.State.(*frames.Accepted); !ok || fb.First != 0 {
						t.Fatalf("disposition %v, want delivery 0 accepted", fb)
					}
				default:
					t.Fatalf("expected flow, end or disposition, got %v", f.body)
				}
				break
			}
			if granted < uint64(n) {
				t.Fatalf("server granted %d transfers, took %d without window-violation", granted, n)
			}
			if w, _ := ts.backend.Depth("win"); w != 1 {
				t.Fatalf("queue depth %d, want 1", w)
			}
			p.useSession(t, 0, 1, "win-after", 1)
			p.begin(t, 1)
			p.useSession(t, 1, 0, "win-other-session", 0)
		}},
		{name: "transfer-on-unattached-handle", run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			p.begin(t, 0)
			p.begin(t, 1)
			p.sendTransfer(t, 0, firstTransfer(7, 0), dataMessage([]byte("x")))
			p.expectEnd(t, 0, frames.ErrCondUnattachedHandle)
			p.send(t, 0, &frames.End{})
			// Only the session ended: the other one and the connection work.
			p.useSession(t, 1, 0, "other", 0)
			p.begin(t, 0)
			p.useSession(t, 0, 0, "again", 0)
		}},
		{name: "attach-handle-in-use", run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			p.begin(t, 0)
			p.begin(t, 1)
			p.send(t, 0, receiverAttach(0, "a"))
			if a, _ := expectBody[*frames.Attach](t, p); a.Source == nil {
				t.Fatalf("attach refused: %v", a)
			}
			p.send(t, 0, receiverAttach(0, "b"))
			p.expectEnd(t, 0, frames.ErrCondHandleInUse)
			p.send(t, 0, &frames.End{})
			p.useSession(t, 1, 0, "other", 0)
			p.begin(t, 0)
			p.useSession(t, 0, 0, "again", 0)
		}},
	}
}

// holdBackend wraps a backend: producers on addresses starting "hold/" never
// report an outcome, so the server cannot refill their credit.
type holdBackend struct{ amqp.Backend }

func (b holdBackend) OpenProducer(ctx context.Context, req amqp.LinkRequest) (amqp.Producer, error) {
	if strings.HasPrefix(req.Address, "hold/") {
		return holdProducer{}, nil
	}
	return b.Backend.OpenProducer(ctx, req)
}

type holdProducer struct{}

func (holdProducer) Publish([]byte, uint32, func(amqp.Outcome)) {}
func (holdProducer) Close()                                     {}

func linkCases() []badCase {
	return []badCase{
		{name: "transfer-without-credit",
			mods: []func(*amqp.Config){func(c *amqp.Config) {
				c.ProducerCredit = 1
				c.Backend = holdBackend{c.Backend}
			}},
			run: func(t *testing.T, ts *testServer) {
				p := dialRaw(t, ts.addr)
				p.openConn(t)
				p.begin(t, 0)
				if credit := p.attachSender(t, 0, 0, "hold/q"); credit != 1 {
					t.Fatalf("credit %d, want 1", credit)
				}
				var out []byte
				for id := range uint32(2) {
					out = frames.AppendFrame(out, frames.TypeAMQP, 0, firstTransfer(0, id), dataMessage([]byte("x")))
				}
				p.write(t, out)
				if d := p.expectDetach(t, 0, frames.ErrCondTransferLimitExceeded); !d.Closed {
					t.Errorf("detach %v not closing", d)
				}
				p.send(t, 0, &frames.Detach{Handle: 0, Closed: true})
				// Only the link closed: the session and connection work.
				p.useSession(t, 0, 1, "after-limit", 2)
				p.useSession(t, 0, 0, "handle-reused", 3)
			}},
		{name: "producer-credit-one-is-refilled",
			mods: []func(*amqp.Config){func(c *amqp.Config) { c.ProducerCredit = 1 }},
			run: func(t *testing.T, ts *testServer) {
				p := dialRaw(t, ts.addr)
				p.openConn(t)
				p.begin(t, 0)
				if credit := p.attachSender(t, 0, 0, "q"); credit != 1 {
					t.Fatalf("credit %d, want 1", credit)
				}
				for id := range uint32(3) {
					p.sendTransfer(t, 0, firstTransfer(0, id), dataMessage([]byte("x")))
					// the outcome and the refill, in either order
					var accepted, refilled bool
					for !accepted || !refilled {
						switch b := p.expectFrame(t).body.(type) {
						case *frames.Disposition:
							if b.First != id {
								t.Fatalf("disposition %v, want delivery %d", b, id)
							}
							accepted = true
						case *frames.Flow:
							if b.Handle != nil && b.LinkCredit != nil && *b.LinkCredit > 0 {
								refilled = true
							}
						default:
							t.Fatalf("unexpected %v after delivery %d", b, id)
						}
					}
				}
			}},
		{name: "link-recovery-refused", run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			p.begin(t, 0)
			a := receiverAttach(0, "q")
			a.Unsettled = encoding.Map{{Key: []byte("tag-1"), Value: nil}}
			p.send(t, 0, a)
			reply, _ := expectBody[*frames.Attach](t, p)
			if reply.Source != nil {
				t.Fatalf("attach reply %v, want a null source (refusal)", reply)
			}
			if d := p.expectDetach(t, 0, frames.ErrCondNotImplemented); !d.Closed {
				t.Errorf("detach %v not closing", d)
			}
			p.send(t, 0, &frames.Detach{Handle: 0, Closed: true})
			p.useSession(t, 0, 0, "after-refusal", 0)
		}},
		{name: "transaction-coordinator-refused", run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			p.begin(t, 0)
			// A transaction controller's sender targets a coordinator, not a node.
			coordinator := append(encoding.AppendDescriptor(nil, encoding.DescCoordinator), 0x45)
			p.send(t, 0, &frames.Attach{Name: "txn", Handle: 0, Role: frames.RoleSender,
				Source: &frames.Source{}, Coordinator: coordinator, InitialDeliveryCount: new(uint32)})
			reply, _ := expectBody[*frames.Attach](t, p)
			if reply.Target != nil || reply.Coordinator != nil {
				t.Fatalf("attach reply %v, want a null target (refusal)", reply)
			}
			p.expectDetach(t, 0, frames.ErrCondNotImplemented)
			p.send(t, 0, &frames.Detach{Handle: 0, Closed: true})
			p.useSession(t, 0, 0, "after-refusal", 0)
		}},
		{name: "detach-closed-false-is-echoed", run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			p.begin(t, 0)
			p.send(t, 0, receiverAttach(0, "q"))
			if a, _ := expectBody[*frames.Attach](t, p); a.Source == nil {
				t.Fatalf("attach refused: %v", a)
			}
			p.send(t, 0, &frames.Detach{Handle: 0, Closed: false})
			if d := p.expectDetach(t, 0, ""); d.Closed {
				t.Fatalf("detach reply %v, want closed=false echoed", d)
			}
			p.useSession(t, 0, 0, "after-detach", 0)
		}},
	}
}

func resourceCases() []badCase {
	return []badCase{
		{name: "too-many-links",
			mods: []func(*amqp.Config){func(c *amqp.Config) { c.MaxLinks = 100 }},
			run:  tooManyLinks},
		{name: "client-never-reads",
			mods: []func(*amqp.Config){func(c *amqp.Config) { c.WriteBufferLimit = 64 << 10 }},
			run:  neverReads},
	}
}

// tooManyLinks attaches 150 receivers with a limit of 100 links per connection.
func tooManyLinks(t *testing.T, ts *testServer) {
	const limit, n = 100, 150
	p := dialRaw(t, ts.addr)
	p.openConn(t)
	p.begin(t, 0)
	var out []byte
	for h := range uint32(n) {
		out = frames.AppendFrame(out, frames.TypeAMQP, 0, receiverAttach(h, fmt.Sprintf("links/%d", h)), nil)
	}
	p.write(t, out)
	for h := range uint32(n) {
		a, _ := expectBody[*frames.Attach](t, p)
		if a.Handle != h {
			t.Fatalf("attach reply for handle %d, want %d", a.Handle, h)
		}
		if h < limit {
			if a.Source == nil {
				t.Fatalf("link %d refused below the limit", h)
			}
			continue
		}
		if a.Source != nil {
			t.Fatalf("link %d accepted beyond the limit: %v", h, a)
		}
		p.expectDetach(t, h, frames.ErrCondResourceLimitExceeded)
	}
	out = out[:0]
	for h := uint32(limit); h < n; h++ {
		out = frames.AppendFrame(out, frames.TypeAMQP, 0, &frames.Detach{Handle: h, Closed: true}, nil)
	}
	p.write(t, out)

	// The earlier links still work: give two of them credit and publish.
	_, sess := dial(t, ts, nil)
	ctx := ctxT(t)
	for _, h := range []uint32{0, limit - 1} {
		zero, credit := uint32(0), uint32(1)
		p.send(t, 0, &frames.Flow{NextIncomingID: &zero, IncomingWindow: 5000, OutgoingWindow: 5000,
			Handle: &h, DeliveryCount: &zero, LinkCredit: &credit})
		want := []byte(fmt.Sprintf("to link %d", h))
		snd, err := sess.NewSender(ctx, fmt.Sprintf("links/%d", h), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := snd.Send(ctx, goamqp.NewMessage(want), nil); err != nil {
			t.Fatal(err)
		}
		p.expectTransfer(t, h, want)
	}
	// A link freed makes room for a new one.
	p.send(t, 0, &frames.Detach{Handle: 50, Closed: true})
	p.expectDetach(t, 50, "")
	p.send(t, 0, receiverAttach(500, "links/new"))
	if a, _ := expectBody[*frames.Attach](t, p); a.Handle != 500 || a.Source == nil {
		t.Fatalf("attach after a detach: %v, want accepted", a)
	}
}

// neverReads fills a queue, attaches a receiver with credit for all of it and
// never reads: the server must stop at its write-buffer limit.
func neverReads(t *testing.T, ts *testServer) {
	const n, size = 20000, 1 << 10
	ctx := ctxT(t)
	// Fill the queue through the backend: 20,000 go-amqp sends take seconds
	// under -race and are not what this case is about.
	prod, err := ts.backend.OpenProducer(ctx, amqp.LinkRequest{Address: "flood"})
	if err != nil {
		t.Fatal(err)
	}
	msg := dataMessage(bytes.Repeat([]byte{'f'}, size))
	for range n {
		prod.Publish(bytes.Clone(msg), 0, func(amqp.Outcome) {})
	}
	prod.Close()
	if w, _ := ts.backend.Depth("flood"); w != n {
		t.Fatalf("queue depth %d, want %d", w, n)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	p := dialRaw(t, ts.addr)
	p.nc.(interface{ SetReadBuffer(int) error }).SetReadBuffer(16 << 10)
	p.openConn(t)
	p.begin(t, 0)
	p.send(t, 0, receiverAttach(0, "flood"))
	if a, _ := expectBody[*frames.Attach](t, p); a.Source == nil {
		t.Fatalf("attach refused: %v", a)
	}
	// Counted before the credit is granted: a busy machine may run the
	// server up to its stall before this goroutine looks again.
	start := ts.backend.Stats().Delivered
	zero, credit := uint32(0), uint32(n)
	p.send(t, 0, &frames.Flow{NextIncomingID: &zero, IncomingWindow: 1 << 30, OutgoingWindow: 5000,
		Handle: zero32(), DeliveryCount: &zero, LinkCredit: &credit})
	// From here on the peer reads nothing. Wait until the server stops
	// taking messages from the queue: the count stays put for 300 ms.
	last, since := start, time.Now()
	pollUntil(t, 15*time.Second, "the server to stall", func() bool {
		d := ts.backend.Stats().Delivered
		if d != last {
			last, since = d, time.Now()
		}
		return d > start && time.Since(since) > 300*time.Millisecond
	})
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("stalled after %d of %d messages; heap grew by %d KiB", last-start, n, growth>>10)
	if last-start >= n {
		t.Errorf("the server took all %d messages for a client that reads nothing", n)
	}
	if growth > 8<<20 {
		t.Errorf("heap grew by %d MiB for a client that reads nothing (limit 8 MiB, unbounded would be ~%d MiB)", growth>>20, n*size>>20)
	}

	// Other clients are served meanwhile.
	checkServes(t, ts, nil)

	// The client goes away: the server cleans up and the messages it held
	// for the client go back to the queue.
	p.nc.Close()
	pollUntil(t, 10*time.Second, "all connections to end", func() bool { return ts.ConnCount() == 0 })
	pollUntil(t, 5*time.Second, "the messages to return", func() bool {
		w, u := ts.backend.Depth("flood")
		return w == n && u == 0
	})
}

func zero32() *uint32 { z := uint32(0); return &z }

func timeoutCases() []badCase {
	idle := func(c *amqp.Config) { c.IdleTimeout = 300 * time.Millisecond }
	return []badCase{
		{name: "idle-timeout-silent-client", mods: []func(*amqp.Config){idle},
			run: func(t *testing.T, ts *testServer) {
				p := dialRaw(t, ts.addr)
				start := time.Now() // the server starts its clock after this
				o := p.openConn(t)
				if o.IdleTimeOut != 150 {
					t.Errorf("server advertised idle-time-out %d ms, want 150 (half of 300)", o.IdleTimeOut)
				}
				p.expectClose(t, frames.ErrCondResourceLimitExceeded)
				if el := time.Since(start); el < 250*time.Millisecond || el > 2*time.Second {
					t.Errorf("closed after %v of silence, want about 300 ms", el)
				}
				p.closeConn(t)
			}},
		{name: "idle-timeout-heartbeats-keep-alive", mods: []func(*amqp.Config){idle},
			run: func(t *testing.T, ts *testServer) {
				p := dialRaw(t, ts.addr)
				p.openConn(t)
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for start := time.Now(); time.Since(start) < 1200*time.Millisecond; <-tick.C {
					p.nc.SetWriteDeadline(time.Now().Add(rawTimeout))
					if _, err := p.nc.Write(frames.EmptyFrame); err != nil {
						f, _ := p.readFrame()
						t.Fatalf("heartbeat after %v: %v (server sent %v)", time.Since(start), err, f.body)
					}
				}
				p.begin(t, 0) // a close would arrive here instead of the begin
				p.useSession(t, 0, 0, "alive", 0)
			}},
		{name: "handshake-timeout-silent",
			mods: []func(*amqp.Config){func(c *amqp.Config) { c.HandshakeTimeout = 200 * time.Millisecond }},
			run: func(t *testing.T, ts *testServer) {
				start := time.Now()
				p := dialRaw(t, ts.addr)
				p.expectEOF(t)
				if el := time.Since(start); el < 150*time.Millisecond || el > 2*time.Second {
					t.Errorf("closed after %v, want about 200 ms", el)
				}
			}},
		{name: "handshake-timeout-no-open",
			// Long enough that a loaded machine still reads the header in time.
			mods: []func(*amqp.Config){func(c *amqp.Config) { c.HandshakeTimeout = time.Second }},
			run: func(t *testing.T, ts *testServer) {
				p := dialRaw(t, ts.addr)
				p.writeHeader(t, frames.ProtocolAMQP)
				p.expectHeader(t, frames.ProtocolAMQP)
				expectBody[*frames.Open](t, p)
				p.expectClose(t, frames.ErrCondResourceLimitExceeded)
				p.closeConn(t)
			}},
	}
}

const bigPassword = "0123456789abcdef" // repeated to 2 KiB below

func saslCases() []badCase {
	big := strings.Repeat(bigPassword, 128)
	auth := func(c *amqp.Config) {
		c.Authenticator = amqp.AuthenticatorFunc(func(_ context.Context, cr amqp.Credentials) (*amqp.Principal, error) {
			if cr.Username == "mallory" || (cr.Username == "big" && cr.Password != big) {
				return nil, amqp.ErrAuthFailed
			}
			return &amqp.Principal{Name: cr.Username, Mechanism: cr.Mechanism}, nil
		})
	}
	// saslStart sends the SASL header and returns the offered mechanisms.
	saslStart := func(t *testing.T, p *rawPeer) []encoding.Symbol {
		t.Helper()
		p.writeHeader(t, frames.ProtocolSASL)
		p.expectHeader(t, frames.ProtocolSASL)
		f := p.expectFrame(t)
		m, ok := f.body.(*frames.SASLMechanisms)
		if !ok || f.typ != frames.TypeSASL {
			t.Fatalf("expected sasl-mechanisms, got %v", f.body)
		}
		return m.Mechanisms
	}
	expectOutcome := func(t *testing.T, p *rawPeer, code uint8) {
		t.Helper()
		f := p.expectFrame(t)
		o, ok := f.body.(*frames.SASLOutcome)
		if !ok || f.typ != frames.TypeSASL {
			t.Fatalf("expected sasl-outcome, got %v", f.body)
		}
		if o.Code != code {
			t.Fatalf("sasl-outcome code %d, want %d", o.Code, code)
		}
	}
	// afterSASL runs the AMQP layer after a successful SASL exchange.
	afterSASL := func(t *testing.T, p *rawPeer) {
		t.Helper()
		p.openConn(t)
		p.begin(t, 0)
		p.useSession(t, 0, 0, "after-sasl", 0)
		p.send(t, 0, &frames.Close{})
		p.expectClose(t, "")
		p.expectEOF(t)
	}
	plain := func(user, pass string) *frames.SASLInit {
		return &frames.SASLInit{Mechanism: "PLAIN", InitialResponse: []byte("\x00" + user + "\x00" + pass)}
	}
	mods := []func(*amqp.Config){auth}
	return []badCase{
		{name: "sasl-plain-refused", mods: mods, run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			saslStart(t, p)
			p.sendSASL(t, plain("mallory", "secret"))
			expectOutcome(t, p, frames.SASLAuth)
			p.expectEOF(t)
		}},
		{name: "sasl-init-over-512-bytes", mods: mods, run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			saslStart(t, p)
			init := plain("big", big)
			if size := len(frames.AppendFrame(nil, frames.TypeSASL, 0, init, nil)); size <= 2048 {
				t.Fatalf("sasl-init is only %d bytes", size)
			}
			p.sendSASL(t, init)
			expectOutcome(t, p, frames.SASLOK)
			afterSASL(t, p)
		}},
		{name: "sasl-anonymous", mods: mods, run: func(t *testing.T, ts *testServer) {
			p := dialRaw(t, ts.addr)
			mechs := saslStart(t, p)
			if !strings.Contains(fmt.Sprint(mechs), "ANONYMOUS") {
				t.Fatalf("mechanisms %v lack ANONYMOUS", mechs)
			}
			p.sendSASL(t, &frames.SASLInit{Mechanism: "ANONYMOUS"})
			expectOutcome(t, p, frames.SASLOK)
			afterSASL(t, p)
		}},
		{name: "sasl-required-plain-header",
			mods:   []func(*amqp.Config){func(c *amqp.Config) { c.RequireSASL = true }},
			client: &goamqp.ConnOptions{SASLType: goamqp.SASLTypeAnonymous()},
			run: func(t *testing.T, ts *testServer) {
				p := dialRaw(t, ts.addr)
				p.writeHeader(t, frames.ProtocolAMQP)
				p.expectHeader(t, frames.ProtocolSASL)
				p.expectEOF(t)
			}},
	}
}
