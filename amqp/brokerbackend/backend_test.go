package brokerbackend_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/brokerbackend"
	"github.com/amqpemu/amqpemu/broker"
)

type env struct {
	b    *broker.Broker
	addr string
}

// start runs a broker on a fresh data directory and an AMQP server over it.
func start(t *testing.T) *env { return startB(t) }

func startB(t testing.TB, opts ...func(*amqp.Config)) *env { return startWith(t, nil, opts...) }

// startWith is startB with the broker's configuration changed by bmod. The
// server takes the broker's message size limit, as the binary does.
func startWith(t testing.TB, bmod func(*broker.Config), opts ...func(*amqp.Config)) *env {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bcfg := broker.Config{DataDir: t.TempDir(), Logger: log}
	if bmod != nil {
		bmod(&bcfg)
	}
	b, err := broker.Open(ctx, bcfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := amqp.Config{Backend: brokerbackend.New(b), Logger: log, MaxMessageSize: uint64(b.MaxMessageSize())}
	for _, o := range opts {
		o(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, b, cfg, ln)
	return &env{b: b, addr: ln.Addr().String()}
}

// serve runs an AMQP server with cfg on ln until the test ends, then
// closes it and b.
func serve(t testing.TB, b *broker.Broker, cfg amqp.Config, ln net.Listener) {
	srv := amqp.NewServer(cfg)
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		b.Close(ctx)
	})
}

func ctxT(t *testing.T) context.Context { return ctxB(t) }

