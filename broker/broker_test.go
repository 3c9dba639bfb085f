package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

func openBroker(t *testing.T, dir string, mod ...func(*Config)) *Broker {
	t.Helper()
	cfg := Config{DataDir: dir, Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)}
	for _, m := range mod {
		m(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	return b
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// inbox is a Receiver that queues deliveries for the test to read.
type inbox chan Delivery

func (in inbox) Deliver(d Delivery) bool {
	select {
	case in <- d:
		return true
	default:
		return false // the test's buffer is full: behave like a gone link
	}
}

func (in inbox) next(t *testing.T) Delivery {
	t.Helper()
	select {
	case d := <-in:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery within 10s")
		return Delivery{}
	}
}

// none fails if a delivery arrives within a short while.
func (in inbox) none(t *testing.T) {
	t.Helper()
	select {
	case d := <-in:
		t.Fatalf("unexpected delivery %s", d.Message.MessageID)
	case <-time.After(300 * time.Millisecond):
	}
}

func join(t *testing.T, b *Broker, id string, credit int) (*Member, inbox) {
	t.Helper()
	in := make(inbox, 10000)
	m, err := b.Join(ctxT(t), id, MemberInfo{ClientID: t.Name()}, in)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Leave)
	m.Credit(credit)
	return m, in
}

func publish(t *testing.T, b *Broker, pk string, n int) []string {
	t.Helper()
	msgs := make([]DeviceMessage, n)
	for i := range msgs {
		msgs[i] = DeviceMessage{ProductKey: pk, DeviceName: "dev1", Payload: []byte(fmt.Sprintf("m%d", i))}
	}
	ids, err := b.Publish(ctxT(t), msgs...)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func waitBacklog(t *testing.T, b *Broker, id string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := b.Backlog(ctxT(t), id)
		if err != nil {
			t.Fatal(err)
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlog of %s is %d, want %d", id, n, want)
		}
		time.Sleep(20 * time.Millisecond) // polling a counter the server updates asynchronously
	}
}

func TestPublishConsumeAck(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ids := publish(t, b, "pk1", 3)
	waitBacklog(t, b, DefaultGroupID, 3)
	m, in := join(t, b, DefaultGroupID, 10)
	for i := range 3 {
		d := in.next(t)
		if d.Message.MessageID != ids[i] || string(d.Message.Payload) != fmt.Sprintf("m%d", i) ||
			d.Message.Topic != "/pk1/dev1/user/update" || d.Message.GenerateTime.IsZero() || d.Redelivered {
			t.Fatalf("delivery %d: %+v", i, d)
		}
		m.Settle(d.Token, Ack)
	}
	waitBacklog(t, b, DefaultGroupID, 0)
}

func TestGroupNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"abcd", true}, {"abc", false}, {"a_b_1", true}, {strings.Repeat("x", 30), true},
		{strings.Repeat("x", 31), false}, {"消费组", true}, {"消费", true}, {"消", false},
		{"has space", false}, {"dash-ed", false}, {"", false},
	} {
		err := ValidateGroupName(tc.name)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidGroupName)) {
			t.Errorf("%q: %v", tc.name, err)
		}
	}
}

func TestTwoGroupsEachGetEveryMessage(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	g1, err := b.CreateGroup(ctx, "group_one")
	if err != nil {
		t.Fatal(err)
	}
	g2, err := b.CreateGroup(ctx, "group_two")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetSubscription(ctx, "pkA", Subscription{Groups: []string{g1.ID, g2.ID}}); err != nil {
		t.Fatal(err)
	}
	_, in1 := join(t, b, g1.ID, 100)
	_, in2 := join(t, b, g2.ID, 100)
	publish(t, b, "pkA", 5)
	publish(t, b, "pkOther", 2) // not subscribed by either
	for range 5 {
		in1.next(t)
		in2.next(t)
	}
	in1.none(t)
	in2.none(t)
}

func TestLeaveHandsBackUnsettled(t *testing.T) {
	b := openBroker(t, t.TempDir())
	first, in1 := join(t, b, DefaultGroupID, 5)
	publish(t, b, "pk1", 5)
	for range 5 {
		in1.next(t)
	}
	_, in2 := join(t, b, DefaultGroupID, 5)
	first.Leave()
	for range 5 {
		if d := in2.next(t); !d.Redelivered {
			t.Fatalf("%s not marked redelivered", d.Message.MessageID)
		}
	}
}

