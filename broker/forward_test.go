package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// sink is a ForwardFunc that fails while failing is set and records what
// it stored otherwise.
type sink struct {
	mu      sync.Mutex
	failing bool
	got     []DeviceMessage
	tries   int
	stored  chan struct{}
}

func newSink() *sink { return &sink{stored: make(chan struct{}, 100)} }

func (s *sink) forward(_ context.Context, msgs []DeviceMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries++
	if s.failing {
		return errors.New("store down")
	}
	s.got = append(s.got, msgs...)
	s.stored <- struct{}{}
	return nil
}

func (s *sink) wait(t *testing.T, n int) []DeviceMessage {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		got := append([]DeviceMessage(nil), s.got...)
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-s.stored:
		case <-deadline:
			t.Fatalf("forwarded %d of %d messages", len(got), n)
		}
	}
}

func TestForwardAtLeastOnceAcrossFailureAndRestart(t *testing.T) {
	dir := t.TempDir()
	b := openBroker(t, dir)
	ctx := ctxT(t)
	s := newSink()
	s.failing = true
	f, err := b.StartForward(ctx, "pk1-logs", "pk1", nil, s.forward)
	if err != nil {
		t.Fatal(err)
	}
	ids := publish(t, b, "pk1", 3)
	publish(t, b, "other", 2) // another product: not forwarded
	if _, err := b.Publish(ctx, DeviceMessage{ProductKey: "pk1", DeviceName: "dev1", Kind: KindStatus, Payload: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		s.mu.Lock()
		tries := s.tries
		s.mu.Unlock()
		if tries > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the forward never handed a batch over")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, err := b.ForwardBacklog(ctx, "pk1-logs"); err != nil || n != 3 {
		t.Fatalf("backlog while the store fails: %d, %v; want 3", n, err)
	}
	s.mu.Lock()
	s.failing = false
	s.mu.Unlock()
	got := s.wait(t, 3)
	for i, m := range got {
		if m.MessageID != ids[i] || string(m.Payload) != fmt.Sprintf("m%d", i) || m.ProductKey != "pk1" || m.Kind != KindData {
			t.Fatalf("forwarded %d: %+v; want id %s, payload m%d of pk1", i, m, ids[i], i)
		}
	}
	f.Stop()
	f.Stop() // idempotent

	// Stopped: what comes meanwhile waits in the consumer, across a restart.
	more := publish(t, b, "pk1", 2)
	b.Close(context.Background())
	b = openBroker(t, dir)
	s2 := newSink()
	f, err = b.StartForward(ctx, "pk1-logs", "pk1", nil, s2.forward)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	got = s2.wait(t, 2)
	if len(got) != 2 || got[0].MessageID != more[0] || got[1].MessageID != more[1] {
		t.Fatalf("after the restart forwarded %+v; want %v only", got, more)
	}
	f.Stop()
	if err := b.DeleteForward(ctx, "pk1-logs"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ForwardBacklog(ctx, "pk1-logs"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("backlog of a deleted forward: %v", err)
	}
	if err := b.DeleteForward(ctx, "pk1-logs"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestForwardArgumentsChecked(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	noop := func(context.Context, []DeviceMessage) error { return nil }
	for _, c := range []struct {
		name, pk string
		kinds    []string
		want     error
	}{
		{"a.b", "pk", nil, ErrInvalidName},
		{"", "pk", nil, ErrInvalidName},
		{"ok", "p k", nil, ErrInvalidName},
		{"ok", "pk", []string{"nope"}, ErrInvalidArgument},
	} {
		f, err := b.StartForward(ctx, c.name, c.pk, c.kinds, noop)
		if !errors.Is(err, c.want) {
			if f != nil {
				f.Stop()
			}
			t.Errorf("StartForward(%q, %q, %v): %v; want %v", c.name, c.pk, c.kinds, err, c.want)
		}
	}
}

// TestForwardEndsWhenItsConsumerGoes: a forward whose consumer another
// node deleted stops by itself instead of retrying for ever.
func TestForwardEndsWhenItsConsumerGoes(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	f, err := b.StartForward(ctx, "gone", "pk1", nil, newSink().forward)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteForward(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the forward still runs without its consumer")
	}
	f.Stop()
}