func ctxB(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (e *env) session(t *testing.T) (*goamqp.Conn, *goamqp.Session) {
	t.Helper()
	conn, err := goamqp.Dial(ctxT(t), "amqp://"+e.addr, &goamqp.ConnOptions{ContainerID: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	sess, err := conn.NewSession(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return conn, sess
}

func (e *env) publish(t *testing.T, n int) []string {
	t.Helper()
	msgs := make([]broker.DeviceMessage, n)
	for i := range msgs {
		msgs[i] = broker.DeviceMessage{ProductKey: "pk1", DeviceName: "dev1", Topic: "/pk1/dev1/user/update", Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))}
	}
	ids, err := e.b.Publish(ctxT(t), msgs...)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestVendorMessageFormat: a device message reaches a DEFAULT_GROUP receiver
// in the vendor's format.
func TestVendorMessageFormat(t *testing.T) {
	e := start(t)
	ids := e.publish(t, 1)
	_, sess := e.session(t)
	ctx := ctxT(t)
	rcv, err := sess.NewReceiver(ctx, "", nil) // the Node and Python samples name no source
	if err != nil {
		t.Fatal(err)
	}
	m, err := rcv.Receive(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ap := m.ApplicationProperties
	if string(m.GetData()) != `{"n":0}` || ap["topic"] != "/pk1/dev1/user/update" || ap["messageId"] != ids[0] ||
		m.Properties == nil || m.Properties.MessageID != ids[0] {
		t.Fatalf("message: data %q props %v properties %+v", m.GetData(), ap, m.Properties)
	}
	if gt, ok := ap["generateTime"].(int64); !ok || time.Since(time.UnixMilli(gt)) > time.Minute {
		t.Fatalf("generateTime %T %v, want a recent int64", ap["generateTime"], ap["generateTime"])
	}
	if m.Properties.ContentType != nil {
		t.Fatalf("content-type %v set; Java samples need none", *m.Properties.ContentType)
	}
	if err := rcv.AcceptMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
}

// TestMembersShareAndLimit: 64 receivers share a group roughly evenly and the
// 65th is refused with amqp:resource-limit-exceeded.
func TestMembersShareAndLimit(t *testing.T) {
	e := start(t)
	ctx := ctxT(t)
	const members, n = 64, 6400
	var mu sync.Mutex
	counts := map[int]int{}
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i := range members {
		_, sess := e.session(t)
		rcv, err := sess.NewReceiver(ctx, broker.DefaultGroupID, &goamqp.ReceiverOptions{Credit: 50})
		if err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := rcv.Receive(ctx, nil)
				if err != nil {
					return
				}
				rcv.AcceptMessage(ctx, m)
				mu.Lock()
				counts[i]++
				seen[m.ApplicationProperties["messageId"].(string)] = true
				done := len(seen) == n
				mu.Unlock()
				if done {
					return
				}
			}
		}()
	}
	_, sess := e.session(t)
	_, err := sess.NewReceiver(ctx, broker.DefaultGroupID, nil)
	var ae *goamqp.Error
	if !errors.As(err, &ae) || ae.Condition != goamqp.ErrCondResourceLimitExceeded {
		t.Fatalf("65th member: %v", err)
	}

	e.publish(t, n)
	deadline := time.After(60 * time.Second)
	for {
		mu.Lock()
		got := len(seen)
		mu.Unlock()
		if got == n {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("received %d of %d", got, n)
		case <-time.After(50 * time.Millisecond): // polling the receivers' progress
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range members {
		// 100 expected each; under 30 would be far outside chance.
		if counts[i] < 30 {
			t.Errorf("member %d got %d of %d", i, counts[i], n)
		}
	}
}

// TestKilledMemberHandsBack: a member whose connection dies holding unsettled
// messages; another member gets them.
func TestKilledMemberHandsBack(t *testing.T) {
	e := start(t)
	ctx := ctxT(t)
	raw, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := goamqp.NewConn(ctx, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := conn.NewSession(ctx, nil)
	first, err := sess.NewReceiver(ctx, "", &goamqp.ReceiverOptions{Credit: 5})
	if err != nil {
		t.Fatal(err)
	}
	ids := e.publish(t, 5)
	for range 5 {
		if _, err := first.Receive(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close() // the process "dies": no detach, no close

	_, sess2 := e.session(t)
	second, err := sess2.NewReceiver(ctx, "", &goamqp.ReceiverOptions{Credit: 5})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for range 5 {
		m, err := second.Receive(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		got[m.ApplicationProperties["messageId"].(string)] = true
		second.AcceptMessage(ctx, m)
	}
	for _, id := range ids {
		if !got[id] {
			t.Fatalf("%s not handed to the second member: %v", id, got)
		}
	}
}

func TestReleasedRedelivers(t *testing.T) {
	e := start(t)
	ctx := ctxT(t)
	_, sess := e.session(t)
	rcv, err := sess.NewReceiver(ctx, "", &goamqp.ReceiverOptions{Credit: 1})
	if err != nil {
		t.Fatal(err)
	}
	ids := e.publish(t, 1)
	m, err := rcv.Receive(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rcv.ReleaseMessage(ctx, m)
	again, err := rcv.Receive(ctx, nil)
	if err != nil || again.ApplicationProperties["messageId"] != ids[0] {
		t.Fatalf("after release: %v %v", again, err)
	}
	rcv.AcceptMessage(ctx, again)
}

// TestSendersTopicsAndQueues: a sender to a device topic feeds the groups
// subscribed to its product; a sender to any other address feeds a generic
// queue whose receivers get the message as sent.
func TestSendersTopicsAndQueues(t *testing.T) {
	e := start(t)
	ctx := ctxT(t)
	g, err := e.b.CreateGroup(ctx, "app_group")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.b.SetSubscription(ctx, "pkS", broker.Subscription{Groups: []string{g.ID}}); err != nil {
		t.Fatal(err)
	}
	_, sess := e.session(t)
	byName, err := sess.NewReceiver(ctx, "app_group", nil)
	if err != nil {
		t.Fatal(err)
	}
	snd, err := sess.NewSender(ctx, "/pkS/devS/user/temp", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := snd.Send(ctx, goamqp.NewMessage([]byte("21.5")), nil); err != nil {
		t.Fatal(err)
	}
	m, err := byName.Receive(ctx, nil)
	if err != nil || string(m.GetData()) != "21.5" || m.ApplicationProperties["topic"] != "/pkS/devS/user/temp" {
		t.Fatalf("device topic: %v %v", m, err)
	}
	byName.AcceptMessage(ctx, m)

	q, err := sess.NewSender(ctx, "jobs", nil)
	if err != nil {
		t.Fatal(err)
	}
	out := goamqp.NewMessage([]byte("job-1"))
	out.ApplicationProperties = map[string]any{"priority": int32(7)}
	if err := q.Send(ctx, out, nil); err != nil {
		t.Fatal(err)
	}
	qr, err := sess.NewReceiver(ctx, "jobs", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := qr.Receive(ctx, nil)
	if err != nil || string(got.GetData()) != "job-1" || got.ApplicationProperties["priority"] != int32(7) {
		t.Fatalf("generic queue: %v %v", got, err)
	}
	qr.AcceptMessage(ctx, got)

	if _, err := sess.NewSender(ctx, "/only-one-part", nil); err == nil {
		t.Fatal("sender to a malformed device topic accepted")
	}
}