func TestRequeueAndDrop(t *testing.T) {
	b := openBroker(t, t.TempDir())
	m, in := join(t, b, DefaultGroupID, 10)
	publish(t, b, "pk1", 2)
	d1, d2 := in.next(t), in.next(t)
	m.Settle(d1.Token, Requeue)
	m.Settle(d2.Token, Drop)
	again := in.next(t)
	if again.Message.MessageID != d1.Message.MessageID || !again.Redelivered {
		t.Fatalf("requeued %s, got %s", d1.Message.MessageID, again.Message.MessageID)
	}
	m.Settle(again.Token, Ack)
	in.none(t)
	waitBacklog(t, b, DefaultGroupID, 0)
}

func TestMemberLimit(t *testing.T) {
	b := openBroker(t, t.TempDir())
	for range 64 {
		join(t, b, DefaultGroupID, 0)
	}
	_, err := b.Join(ctxT(t), DefaultGroupID, MemberInfo{ClientID: "65th"}, make(inbox))
	if !errors.Is(err, ErrTooManyMembers) || !strings.Contains(err.Error(), "64") {
		t.Fatalf("65th member: %v", err)
	}
}

// TestMembersShareEvenly: each message goes to one member, chosen at random
// among those with credit (a loose statistical check).
func TestMembersShareEvenly(t *testing.T) {
	b := openBroker(t, t.TempDir())
	const members, n = 4, 2000
	var ins []inbox
	var ms []*Member
	for range members {
		m, in := join(t, b, DefaultGroupID, n)
		ms, ins = append(ms, m), append(ins, in)
	}
	publish(t, b, "pk1", n)
	seen := map[string]bool{}
	counts := make([]int, members)
	for len(seen) < n {
		select {
		case d := <-ins[0]:
			counts[0]++
			seen[d.Message.MessageID] = true
			ms[0].Settle(d.Token, Ack)
		case d := <-ins[1]:
			counts[1]++
			seen[d.Message.MessageID] = true
			ms[1].Settle(d.Token, Ack)
		case d := <-ins[2]:
			counts[2]++
			seen[d.Message.MessageID] = true
			ms[2].Settle(d.Token, Ack)
		case d := <-ins[3]:
			counts[3]++
			seen[d.Message.MessageID] = true
			ms[3].Settle(d.Token, Ack)
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d of %d", len(seen), n)
		}
	}
	for i, c := range counts {
		if c < n/members/2 { // expected 500 each; 250 is far outside chance
			t.Errorf("member %d got %d of %d: %v", i, c, n, counts)
		}
	}
}

