package stomp_test

import (
	"context"
	"encoding/base64"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/stomp"
	"github.com/amqpemu/amqpemu/stomp/frame"
)

func messageIDs(fs []*frame.Frame) []string {
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.Value("message-id")
	}
	slices.Sort(ids)
	return ids
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// The MESSAGE frame carries what the vendor's consumers read.
func TestMessageFrame(t *testing.T) {
	e := start(t)
	c := dial(t, e.addr)
	user, pass := signedLogin(t, "c1", broker.DefaultGroupID, "")
	c.connect(user, pass)
	c.subscribe("client-individual")
	gen := time.UnixMilli(1763900000123)
	payload := []byte("{\"temp\":21}\x00\xff")
	ids, err := e.b.Publish(context.Background(), broker.DeviceMessage{ProductKey: "pk1", DeviceName: "dn1",
		Topic: "/pk1/dn1/user/a:b", Payload: payload, GenerateTime: gen})
	if err != nil {
		t.Fatal(err)
	}
	f := c.expect("MESSAGE")
	want := map[string]string{"subscription": "1", "message-id": ids[0], "destination": "/pk1/dn1/user/a:b",
		"messageId": ids[0], "generateTime": "1763900000123", "topic": "/pk1/dn1/user/a:b",
		"content-length": strconv.Itoa(len(payload))}
	for k, v := range want {
		if got := f.Value(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if f.Value("ack") == "" {
		t.Error("no ack header in client-individual mode")
	}
	if string(f.Body) != string(payload) {
		t.Errorf("body %q, want %q", f.Body, payload)
	}
	c.send("ACK", "id", f.Value("ack"), "receipt", "a")
	c.expectReceipt("a")
	e.waitBacklog(t, broker.DefaultGroupID, 0)
}

func TestBase64Body(t *testing.T) {
	e := start(t)
	c := dial(t, e.addr)
	user, pass := signedLogin(t, "c1", broker.DefaultGroupID, ",encode=base64")
	c.connect(user, pass)
	c.subscribe("auto")
	payload := []byte{0, 1, 2, 0xfe, 0xff, '\n', ':'}
	e.publish(t, "pk1", payload)
	f := c.expect("MESSAGE")
	if want := base64.StdEncoding.EncodeToString(payload); string(f.Body) != want {
		t.Fatalf("body %q, want %q", f.Body, want)
	}
	if _, ok := f.Get("ack"); ok {
		t.Error("an ack header in auto mode")
	}
}

// ack:auto acknowledges each message once its frame is written.
func TestAutoAck(t *testing.T) {
	e := start(t)
	c := dial(t, e.addr)
	c.connect("plain", "x")
	c.subscribe("auto")
	ids := e.publish(t, "pk1", payloads("auto", 20)...)
	if got := messageIDs(c.messages(20)); !slices.Equal(got, sorted(ids)) {
		t.Fatalf("ids %v, want %v", got, ids)
	}
	e.acks.waitSettled(t, broker.Ack, 20)
	e.waitBacklog(t, broker.DefaultGroupID, 0)
}

// What a connection held unacknowledged goes to another member of the
// group as soon as it drops.
func TestDroppedConnectionRedelivers(t *testing.T) {
	e := start(t)
	a := dial(t, e.addr)
	a.connect("a", "x")
	a.subscribe("client-individual")
	ids := e.publish(t, "pk1", payloads("drop", 3)...)
	first := a.messages(3)
	b := dial(t, e.addr)
	b.connect("b", "x")
	b.subscribe("client")
	a.nc.Close()
	again := b.messages(3)
	if got, want := messageIDs(again), messageIDs(first); !slices.Equal(got, want) || !slices.Equal(got, sorted(ids)) {
		t.Fatalf("redelivered %v, first delivered %v, published %v", got, want, ids)
	}
	for _, f := range again {
		if f.Value("redelivered") != "true" || f.Value("messageId") != f.Value("message-id") {
			t.Errorf("redelivery headers %q", f.Headers)
		}
	}
}

func TestNackRedeliversSameMessageID(t *testing.T) {
	e := start(t)
	c := dial(t, e.addr)
	c.connect("plain", "x")
	c.subscribe("client-individual")
	ids := e.publish(t, "pk1", []byte("nack me"))
	f := c.expect("MESSAGE")
	c.send("NACK", "id", f.Value("ack"))
	g := c.expect("MESSAGE")
	if g.Value("messageId") != ids[0] || g.Value("message-id") != ids[0] || string(g.Body) != "nack me" {
		t.Fatalf("redelivery %q %q, want messageId %s", g.Headers, g.Body, ids[0])
	}
	if g.Value("ack") == f.Value("ack") {
		t.Errorf("redelivery reuses ack id %s", g.Value("ack"))
	}
	c.send("ACK", "id", g.Value("ack"), "receipt", "a")
	c.expectReceipt("a")
	e.waitBacklog(t, broker.DefaultGroupID, 0)
	if n := e.acks.count(broker.Requeue); n != 1 {
		t.Errorf("%d requeues, want 1", n)
	}
}

// With ack:client an ACK acknowledges every earlier message too.
func TestClientAckIsCumulative(t *testing.T) {
	e := start(t)
	c := dial(t, e.addr)
	c.connect("plain", "x")
	c.subscribe("client")
	e.publish(t, "pk1", payloads("cumulative", 5)...)
	msgs := c.messages(5)
	c.send("ACK", "id", msgs[2].Value("ack"), "receipt", "a")
	c.expectReceipt("a")
	e.acks.waitSettled(t, broker.Ack, 3)
	e.waitBacklog(t, broker.DefaultGroupID, 2)

	// The two unacknowledged ones, and only they, come back.
	c.send("DISCONNECT", "receipt", "bye")
	c.expectReceipt("bye")
	d := dial(t, e.addr)
	d.connect("plain", "x")
	d.subscribe("client-individual")
	again := d.messages(2)
	if got, want := messageIDs(again), messageIDs(msgs[3:]); !slices.Equal(got, want) {
		t.Fatalf("redelivered %v, want %v", got, want)
	}
	d.expectSilence(300 * time.Millisecond)
}

// ACK frames of STOMP 1.0/1.1 clients name the message-id.
func TestAckByMessageID(t *testing.T) {
	e := start(t)
	c := dial(t, e.addr)
	c.connect("plain", "x")
	c.subscribe("client-individual")
	e.publish(t, "pk1", []byte("one"))
	f := c.expect("MESSAGE")
	c.send("ACK", "message-id", f.Value("message-id"), "subscription", "1", "receipt", "a")
	c.expectReceipt("a")
	e.waitBacklog(t, broker.DefaultGroupID, 0)
}

// Prefetch bounds the unacknowledged MESSAGEs of a connection.
func TestPrefetchBoundsUnacked(t *testing.T) {
	e := start(t, withConfig(func(c *stomp.Config) { c.Prefetch = 3 }))
	c := dial(t, e.addr)
	c.connect("plain", "x")
	c.subscribe("client-individual")
	e.publish(t, "pk1", payloads("prefetch", 6)...)
	first := c.messages(3)
	c.expectSilence(300 * time.Millisecond)
	c.send("ACK", "id", first[0].Value("ack"))
	c.expect("MESSAGE")
	c.expectSilence(300 * time.Millisecond)
}

// UNSUBSCRIBE hands unacknowledged messages back at once.
func TestUnsubscribeHandsBack(t *testing.T) {
	e := start(t)
	a := dial(t, e.addr)
	a.connect("a", "x")
	a.subscribe("client-individual")
	ids := e.publish(t, "pk1", payloads("unsub", 2)...)
	a.messages(2)
	b := dial(t, e.addr)
	b.connect("b", "x")
	b.subscribe("client-individual")
	a.send("UNSUBSCRIBE", "id", "1", "receipt", "u")
	a.expectReceipt("u")
	if got := messageIDs(b.messages(2)); !slices.Equal(got, sorted(ids)) {
		t.Fatalf("got %v, want %v", got, ids)
	}
}

// The member past the group's limit is refused, naming the limit.
func TestTooManyMembers(t *testing.T) {
	e := start(t, withBroker(func(c *broker.Config) { c.MaxMembers = 2 }))
	for i := range 2 {
		c := dial(t, e.addr)
		c.connect("m"+strconv.Itoa(i), "x")
		c.subscribe("auto")
	}
	c := dial(t, e.addr)
	c.connect("third", "x")
	c.send("SUBSCRIBE", "id", "1", "destination", "/topic/#")
	c.expectError("resource limit exceeded in consumer group DEFAULT_GROUP: consumer group has the maximum number of online clients: 2 online clients is the limit")
}

func TestUnknownGroup(t *testing.T) {
	e := start(t)
	c := dial(t, e.addr)
	user, pass := signedLogin(t, "c1", "nosuchgroup000100", "")
	c.connect(user, pass)
	c.send("SUBSCRIBE", "id", "1", "destination", "/topic/#")
	c.expectError(`consumer group "nosuchgroup000100" does not exist`)
}

// Every subscribed group gets every message; the group comes from the
// signed user name.
func TestTwoGroups(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	g, err := e.b.CreateGroup(ctx, "second_group")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.b.SetSubscription(ctx, "pk2", broker.Subscription{Groups: []string{g.ID, broker.DefaultGroupID}}); err != nil {
		t.Fatal(err)
	}
	var clients []*client
	for _, group := range []string{broker.DefaultGroupID, g.ID} {
		c := dial(t, e.addr)
		user, pass := signedLogin(t, "c-"+group, group, "")
		c.connect(user, pass)
		c.subscribe("client-individual")
		clients = append(clients, c)
	}
	ids := e.publish(t, "pk2", payloads("both", 4)...)
	for i, c := range clients {
		if got := messageIDs(c.messages(4)); !slices.Equal(got, sorted(ids)) {
			t.Fatalf("group %d got %v, want %v", i, got, ids)
		}
	}
	members := e.b.Members(g.ID)
	if len(members) != 1 || members[0].ClientID != "c-"+g.ID || !strings.HasPrefix(members[0].Address, "127.0.0.1:") {
		t.Fatalf("members of %s: %+v", g.ID, members)
	}
}

// Shutdown tells clients, hands unacknowledged messages back and is
// idempotent; a later server on the same broker redelivers them.
func TestShutdown(t *testing.T) {
	e := start(t)
	c := dial(t, e.addr)
	c.connect("plain", "x")
	c.subscribe("client-individual")
	ids := e.publish(t, "pk1", []byte("held"))
	c.expect("MESSAGE")
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expectError("server shutting down")
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if n := e.srv.ConnCount(); n != 0 {
		t.Fatalf("%d connections after Shutdown", n)
	}
	if n := e.obs.protocolErrors.Load(); n != 0 {
		t.Errorf("shutdown counted as %d protocol errors", n)
	}

	srv := stomp.NewServer(stomp.Config{Broker: e.b, Logger: testLogger(t)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)
	d := dial(t, ln.Addr().String())
	d.connect("plain", "x")
	d.subscribe("auto")
	if f := d.expect("MESSAGE"); f.Value("message-id") != ids[0] {
		t.Fatalf("got %s, want %s", f.Value("message-id"), ids[0])
	}
}

// A client that stops reading holds at most Prefetch queued deliveries;
// once a write to it has waited WriteTimeout it is disconnected, and what
// was not written reaches another member.
func TestStalledReaderIsDisconnected(t *testing.T) {
	e := start(t, withConfig(func(c *stomp.Config) {
		c.Prefetch = 4
		c.WriteTimeout = 300 * time.Millisecond
	}))
	a := dial(t, e.addr)
	a.connect("stalled", "x")
	a.subscribe("auto")
	// More than loopback socket buffers hold, so writes to a block.
	const total = 200
	big := make([][]byte, total)
	for i := range big {
		big[i] = make([]byte, 128<<10)
		big[i][0] = byte(i)
	}
	e.publish(t, "pk1", big...)
	deadline := time.Now().Add(waitLong)
	for e.srv.ConnCount() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling for the server to drop a
	}
	if n := e.srv.ConnCount(); n != 0 {
		t.Fatalf("%d connections: the stalled reader was not disconnected", n)
	}
	ackedByA := e.acks.count(broker.Ack)
	if ackedByA == total {
		t.Fatalf("all %d messages acked to a reader that read nothing", total)
	}
	b := dial(t, e.addr)
	b.connect("b", "x")
	b.subscribe("client-individual")
	for range total - ackedByA {
		f := b.expect("MESSAGE")
		b.send("ACK", "id", f.Value("ack"))
	}
	e.waitBacklog(t, broker.DefaultGroupID, 0)
}
