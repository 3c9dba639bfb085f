package broker

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestQueueStream: every reader of a queue gets every message; a nak
// comes back at once, an ack never; tokens of another reader are refused.
func TestQueueStream(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	const queue = "q-1"
	if err := b.CreateQueueStream(ctx, queue, time.Hour); err != nil {
		t.Fatal(err)
	}
	a, c := QueueReader{queue, "g-a"}, QueueReader{queue, "g-c"}
	for _, r := range []QueueReader{a, c} {
		if err := b.CreateQueueReader(ctx, r, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if _, err := b.AppendQueue(ctx, queue, fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []QueueReader{a, c} {
		got, err := readN(ctx, b, r, 3)
		if err != nil || len(got) != 3 {
			t.Fatalf("%s: read %d messages, %v; want 3", r, len(got), err)
		}
		if err := b.SettleQueue(ctx, r, got[0].Token, true); err != nil {
			t.Fatal(err)
		}
		if err := b.SettleQueue(ctx, r, got[1].Token, false); err != nil {
			t.Fatal(err)
		}
		again, err := b.ReadQueue(ctx, r, 10, 5*time.Second)
		if err != nil || len(again) != 1 || again[0].Seq != got[1].Seq || again[0].Delivered != 2 {
			t.Fatalf("%s: after a nak read %+v, %v; want seq %d delivered twice", r, again, err, got[1].Seq)
		}
	}
	other, err := b.ReadQueue(ctx, a, 1, 0)
	if err != nil || len(other) != 0 {
		t.Fatalf("read %d, %v; want nothing (all in flight)", len(other), err)
	}
	if _, err := b.AppendQueue(ctx, queue, []byte("x")); err != nil {
		t.Fatal(err)
	}
	got, err := b.ReadQueue(ctx, a, 1, time.Second)
	if err != nil || len(got) != 1 {
		t.Fatalf("read %d, %v", len(got), err)
	}
	if err := b.SettleQueue(ctx, c, got[0].Token, true); !errors.Is(err, ErrBadDelivery) {
		t.Errorf("settling another reader's delivery: %v, want ErrBadDelivery", err)
	}
	for _, bad := range []string{"", "$JS.ACK.QS_q-1.g-a", "foo.bar", "$JS.ACK.QS_q-1.g-a.1.2.3.4.5.>"} {
		if err := b.SettleQueue(ctx, a, bad, true); !errors.Is(err, ErrBadDelivery) {
			t.Errorf("SettleQueue(%q) = %v, want ErrBadDelivery", bad, err)
		}
	}
	if _, err := b.AppendQueue(ctx, "missing", []byte("x")); !errors.Is(err, ErrQueueStreamNotFound) {
		t.Errorf("append to a missing queue: %v", err)
	}
	if _, err := b.ReadQueue(ctx, QueueReader{queue, "g-none"}, 1, 0); !errors.Is(err, ErrQueueStreamNotFound) {
		t.Errorf("read of a missing reader: %v", err)
	}
	if err := b.CreateQueueStream(ctx, "bad.name", 0); !errors.Is(err, ErrInvalidName) {
		t.Errorf("bad queue id: %v", err)
	}
	if err := b.DeleteQueueStream(ctx, queue); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ReadQueue(ctx, a, 1, 0); !errors.Is(err, ErrQueueStreamNotFound) {
		t.Errorf("read after delete: %v", err)
	}

}

// TestQueueStreamExtend: a delivery given more time is not redelivered at
// the reader's ack wait, and an ack still takes it afterwards.
func TestQueueStreamExtend(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	r := QueueReader{"q-x", "g-x"}
	if err := b.CreateQueueStream(ctx, r.Queue, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateQueueReader(ctx, r, time.Second); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"extended", "plain"} {
		if _, err := b.AppendQueue(ctx, r.Queue, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := readN(ctx, b, r, 2)
	if err != nil || len(got) != 2 {
		t.Fatalf("read %d, %v", len(got), err)
	}
	if err := b.ExtendQueue(ctx, r, got[0].Token, time.Minute); err != nil {
		t.Fatal(err)
	}
	again, err := b.ReadQueue(ctx, r, 2, 5*time.Second)
	if err != nil || len(again) != 1 || string(again[0].Data) != "plain" {
		t.Fatalf("after the ack wait: %d messages, %v; want plain alone", len(again), err)
	}
	if err := b.SettleQueue(ctx, r, got[0].Token, true); err != nil {
		t.Fatal(err)
	}
	if err := b.SettleQueue(ctx, r, again[0].Token, true); err != nil {
		t.Fatal(err)
	}
	st, err := b.QueueReaderStats(ctx, r)
	if err != nil || st.AckPending != 0 || st.Pending != 0 {
		t.Errorf("stats %+v, %v; want nothing left", st, err)
	}
	if err := b.ExtendQueue(ctx, r, got[0].Token, 0); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("a zero delay: %v", err)
	}
}

// readN reads until n messages came or a read waited 5 s in vain: a read
// answers what the consumer knows of at once, which may lag the stream by
// a moment.
func readN(ctx context.Context, b *Broker, r QueueReader, n int) ([]QueueDelivery, error) {
	var out []QueueDelivery
	for len(out) < n {
		got, err := b.ReadQueue(ctx, r, n-len(out), 5*time.Second)
		if err != nil || len(got) == 0 {
			return out, err
		}
		out = append(out, got...)
	}
	return out, nil
}
