package amqp_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"

	"github.com/amqpemu/amqpemu/amqp"
)

// sendN sends n messages "msg-<i>" with a seq application property.
func sendN(t *testing.T, ctx context.Context, sess *goamqp.Session, addr string, n int, opts *goamqp.SenderOptions) {
	t.Helper()
	snd, err := sess.NewSender(ctx, addr, opts)
	if err != nil {
		t.Fatalf("sender: %v", err)
	}
	defer snd.Close(ctx)
	for i := range n {
		msg := goamqp.NewMessage([]byte(fmt.Sprintf("msg-%d", i)))
		msg.ApplicationProperties = map[string]any{"seq": int64(i), "topic": "/pk/dn/user/x"}
		if err := snd.Send(ctx, msg, nil); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
}

func body(i int) []byte { return []byte(fmt.Sprintf("msg-%d", i)) }

// receiveN receives n messages, checks they come in order, and accepts each.
func receiveN(t *testing.T, ctx context.Context, rcv *goamqp.Receiver, n int) {
	t.Helper()
	for i := range n {
		m, err := rcv.Receive(ctx, nil)
		if err != nil {
			t.Fatalf("receive %d: %v", i, err)
		}
		if !bytes.Equal(m.GetData(), body(i)) || m.ApplicationProperties["seq"] != int64(i) {
			t.Fatalf("message %d: %q %v", i, m.GetData(), m.ApplicationProperties)
		}
		if err := rcv.AcceptMessage(ctx, m); err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
	}
}

func TestGoAMQPRoundTrip(t *testing.T) {
	for _, seq := range []uint32{0, math.MaxUint32 - 3} {
		t.Run(fmt.Sprintf("initial-id-%d", seq), func(t *testing.T) {
			ts := startServer(t, func(c *amqp.Config) { amqp.SetInitialSeq(c, seq) })
			_, sess := dial(t, ts, nil)
			ctx := ctxT(t)
			sendN(t, ctx, sess, "q1", 50, nil)
			rcv, err := sess.NewReceiver(ctx, "q1", &goamqp.ReceiverOptions{Credit: 7})
			if err != nil {
				t.Fatal(err)
			}
			receiveN(t, ctx, rcv, 50)
			waitFor(t, func() bool { return ts.backend.Stats().Accepted == 50 })
		})
	}
}

// TestLargeMessageSmallFrames sends and receives 1 MiB messages with a
// 512-byte max-frame-size on both sides, so every message is split.
func TestLargeMessageSmallFrames(t *testing.T) {
	for _, seq := range []uint32{0, math.MaxUint32 - 100} {
		t.Run(fmt.Sprintf("initial-id-%d", seq), func(t *testing.T) {
			ts := startServer(t, func(c *amqp.Config) { c.MaxFrameSize = 512; c.MaxMessageSize = 2 << 20; amqp.SetInitialSeq(c, seq) })
			_, sess := dial(t, ts, &goamqp.ConnOptions{MaxFrameSize: 512})
			ctx := ctxT(t)
			payload := make([]byte, 1<<20)
			for i := range payload {
				payload[i] = byte(i * 7)
			}
			snd, err := sess.NewSender(ctx, "big", nil)
			if err != nil {
				t.Fatal(err)
			}
			rcv, err := sess.NewReceiver(ctx, "big", &goamqp.ReceiverOptions{Credit: 2})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				payload[0] = byte(i)
				if err := snd.Send(ctx, goamqp.NewMessage(payload), nil); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			for i := range 3 {
				m, err := rcv.Receive(ctx, nil)
				if err != nil {
					t.Fatalf("receive %d: %v", i, err)
				}
				payload[0] = byte(i)
				if !bytes.Equal(m.GetData(), payload) {
					t.Fatalf("message %d differs (len %d)", i, len(m.GetData()))
				}
				rcv.AcceptMessage(ctx, m)
			}
		})
	}
}

func TestCreditAndDrain(t *testing.T) {
	ts := startServer(t)
	_, sess := dial(t, ts, nil)
	ctx := ctxT(t)
	sendN(t, ctx, sess, "q", 3, nil)
	rcv, err := sess.NewReceiver(ctx, "q", &goamqp.ReceiverOptions{Credit: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.IssueCredit(10); err != nil {
		t.Fatal(err)
	}
	receiveN(t, ctx, rcv, 3)
	// Drain: nothing is left to send, so the server answers with a flow that
	// uses up the other 7 credits; DrainCredit waits for that flow.
	if err := rcv.DrainCredit(ctx, nil); err != nil {
		t.Fatalf("drain: %v", err)
	}
	// With no credit left, a new message must not be delivered.
	sendN(t, ctx, sess, "q", 1, nil)
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if m, err := rcv.Receive(short, nil); err == nil {
		t.Fatalf("received %q without credit", m.GetData())
	}
	if err := rcv.IssueCredit(1); err != nil {
		t.Fatal(err)
	}
	if m, err := rcv.Receive(ctx, nil); err != nil || !bytes.Equal(m.GetData(), body(0)) {
		t.Fatalf("after credit: %v %v", m, err)
	}
}

func TestSettleModes(t *testing.T) {
	cases := []struct {
		name string
		snd  *goamqp.SenderSettleMode   // the client's sender
		rcv  *goamqp.ReceiverSettleMode // the client's receiver
		pre  *goamqp.SenderSettleMode   // requested server sender mode
	}{
		{"unsettled/first", goamqp.SenderSettleModeUnsettled.Ptr(), goamqp.ReceiverSettleModeFirst.Ptr(), nil},
		// The server settles what it receives first: a client sender may
		// not ask for second (TestReceiverSettlesFirst), a receiver may.
		{"mixed/second", goamqp.SenderSettleModeMixed.Ptr(), nil, nil},
		{"unsettled/second-receiver", goamqp.SenderSettleModeUnsettled.Ptr(), goamqp.ReceiverSettleModeSecond.Ptr(), nil},
		{"settled-send/first", goamqp.SenderSettleModeSettled.Ptr(), goamqp.ReceiverSettleModeFirst.Ptr(), nil},
		{"presettled-deliveries", nil, nil, goamqp.SenderSettleModeSettled.Ptr()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t)
			_, sess := dial(t, ts, nil)
			ctx := ctxT(t)
			sendN(t, ctx, sess, "q", 20, &goamqp.SenderOptions{SettlementMode: tc.snd})
			rcv, err := sess.NewReceiver(ctx, "q", &goamqp.ReceiverOptions{SettlementMode: tc.rcv, RequestedSenderSettleMode: tc.pre})
			if err != nil {
				t.Fatal(err)
			}
			receiveN(t, ctx, rcv, 20)
			waitFor(t, func() bool { return ts.backend.Stats().Accepted == 20 })
			if w, u := ts.backend.Depth("q"); w+u != 0 {
				t.Fatalf("left in queue: %d waiting, %d unsettled", w, u)
			}
		})
	}
}

func TestOutcomes(t *testing.T) {
	ts := startServer(t)
	_, sess := dial(t, ts, nil)
	ctx := ctxT(t)
	sendN(t, ctx, sess, "q", 1, nil)
	rcv, err := sess.NewReceiver(ctx, "q", &goamqp.ReceiverOptions{Credit: 1})
	if err != nil {
		t.Fatal(err)
	}
	next := func() *goamqp.Message {
		t.Helper()
		m, err := rcv.Receive(ctx, nil)
		if err != nil || !bytes.Equal(m.GetData(), body(0)) {
			t.Fatalf("receive: %v %v", m, err)
		}
		return m
	}
	if err := rcv.ReleaseMessage(ctx, next()); err != nil {
		t.Fatal(err)
	}
	if err := rcv.ModifyMessage(ctx, next(), &goamqp.ModifyMessageOptions{DeliveryFailed: true}); err != nil {
		t.Fatal(err)
	}
	if err := rcv.RejectMessage(ctx, next(), &goamqp.Error{Condition: "app:bad", Description: "nope"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return ts.backend.Stats().Rejected == 1 })
	st := ts.backend.Stats()
	if st.Released != 2 || st.Redelivered != 2 || st.Accepted != 0 {
		t.Fatalf("stats %+v", st)
	}
	if w, u := ts.backend.Depth("q"); w+u != 0 {
		t.Fatalf("rejected message still queued: %d/%d", w, u)
	}
}

// TestDetachReturnsUnsettled checks a receiver's unsettled messages go to
// another receiver once it detaches.
func TestDetachReturnsUnsettled(t *testing.T) {
	ts := startServer(t)
	_, sess := dial(t, ts, nil)
	ctx := ctxT(t)
	sendN(t, ctx, sess, "q", 5, nil)
	first, err := sess.NewReceiver(ctx, "q", &goamqp.ReceiverOptions{Credit: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := first.Receive(ctx, nil); err != nil {
			t.Fatalf("receive %d: %v", i, err)
		}
	}
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	_, sess2 := dial(t, ts, nil)
	second, err := sess2.NewReceiver(ctx, "q", &goamqp.ReceiverOptions{Credit: 5})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 5 {
		m, err := second.Receive(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		seen[string(m.GetData())] = true
		second.AcceptMessage(ctx, m)
	}
	if len(seen) != 5 {
		t.Fatalf("got %v", seen)
	}
}

func TestManySessionsAndLinks(t *testing.T) {
	ts := startServer(t)
	conn, _ := dial(t, ts, nil)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for s := range 20 {
		sess, err := conn.NewSession(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for l := range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- echoOnce(ctx, sess, fmt.Sprintf("q-%d-%d", s, l))
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// echoOnce sends one message to addr and receives it back on the session.
func echoOnce(ctx context.Context, sess *goamqp.Session, addr string) error {
	snd, err := sess.NewSender(ctx, addr, nil)
	if err != nil {
		return err
	}
	rcv, err := sess.NewReceiver(ctx, addr, nil)
	if err != nil {
		return err
	}
	if err := snd.Send(ctx, goamqp.NewMessage([]byte(addr)), nil); err != nil {
		return err
	}
	m, err := rcv.Receive(ctx, nil)
	if err != nil {
		return err
	}
	if string(m.GetData()) != addr {
		return fmt.Errorf("%s got %q", addr, m.GetData())
	}
	if err := rcv.AcceptMessage(ctx, m); err != nil {
		return err
	}
	snd.Close(ctx)
	return rcv.Close(ctx)
}

// TestHeartbeatsKeepClientAlive: go-amqp drops a connection that is silent for
// its idle time-out; the server's empty frames must arrive well inside it.
func TestHeartbeatsKeepClientAlive(t *testing.T) {
	ts := startServer(t, func(c *amqp.Config) {
		c.IdleTimeout = 400 * time.Millisecond
		c.HeartbeatFloor = 50 * time.Millisecond // below the client's 150 ms
	})
	conn, sess := dial(t, ts, &goamqp.ConnOptions{IdleTimeout: 300 * time.Millisecond})
	ctx := ctxT(t)
	select {
	case <-conn.Done():
		t.Fatalf("connection dropped: %v", conn.Err())
	case <-time.After(1500 * time.Millisecond): // five idle periods of the client
	}
	if err := echoOnce(ctx, sess, "after-idle"); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentClients(t *testing.T) {
	ts := startServer(t)
	ctx := ctxT(t)
	const senders, receivers, perSender = 4, 4, 250
	var wg sync.WaitGroup
	got := make(chan string, senders*perSender)
	for r := range receivers {
		_, sess := dial(t, ts, nil)
		rcv, err := sess.NewReceiver(ctx, "shared", &goamqp.ReceiverOptions{Credit: 20})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := rcv.Receive(ctx, nil)
				if err != nil {
					return // the context ends the loop
				}
				rcv.AcceptMessage(ctx, m)
				got <- fmt.Sprintf("%d:%s", r, m.GetData())
			}
		}()
	}
	var swg sync.WaitGroup
	for s := range senders {
		_, sess := dial(t, ts, nil)
		swg.Add(1)
		go func() {
			defer swg.Done()
			snd, err := sess.NewSender(ctx, "shared", nil)
			if err != nil {
				t.Error(err)
				return
			}
			for i := range perSender {
				if err := snd.Send(ctx, goamqp.NewMessage([]byte(fmt.Sprintf("%d-%d", s, i))), nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	swg.Wait()
	seen := map[string]bool{}
	perReceiver := map[string]int{}
	for len(seen) < senders*perSender {
		select {
		case v := <-got:
			var r int
			var m string
			fmt.Sscanf(v, "%d:%s", &r, &m)
			if seen[m] {
				t.Fatalf("duplicate %s", m)
			}
			seen[m] = true
			perReceiver[fmt.Sprint(r)]++
		case <-ctx.Done():
			t.Fatalf("received %d of %d", len(seen), senders*perSender)
		}
	}
	if len(perReceiver) != receivers {
		t.Fatalf("not every receiver got messages: %v", perReceiver)
	}
}

func TestShutdownSendsClose(t *testing.T) {
	ts := startServer(t)
	conn, _ := dial(t, ts, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-conn.Done()
	var ce *goamqp.ConnError
	if !errors.As(conn.Err(), &ce) || ce.RemoteErr == nil || ce.RemoteErr.Condition != goamqp.ErrCondConnectionForced {
		t.Fatalf("client saw %v, want a close with %s", conn.Err(), goamqp.ErrCondConnectionForced)
	}
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