func TestClearAndReset(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	other, err := b.CreateGroup(ctx, "other_group")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetSubscription(ctx, "pk1", Subscription{Groups: []string{other.ID, DefaultGroupID}}); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "pk1", 4)
	waitBacklog(t, b, DefaultGroupID, 4)
	waitBacklog(t, b, other.ID, 4)
	if err := b.Clear(ctx, DefaultGroupID); err != nil {
		t.Fatal(err)
	}
	waitBacklog(t, b, DefaultGroupID, 0)
	waitBacklog(t, b, other.ID, 4) // untouched
	if err := b.Reset(ctx, DefaultGroupID, Position{Earliest: true}); err != nil {
		t.Fatal(err)
	}
	waitBacklog(t, b, DefaultGroupID, 4)
	if err := b.Reset(ctx, DefaultGroupID, Position{Time: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	waitBacklog(t, b, DefaultGroupID, 0)
	if err := b.Reset(ctx, DefaultGroupID, Position{Time: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	waitBacklog(t, b, DefaultGroupID, 4)
}

func TestDeleteRules(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	if err := b.DeleteGroup(ctx, DefaultGroupID); !errors.Is(err, ErrDefaultGroup) {
		t.Fatalf("delete DEFAULT_GROUP: %v", err)
	}
	g, err := b.CreateGroup(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateGroup(ctx, "doomed"); !errors.Is(err, ErrGroupExists) {
		t.Fatalf("duplicate name: %v", err)
	}
	if err := b.SetSubscription(ctx, "pkZ", Subscription{Groups: []string{g.ID}}); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteGroup(ctx, g.ID); !errors.Is(err, ErrGroupInUse) || !strings.Contains(err.Error(), "pkZ") {
		t.Fatalf("delete subscribed group: %v", err)
	}
	if err := b.DeleteSubscription(ctx, "pkZ"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Group(ctx, g.ID); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("deleted group still there: %v", err)
	}
}

// TestRestartKeepsState: groups, subscriptions and unacknowledged messages
// survive a restart on the same data directory.
func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	b := openBroker(t, dir)
	ctx := ctxT(t)
	g, err := b.CreateGroup(ctx, "survivor")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetSubscription(ctx, "pk1", Subscription{Groups: []string{g.ID}, Kinds: []string{KindData, KindStatus}}); err != nil {
		t.Fatal(err)
	}
	m, in := join(t, b, g.ID, 10)
	ids := publish(t, b, "pk1", 3)
	m.Settle(in.next(t).Token, Ack) // one acked, one delivered but unsettled, one never delivered
	in.next(t)
	b.Close(ctx)

	b2 := openBroker(t, dir)
	if got, err := b2.Group(ctx, g.ID); err != nil || got.Name != "survivor" {
		t.Fatalf("group after restart: %+v %v", got, err)
	}
	if s, err := b2.Subscription(ctx, "pk1"); err != nil || len(s.Kinds) != 2 || s.Groups[0] != g.ID {
		t.Fatalf("subscription after restart: %+v %v", s, err)
	}
	m2, in2 := join(t, b2, g.ID, 10)
	got := map[string]bool{}
	for range 2 {
		d := in2.next(t)
		got[d.Message.MessageID] = true
		m2.Settle(d.Token, Ack)
	}
	if !got[ids[1]] || !got[ids[2]] {
		t.Fatalf("after restart got %v, want %s and %s", got, ids[1], ids[2])
	}
}

func TestGenericQueue(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	if err := b.PublishQueue(ctx, "orders/eu", []byte("raw-amqp-bytes")); err != nil {
		t.Fatal(err)
	}
	in := make(inbox, 10)
	m, err := b.JoinQueue(ctx, "orders/eu", MemberInfo{ClientID: "c"}, in)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	m.Credit(5)
	d := in.next(t)
	if string(d.Raw) != "raw-amqp-bytes" {
		t.Fatalf("got %q", d.Raw)
	}
	m.Settle(d.Token, Ack)
	in.none(t)
}

func TestBadDeviceMessages(t *testing.T) {
	b := openBroker(t, t.TempDir())
	for _, m := range []DeviceMessage{
		{DeviceName: "d"},
		{ProductKey: "pk", DeviceName: "has space"},
	} {
		if _, err := b.Publish(ctxT(t), m); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%+v: %v", m.DeviceName, err)
		}
	}
	big := DeviceMessage{ProductKey: "pk", DeviceName: "d", Payload: make([]byte, DefaultMaxMessageSize+1)}
	if _, err := b.Publish(ctxT(t), big); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("payload over the limit: %v", err)
	}
	// Dots and percent signs in names are escaped, not split into tokens.
	if _, err := b.Publish(ctxT(t), DeviceMessage{ProductKey: "pk", DeviceName: "a.b%c"}); err != nil {
		t.Fatal(err)
	}
}

func TestGroupStats(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	publish(t, b, "pk1", 3)
	in := make(inbox, 10)
	m, err := b.Join(ctx, DefaultGroupID, MemberInfo{ClientID: "c1", Address: "127.0.0.1:5555"}, in)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	m.Credit(3)
	m.Settle(in.next(t).Token, Ack)
	m.Settle(in.next(t).Token, Requeue) // not consumed
	st, err := b.GroupStats(ctx, DefaultGroupID)
	if err != nil {
		t.Fatal(err)
	}
	if st.RealtimeRate != 1 || st.BacklogRate != 0 || st.LastConsumedAt.IsZero() || len(st.Clients) != 1 ||
		st.Clients[0].ClientID != "c1" || st.Clients[0].Address != "127.0.0.1:5555" || st.Clients[0].RealtimeRate != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Acks reach JetStream asynchronously: the count settles shortly.
	deadline := time.Now().Add(10 * time.Second)
	for st.Accumulation != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("accumulation %d, want 2 (one requeued, one unsettled or pending)", st.Accumulation)
		}
		time.Sleep(10 * time.Millisecond)
		if st, err = b.GroupStats(ctx, DefaultGroupID); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRateWindow(t *testing.T) {
	var w rateWindow
	t0 := time.Unix(1000, 0)
	for i := range 90 {
		w.add(t0.Add(time.Duration(i) * time.Second))
	}
	if n := w.perMinute(t0.Add(89 * time.Second)); n != 60 {
		t.Fatalf("%d in the last minute, want 60", n)
	}
	if n := w.perMinute(t0.Add(200 * time.Second)); n != 0 {
		t.Fatalf("%d long after, want 0", n)
	}
}

// refuser is a Receiver whose link is gone: it refuses every delivery.
type refuser struct{}

func (refuser) Deliver(Delivery) bool { return false }

// TestMemberGoneMidDelivery: a member that goes away while messages waiting
// for credit are handed to it (its first delivery is refused, so it leaves)
// must not be written to afterwards; the messages go back to the group.
func TestMemberGoneMidDelivery(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	ids := publish(t, b, "pk1", 2)
	g, err := b.runtime(ctx, consumerName(DefaultGroupID), DefaultGroupID)
	if err != nil {
		t.Fatal(err)
	}
	// Put both messages where the dispatcher keeps what waits for credit.
	cons, err := b.e().stream.Consumer(ctx, consumerName(DefaultGroupID))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(2)
	if err != nil {
		t.Fatal(err)
	}
	for msg := range batch.Messages() {
		meta, ok := parseAckReply(msg.Reply())
		if !ok {
			t.Fatalf("reply %q not parsed", msg.Reply())
		}
		g.mu.Lock()
		g.pending = append(g.pending, fetched{msg: &nats.Msg{Subject: msg.Subject(), Reply: msg.Reply(), Data: msg.Data(), Header: msg.Headers()}, meta: meta})
		g.mu.Unlock()
	}
	if len(g.pending) != 2 {
		t.Fatalf("%d pending, want 2", len(g.pending))
	}
	gone, err := b.Join(ctx, DefaultGroupID, MemberInfo{ClientID: "gone"}, refuser{})
	if err != nil {
		t.Fatal(err)
	}
	gone.Credit(2) // the first delivery fails and the member leaves; the second must not reach it
	m, in := join(t, b, DefaultGroupID, 10)
	got := map[string]bool{}
	for range 2 {
		d := in.next(t)
		got[d.Message.MessageID] = true
		m.Settle(d.Token, Ack)
	}
	if !got[ids[0]] || !got[ids[1]] {
		t.Fatalf("got %v, want both messages", got)
	}
}

// TestMessageFieldsRoundTrip: every field of a device message comes back as
// published, names with '.' and '%' and defaults included.
func TestMessageFieldsRoundTrip(t *testing.T) {
	b := openBroker(t, t.TempDir())
	m, in := join(t, b, DefaultGroupID, 10)
	gt := time.UnixMilli(1763900000123)
	sent := []DeviceMessage{
		{ProductKey: "pk.1", DeviceName: "a.b%c%2e", Kind: KindStatus, Topic: "/as/mqtt/status/pk.1/a.b%c%2e", Payload: []byte("on"), GenerateTime: gt},
		{ProductKey: "pk2", DeviceName: "dev", Payload: []byte("x")},
	}
	before := time.Now()
	ids, err := b.Publish(ctxT(t), sent...)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range sent {
		d := in.next(t)
		got := d.Message
		if want.Topic == "" {
			want.Topic = "/pk2/dev/user/update"
			want.Kind = KindData
		}
		if got.ProductKey != want.ProductKey || got.DeviceName != want.DeviceName || got.Kind != want.Kind ||
			got.Topic != want.Topic || string(got.Payload) != string(want.Payload) || got.MessageID != ids[i] {
			t.Fatalf("message %d: got %+v, want %+v", i, got, want)
		}
		if !want.GenerateTime.IsZero() && !got.GenerateTime.Equal(gt) {
			t.Fatalf("message %d: generate time %v, want %v", i, got.GenerateTime, gt)
		}
		if want.GenerateTime.IsZero() && (got.GenerateTime.Before(before.Add(-time.Second)) || time.Since(got.GenerateTime) > time.Minute) {
			t.Fatalf("message %d: default generate time %v is not the ingest time", i, got.GenerateTime)
		}
		m.Settle(d.Token, Ack)
	}
}

// DEFAULT_GROUP gets a product's messages out of the box and while its
// subscription names it (for the kinds it lists), not once the
// subscription leaves it out; a restart keeps the routing.
func TestDefaultGroupFollowsSubscription(t *testing.T) {
	dir := t.TempDir()
	b := openBroker(t, dir)
	ctx := ctxT(t)
	g, err := b.CreateGroup(ctx, "only_mine")
	if err != nil {
		t.Fatal(err)
	}
	publish(t, b, "pk1", 1) // no subscription: DEFAULT_GROUP only
	waitBacklog(t, b, DefaultGroupID, 1)

	if err := b.SetSubscription(ctx, "pk1", Subscription{Groups: []string{g.ID}}); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "pk1", 2)
	// g also gets the first message: a subscription adds a product from the
	// group's position, which was before it.
	waitBacklog(t, b, g.ID, 3)
	waitBacklog(t, b, DefaultGroupID, 1) // not for DEFAULT_GROUP any more

	if err := b.SetSubscription(ctx, "pk1", Subscription{Groups: []string{g.ID, DefaultGroupID}, Kinds: []string{KindData}}); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "pk1", 1)
	if _, err := b.Publish(ctx, DeviceMessage{ProductKey: "pk1", DeviceName: "d", Kind: KindStatus}); err != nil {
		t.Fatal(err)
	}
	waitBacklog(t, b, DefaultGroupID, 2) // the data message, not the status one
	waitBacklog(t, b, g.ID, 4)

	if err := b.SetSubscription(ctx, "pk1", Subscription{Groups: []string{g.ID}}); err != nil {
		t.Fatal(err)
	}
	b.Close(ctx)
	b = openBroker(t, dir)
	publish(t, b, "pk1", 1)
	waitBacklog(t, b, g.ID, 5)
	waitBacklog(t, b, DefaultGroupID, 2) // the restarted broker routes alike

	if err := b.DeleteSubscription(ctx, "pk1"); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "pk1", 1)
	waitBacklog(t, b, DefaultGroupID, 3)
	waitBacklog(t, b, g.ID, 0) // without a subscription the group selects nothing
}

