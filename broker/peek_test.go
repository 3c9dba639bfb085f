package broker

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func peek(t *testing.T, b *Broker, ref string, n int) []Peeked {
	t.Helper()
	ps, err := b.Peek(ctxT(t), ref, n)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func backlog(t *testing.T, b *Broker, id string) int {
	t.Helper()
	n, err := b.Backlog(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Peeking shows the backlog in order, exactly as a member then receives
// it, and leaves the accumulation as it was.
func TestPeekShowsWhatMembersGet(t *testing.T) {
	b := openBroker(t, t.TempDir())
	gt := time.UnixMilli(1763900000123)
	sent := []DeviceMessage{
		{ProductKey: "pk1", DeviceName: "dev1", Payload: []byte(`{"t":21.5}`)},
		{ProductKey: "pk1", DeviceName: "a.b", Topic: "/pk1/a.b/user/raw", Payload: []byte{0xff, 0x00, 0xfe, 0x80}, GenerateTime: gt},
		{ProductKey: "pk2", DeviceName: "dev2", Kind: KindStatus, Payload: []byte("online")},
	}
	ids, err := b.Publish(ctxT(t), sent...)
	if err != nil {
		t.Fatal(err)
	}
	waitBacklog(t, b, DefaultGroupID, 3)
	before := backlog(t, b, DefaultGroupID)
	ps := peek(t, b, "DEFAULT_GROUP", 10) // by name
	if len(ps) != 3 {
		t.Fatalf("peeked %d messages, want 3", len(ps))
	}
	if again := peek(t, b, DefaultGroupID, 10); len(again) != 3 || again[0].MessageID != ps[0].MessageID {
		t.Fatalf("a second peek differs: %+v", again)
	}
	if after := backlog(t, b, DefaultGroupID); after != before {
		t.Fatalf("backlog %d after peeking, %d before", after, before)
	}
	for i, p := range ps {
		if p.MessageID != ids[i] || !bytes.Equal(p.Payload, sent[i].Payload) || p.Delivered {
			t.Fatalf("peeked %d: %+v, want id %s payload %x", i, p, ids[i], sent[i].Payload)
		}
		if i > 0 && p.Seq <= ps[i-1].Seq {
			t.Fatalf("peeked out of order: %d after %d", p.Seq, ps[i-1].Seq)
		}
	}
	if ps[1].Topic != "/pk1/a.b/user/raw" || ps[1].DeviceName != "a.b" || !ps[1].GenerateTime.Equal(gt) {
		t.Fatalf("peeked %+v", ps[1])
	}
	if ps[2].Kind != KindStatus || ps[2].Topic != "/pk2/dev2/user/update" || ps[2].ProductKey != "pk2" {
		t.Fatalf("peeked %+v", ps[2])
	}
	if got := peek(t, b, DefaultGroupID, 2); len(got) != 2 || got[1].MessageID != ids[1] {
		t.Fatalf("peek of 2: %+v", got)
	}

	_, in := join(t, b, DefaultGroupID, 10)
	for i, p := range ps {
		got := in.next(t).Message
		if got.MessageID != p.MessageID || got.Topic != p.Topic || got.Kind != p.Kind ||
			!bytes.Equal(got.Payload, p.Payload) || !got.GenerateTime.Equal(p.GenerateTime) {
			t.Fatalf("delivered %d: %+v, peeked %+v", i, got, p.DeviceMessage)
		}
	}
}

// A message with a client and unsettled is backlog, marked delivered; one
// acknowledged out of order is not.
func TestPeekMarksDelivered(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ids := publish(t, b, "pk1", 4)
	waitBacklog(t, b, DefaultGroupID, 4)
	m, in := join(t, b, DefaultGroupID, 2)
	first, second := in.next(t), in.next(t)
	m.Settle(second.Token, Ack) // out of order: the ack floor stays before the first
	waitBacklog(t, b, DefaultGroupID, 3)
	ps := peek(t, b, DefaultGroupID, 10)
	if len(ps) != 3 {
		t.Fatalf("peeked %d messages, want 3: %+v", len(ps), ps)
	}
	want := []struct {
		id        string
		delivered bool
	}{{ids[0], true}, {ids[2], false}, {ids[3], false}}
	for i, w := range want {
		if ps[i].MessageID != w.id || ps[i].Delivered != w.delivered {
			t.Fatalf("peeked %d: id %s delivered %v, want %s %v", i, ps[i].MessageID, ps[i].Delivered, w.id, w.delivered)
		}
	}
	if first.Message.MessageID != ids[0] {
		t.Fatalf("delivered %s first", first.Message.MessageID)
	}
	if n := backlog(t, b, DefaultGroupID); n != 3 {
		t.Fatalf("backlog %d after peeking, want 3", n)
	}
}

// A group sees only its subscription's messages; after Clear, nothing.
func TestPeekFiltersAndClear(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	g, err := b.CreateGroup(ctx, "only_pk_a")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetSubscription(ctx, "pkA", Subscription{Groups: []string{g.ID}}); err != nil {
		t.Fatal(err)
	}
	publish(t, b, "pkB", 3)
	want := publish(t, b, "pkA", 2)
	publish(t, b, "pkB", 3)
	waitBacklog(t, b, g.ID, 2)
	ps := peek(t, b, "only_pk_a", 10)
	if len(ps) != 2 || ps[0].MessageID != want[0] || ps[1].MessageID != want[1] || ps[0].ProductKey != "pkA" {
		t.Fatalf("peeked %+v, want %v", ps, want)
	}
	if n := len(peek(t, b, DefaultGroupID, 10)); n != 6 {
		t.Fatalf("DEFAULT_GROUP peeked %d, want 6", n)
	}
	if err := b.Clear(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if ps := peek(t, b, g.ID, 10); len(ps) != 0 {
		t.Fatalf("peeked %d after Clear", len(ps))
	}
}

func TestPeekArguments(t *testing.T) {
	b := openBroker(t, t.TempDir())
	publish(t, b, "pk1", MaxPeek+5)
	waitBacklog(t, b, DefaultGroupID, MaxPeek+5)
	for _, tc := range []struct {
		ref     string
		n, want int
		wantErr error
	}{
		{DefaultGroupID, 0, DefaultPeek, nil},
		{DefaultGroupID, 1, 1, nil},
		{DefaultGroupID, MaxPeek, MaxPeek, nil},
		{DefaultGroupID, MaxPeek + 1, 0, ErrInvalidArgument},
		{DefaultGroupID, -1, 0, ErrInvalidArgument},
		{"no_such_group", 5, 0, ErrGroupNotFound},
		{"GID_not_there", 5, 0, ErrGroupNotFound},
		{"bad name!", 5, 0, ErrInvalidName},
	} {
		ps, err := b.Peek(ctxT(t), tc.ref, tc.n)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Peek(%q, %d): %v, want %v", tc.ref, tc.n, err, tc.wantErr)
			}
			continue
		}
		if err != nil || len(ps) != tc.want {
			t.Errorf("Peek(%q, %d): %d messages, %v; want %d", tc.ref, tc.n, len(ps), err, tc.want)
		}
	}
}
