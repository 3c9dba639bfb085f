package downlink

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
)

func TestRecorderKeepsTheLastMessagesOfADevice(t *testing.T) {
	r := NewRecorder()
	ctx := context.Background()
	var ids []string
	for i := range MaxPerDevice + 5 {
		id, err := r.Send(ctx, "pk", "dn", "/pk/dn/user/get", []byte(strconv.Itoa(i)), i%2)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	got := r.Messages("pk", "dn")
	if len(got) != MaxPerDevice {
		t.Fatalf("%d messages, want %d", len(got), MaxPerDevice)
	}
	for i, m := range got {
		n := i + 5 // the 5 oldest were dropped
		if string(m.Payload) != strconv.Itoa(n) || m.MessageID != ids[n] || m.QoS != n%2 || m.Topic != "/pk/dn/user/get" || m.Time.IsZero() {
			t.Fatalf("message %d = %+v, want payload %d id %s", i, m, n, ids[n])
		}
	}
	if r.Messages("pk", "other") != nil {
		t.Fatal("a device never sent to has messages")
	}
}

func TestRecorderIDsAreIncreasingDecimals(t *testing.T) {
	r := NewRecorder()
	var prev uint64
	for range 10 {
		id, _ := r.Send(context.Background(), "pk", "dn", "/pk/dn/x", nil, 0)
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil || n <= prev || len(id) < 16 {
			t.Fatalf("id %q after %d", id, prev)
		}
		prev = n
	}
}

func TestRecorderDropsTheDeviceSentToLeastRecently(t *testing.T) {
	r := NewRecorder()
	ctx := context.Background()
	for i := range MaxDevices {
		r.Send(ctx, "pk", fmt.Sprint("d", i), "/t", nil, 0)
	}
	r.Send(ctx, "pk", "d0", "/t", nil, 0) // d0 is now the most recent; d1 the oldest
	r.Send(ctx, "pk", "new", "/t", nil, 0)
	if r.Messages("pk", "d1") != nil {
		t.Fatal("d1 kept")
	}
	if len(r.Messages("pk", "d0")) != 2 || len(r.Messages("pk", "new")) != 1 || len(r.devices) != MaxDevices {
		t.Fatalf("d0 %d new %d devices %d", len(r.Messages("pk", "d0")), len(r.Messages("pk", "new")), len(r.devices))
	}
}

func TestRecorderCopiesThePayload(t *testing.T) {
	r := NewRecorder()
	p := []byte("abc")
	r.Send(context.Background(), "pk", "dn", "/t", p, 0)
	p[0] = 'x'
	if got := string(r.Messages("pk", "dn")[0].Payload); got != "abc" {
		t.Fatalf("payload %q", got)
	}
}

func TestRecorderConcurrent(t *testing.T) {
	r := NewRecorder()
	var wg sync.WaitGroup
	seen := sync.Map{}
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				id, _ := r.Send(context.Background(), "pk", fmt.Sprint("d", g), "/t", nil, 0)
				if _, dup := seen.LoadOrStore(id, true); dup {
					t.Errorf("id %s twice", id)
				}
				_ = r.Messages("pk", fmt.Sprint("d", (g+i)%8))
			}
		})
	}
	wg.Wait()
}

func TestRecorderRefusesACanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewRecorder().Send(ctx, "pk", "dn", "/t", nil, 0); err == nil {
		t.Fatal("sent on a canceled context")
	}
}