// drainInbox is an inbox that also records Drained, in order with the
// deliveries.
type drainInbox struct {
	inbox
	drained chan int // how many deliveries had come when Drained was called
}

func (d drainInbox) Drained() { d.drained <- len(d.inbox) }

// TestDrainDeliversWhatJetStreamHas: a drain delivers what the stream holds
// for the group at once (not only what the dispatcher had fetched), up to
// the limit, then ends; the rest of the credit is void.
func TestDrainDeliversWhatJetStreamHas(t *testing.T) {
	b := openBroker(t, t.TempDir())
	publish(t, b, "pk1", 3)
	in := drainInbox{inbox: make(inbox, 100), drained: make(chan int, 1)}
	m, err := b.Join(ctxT(t), DefaultGroupID, MemberInfo{ClientID: t.Name()}, in)
	if err != nil {
		t.Fatal(err)
	}
	m.Flow(5) // as an AMQP link does when a flow both grants credit and drains
	m.Drain(5)
	select {
	case n := <-in.drained:
		if n != 3 {
			t.Fatalf("drained after %d deliveries, want the 3 available", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no Drained within 10s")
	}
	publish(t, b, "pk1", 1)
	for range 3 {
		m.Settle(in.next(t).Token, Ack)
	}
	in.none(t) // the credit left after the drain is void
	m.Drain(5) // the one new message, then the end
	if n := <-in.drained; n != 1 {
		t.Fatalf("second drain: %d deliveries, want 1", n)
	}
	m.Drain(7) // nothing left: it ends with none
	if n := <-in.drained; n != 1 {
		t.Fatalf("drain of an empty group delivered %d", n-1)
	}
}
