package broker

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStateBucket(t *testing.T) {
	dir := t.TempDir()
	b := openBroker(t, dir)
	ctx := ctxT(t)
	s := b.StateBucket("test-state")
	if keys, err := s.Keys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("keys of a new bucket: %v, %v", keys, err)
	}
	if _, err := s.Get(ctx, "rule.a"); !errors.Is(err, ErrStateNotFound) {
		t.Fatalf("get of an absent key: %v, want ErrStateNotFound", err)
	}
	for _, k := range []string{"rule.a", "rule.b", "state.a"} {
		if err := s.Put(ctx, k, []byte("v-"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "rule.b"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "never-there"); err != nil {
		t.Fatalf("deleting an absent key: %v", err)
	}
	if _, err := s.Get(ctx, "rule.b"); !errors.Is(err, ErrStateNotFound) {
		t.Fatalf("get of a deleted key: %v", err)
	}
	if v, err := s.Get(ctx, "rule.a"); err != nil || string(v) != "v-rule.a" {
		t.Fatalf("get: %q, %v", v, err)
	}
	if err := b.StateBucket("other").Put(ctx, "rule.a", []byte("x")); err != nil {
		t.Fatal(err)
	}

	// The values are in --data: a new broker over it reads them.
	b.Close(ctx)
	b = openBroker(t, dir)
	s = b.StateBucket("test-state")
	keys, err := s.Keys(ctx)
	if err != nil || !slices.Equal(keys, []string{"rule.a", "state.a"}) {
		t.Fatalf("keys after restart: %v, %v", keys, err)
	}
	if v, err := s.Get(ctx, "state.a"); err != nil || string(v) != "v-state.a" {
		t.Fatalf("get after restart: %q, %v", v, err)
	}
}

func TestStateBucketNames(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	for _, name := range []string{"", "a.b", "a b", "a*", strings.Repeat("x", 65), "é"} {
		if err := b.StateBucket(name).Put(ctx, "k", nil); !errors.Is(err, ErrInvalidName) {
			t.Errorf("bucket name %q: %v, want ErrInvalidName", name, err)
		}
	}
	s := b.StateBucket("keys")
	for _, key := range []string{"", ".a", "a.", "a..b", "a b", "a/b", "a*", "a>", strings.Repeat("k", 256)} {
		if err := s.Put(ctx, key, nil); !errors.Is(err, ErrInvalidName) {
			t.Errorf("put key %q: %v, want ErrInvalidName", key, err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, ErrInvalidName) {
			t.Errorf("get key %q: %v, want ErrInvalidName", key, err)
		}
	}
	for _, key := range []string{"a", "a.b.c", "A_b-9.x"} {
		if err := s.Put(ctx, key, []byte("1")); err != nil {
			t.Errorf("put key %q: %v", key, err)
		}
	}
}

func TestStateBucketClosed(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	s := b.StateBucket("closed")
	b.Close(ctx)
	if err := s.Put(ctx, "k", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("put on a closed broker: %v, want ErrClosed", err)
	}
}

// A StateBucket made before the engine connection was replaced works on
// the new one: it keeps no handle of its own.
func TestStateBucketAfterReconnect(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	s := b.StateBucket("swap")
	if err := s.Put(ctx, "k", []byte("before")); err != nil {
		t.Fatal(err)
	}
	old := b.e()
	old.nc.Publish(strings.Repeat("x", 5000), nil) // over the server's control line: it closes the connection
	<-old.closed
	waitHealthy(t, b)
	if b.e() == old {
		t.Fatal("still on the closed connection")
	}
	if v, err := s.Get(ctx, "k"); err != nil || string(v) != "before" {
		t.Fatalf("get after reconnect: %q, %v", v, err)
	}
	if err := s.Put(ctx, "k2", []byte("after")); err != nil {
		t.Fatalf("put after reconnect: %v", err)
	}
}

func TestStateBucketUnavailable(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	b.ns.Shutdown()
	b.ns.WaitForShutdown()
	for b.Healthy() {
		time.Sleep(10 * time.Millisecond) // polling a state; there is no event to wait for
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := b.StateBucket("gone").Put(short, "k", nil); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("put with the engine gone: %v, want ErrUnavailable", err)
	}
}
