package broker

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestParseAckReply(t *testing.T) {
	ts := time.Date(2026, 12, 2, 1, 2, 3, 4, time.UTC)
	tsn := strconv.FormatInt(ts.UnixNano(), 10)
	want := ackMeta{Delivered: 2, StreamSeq: 42, Stored: ts, Pending: 7}
	for _, tc := range []struct {
		reply string
		ok    bool
	}{
		{"$JS.ACK.devices.g_DEFAULT_GROUP.2.42.40." + tsn + ".7", true},
		{"$JS.ACK.hub.ACCHASH.devices.g_DEFAULT_GROUP.2.42.40." + tsn + ".7", true},
		{"$JS.ACK.hub.ACCHASH.devices.g_DEFAULT_GROUP.2.42.40." + tsn + ".7.xyz", true},
		{"$JS.ACK.devices.g_DEFAULT_GROUP.2.42.40." + tsn, false},                // a token short
		{"$JS.ACK.devices.g_DEFAULT_GROUP.2.42.40." + tsn + ".7.x", false},       // 8 tokens: neither form
		{"$JS.ACK.devices.g_DEFAULT_GROUP.2.-42.40." + tsn + ".7", false},        // a sign
		{"$JS.ACK.devices.g_DEFAULT_GROUP.2.18446744073709551616.40.1.7", false}, // overflow
		{"$JS.ACK.devices.g_DEFAULT_GROUP.2.42.40.9223372036854775808.7", false}, // a time beyond int64
		{"$JS.ACK.devices.g_DEFAULT_GROUP.2..40." + tsn + ".7", false},           // empty number
		{"$JS.ACK.a.b.c.d.e.f.g.h.i.j.k.l.m", false},                             // too many tokens
		{"_INBOX.abc", false},
		{"", false},
	} {
		got, ok := parseAckReply(tc.reply)
		if ok != tc.ok || (ok && !sameMeta(got, want)) {
			t.Errorf("%q: got %+v %v, want %v", tc.reply, got, ok, tc.ok)
		}
	}
}

// The parser agrees with nats.go's on what a real server sends.
func TestParseAckReplyFromServer(t *testing.T) {
	b := openBroker(t, t.TempDir())
	publish(t, b, "pk1", 3)
	cons, err := b.e().stream.Consumer(ctxT(t), consumerName(DefaultGroupID))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(3)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for msg := range batch.Messages() {
		n++
		ref, err := msg.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseAckReply(msg.Reply())
		want := ackMeta{Delivered: ref.NumDelivered, StreamSeq: ref.Sequence.Stream, Stored: ref.Timestamp, Pending: ref.NumPending}
		if !ok || !sameMeta(got, want) {
			t.Fatalf("%q: got %+v, nats.go says %+v", msg.Reply(), got, want)
		}
	}
	if n != 3 {
		t.Fatalf("fetched %d, want 3", n)
	}
}

func sameMeta(a, b ackMeta) bool {
	return a.Delivered == b.Delivered && a.StreamSeq == b.StreamSeq && a.Stored.Equal(b.Stored) && a.Pending == b.Pending
}

func FuzzParseAckReply(f *testing.F) {
	f.Add("$JS.ACK.devices.g_DEFAULT_GROUP.2.42.40.1764637323000000004.7")
	f.Add("$JS.ACK.hub.ACCHASH.devices.g_X.1.1.1.1.0.tok")
	f.Add("$JS.ACK....")
	f.Fuzz(func(t *testing.T, reply string) {
		got, ok := parseAckReply(reply)
		if !ok {
			return
		}
		// Whatever it accepts, nats.go reads the same way.
		ref, err := (&nats.Msg{Reply: reply, Sub: &nats.Subscription{}}).Metadata()
		if err != nil {
			t.Fatalf("%q: accepted, nats.go refuses: %v", reply, err)
		}
		if got.Delivered != ref.NumDelivered || got.StreamSeq != ref.Sequence.Stream ||
			!got.Stored.Equal(ref.Timestamp) || got.Pending != ref.NumPending {
			t.Fatalf("%q: got %+v, nats.go %+v", reply, got, ref)
		}
		if !strings.HasPrefix(reply, ackPrefix) {
			t.Fatalf("%q accepted without the prefix", reply)
		}
	})
}
