package history_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/history"
	"github.com/amqpemu/amqpemu/internal/brokertest"
)

// t0 is the synthetic start of the tests' samples, on a minute boundary.
var t0 = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)

func newSampler(t *testing.T, b *broker.Broker, every, keep time.Duration) *history.Sampler {
	t.Helper()
	s, err := history.New(history.Config{Source: b, Every: every, Keep: keep, Logger: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// sampleN takes n samples every `every` from start.
func sampleN(t *testing.T, s *history.Sampler, start time.Time, every time.Duration, n int) {
	t.Helper()
	for i := range n {
		if err := s.Sample(context.Background(), start.Add(time.Duration(i)*every)); err != nil {
			t.Fatal(err)
		}
	}
}

func times(ps []history.Point) []time.Time {
	out := make([]time.Time, len(ps))
	for i, p := range ps {
		out[i] = p.Time.UTC()
	}
	return out
}

func TestDefaults(t *testing.T) {
	s := newSampler(t, brokertest.Open(t, t.TempDir()), 0, 0)
	if s.Every() != 5*time.Second || s.Capacity() != 5760 {
		t.Fatalf("every %s, capacity %d; want 5s, 5760", s.Every(), s.Capacity())
	}
}

func TestConfigRejected(t *testing.T) {
	for _, cfg := range []history.Config{
		{},
		{Source: &broker.Broker{}, Every: -time.Second},
		{Source: &broker.Broker{}, Every: time.Minute, Keep: time.Second},
	} {
		if _, err := history.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

func TestRingKeepsNewest(t *testing.T) {
	b := brokertest.Open(t, t.TempDir())
	s := newSampler(t, b, 5*time.Second, 50*time.Second) // 10 samples
	sampleN(t, s, t0, 5*time.Second, 25)
	got := times(s.History(broker.DefaultGroupID, time.Time{}, 0))
	if len(got) != 10 {
		t.Fatalf("%d points, want 10: %v", len(got), got)
	}
	for i, tm := range got {
		if want := t0.Add(time.Duration(15+i) * 5 * time.Second); !tm.Equal(want) {
			t.Fatalf("point %d at %s, want %s (the newest 10, oldest first)", i, tm, want)
		}
	}
	// since excludes what is not newer.
	since := t0.Add(22 * 5 * time.Second)
	if got := s.History(broker.DefaultGroupID, since, 0); len(got) != 2 {
		t.Fatalf("since %s: %d points, want 2", since, len(got))
	}
	// A sample not after the newest is left out.
	if err := s.Sample(context.Background(), t0); err != nil {
		t.Fatal(err)
	}
	if got := times(s.History(broker.DefaultGroupID, time.Time{}, 0)); len(got) != 10 || !got[9].Equal(t0.Add(24*5*time.Second)) {
		t.Fatalf("after a step back: %v", got)
	}
}

func TestDownsampling(t *testing.T) {
	b := brokertest.Open(t, t.TempDir())
	s := newSampler(t, b, 5*time.Second, time.Hour)
	ctx := context.Background()
	sampleN(t, s, t0, 5*time.Second, 6) // t0 … t0+25s, accumulation 0
	// Three messages for DEFAULT_GROUP, then a sample in the first minute
	// with accumulation 3.
	for range 3 {
		if _, err := b.Publish(ctx, broker.DeviceMessage{ProductKey: "pk1", DeviceName: "dev1", Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	waitAccumulation(t, b, broker.DefaultGroupID, 3)
	sampleN(t, s, t0.Add(30*time.Second), 5*time.Second, 1)
	if err := b.Clear(ctx, broker.DefaultGroupID); err != nil {
		t.Fatal(err)
	}
	waitAccumulation(t, b, broker.DefaultGroupID, 0)
	sampleN(t, s, t0.Add(35*time.Second), 5*time.Second, 19) // t0+35s … t0+125s

	got := s.History(broker.DefaultGroupID, time.Time{}, time.Minute)
	want := []struct {
		at  time.Duration
		acc int
	}{
		{55 * time.Second, 3}, // last of the first minute; its largest accumulation
		{115 * time.Second, 0},
		{125 * time.Second, 0}, // the bucket under way
	}
	if len(got) != len(want) {
		t.Fatalf("%d points, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if !got[i].Time.Equal(t0.Add(w.at)) || got[i].Accumulation != w.acc {
			t.Errorf("point %d: %s accumulation %d, want %s accumulation %d", i, got[i].Time.UTC(), got[i].Accumulation, t0.Add(w.at), w.acc)
		}
	}
	// A step up to Every gives every sample.
	if n := len(s.History(broker.DefaultGroupID, time.Time{}, 5*time.Second)); n != 26 {
		t.Fatalf("step 5s: %d points, want 26", n)
	}
}

func TestGroupsComeAndGo(t *testing.T) {
	b := brokertest.Open(t, t.TempDir())
	s := newSampler(t, b, 5*time.Second, time.Hour)
	ctx := context.Background()
	g, err := b.CreateGroup(ctx, "charts_group")
	if err != nil {
		t.Fatal(err)
	}
	sampleN(t, s, t0, 5*time.Second, 3)
	if n := len(s.History(g.ID, time.Time{}, 0)); n != 3 {
		t.Fatalf("%d points for %s, want 3", n, g.ID)
	}
	if err := b.DeleteGroup(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	later, err := b.CreateGroup(ctx, "later_group")
	if err != nil {
		t.Fatal(err)
	}
	sampleN(t, s, t0.Add(15*time.Second), 5*time.Second, 2)
	if got := s.History(g.ID, time.Time{}, 0); got != nil {
		t.Fatalf("deleted group still has %d points", len(got))
	}
	if n := len(s.History(later.ID, time.Time{}, 0)); n != 2 {
		t.Fatalf("group created later: %d points, want 2", n)
	}
	if n := len(s.History(broker.DefaultGroupID, time.Time{}, 0)); n != 5 {
		t.Fatalf("DEFAULT_GROUP: %d points, want 5", n)
	}
}

func TestValuesMatchGroupStats(t *testing.T) {
	b := brokertest.Open(t, t.TempDir())
	s := newSampler(t, b, 5*time.Second, time.Hour)
	ctx := context.Background()
	for i := range 4 {
		if _, err := b.Publish(ctx, broker.DeviceMessage{ProductKey: "pk1", DeviceName: "dev1", Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	waitAccumulation(t, b, broker.DefaultGroupID, 4)
	st, err := b.GroupStats(ctx, broker.DefaultGroupID)
	if err != nil {
		t.Fatal(err)
	}
	sampleN(t, s, t0, 5*time.Second, 1)
	got := s.History(broker.DefaultGroupID, time.Time{}, 0)
	want := history.Point{Time: t0, Accumulation: st.Accumulation, RealtimeRate: st.RealtimeRate, BacklogRate: st.BacklogRate, OnlineClients: len(st.Clients)}
	if len(got) != 1 || !got[0].Time.Equal(want.Time) || got[0].Accumulation != 4 ||
		got[0].Accumulation != want.Accumulation || got[0].RealtimeRate != want.RealtimeRate ||
		got[0].BacklogRate != want.BacklogRate || got[0].OnlineClients != want.OnlineClients {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestRunSamplesUntilClose(t *testing.T) {
	b := brokertest.Open(t, t.TempDir())
	s, err := history.New(history.Config{Source: b, Every: 10 * time.Millisecond, Keep: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.History(broker.DefaultGroupID, time.Time{}, 0)) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("Run took no samples")
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.Close()
	n := len(s.History(broker.DefaultGroupID, time.Time{}, 0))
	s.Close() // twice is fine
	s.Start() // after Close: nothing
	time.Sleep(30 * time.Millisecond)
	if m := len(s.History(broker.DefaultGroupID, time.Time{}, 0)); m != n {
		t.Fatalf("samples after Close: %d, then %d", n, m)
	}
}

// waitAccumulation polls until a group's accumulation is n: JetStream
// updates a consumer's pending count just after the store.
func waitAccumulation(t *testing.T, b *broker.Broker, id string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := b.GroupStats(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Accumulation == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s: accumulation %d, want %d", id, st.Accumulation, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
