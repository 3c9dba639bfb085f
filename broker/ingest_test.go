package broker

import (
	"testing"
	"time"
)

// TestIngestStats: Publish and PublishAsync both count; generic queue
// messages are not device messages and do not.
func TestIngestStats(t *testing.T) {
	b := openBroker(t, t.TempDir())
	if s := b.IngestStats(); s != (IngestStats{}) {
		t.Fatalf("a new broker: %+v", s)
	}
	publish(t, b, "pk1", 3)
	done := make(chan error, 1)
	if err := b.PublishAsync(DeviceMessage{ProductKey: "pk1", DeviceName: "d1", Payload: []byte("x")}, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := b.PublishQueue(ctxT(t), "some/queue", []byte("q")); err != nil {
		t.Fatal(err)
	}
	if s := b.IngestStats(); s.Total != 4 || s.Rate != 4 {
		t.Errorf("after 4 device messages and a queue message: %+v, want total and rate 4", s)
	}
}

// TestIngestRateForgetsOldSeconds: the rate covers the last minute only.
func TestIngestRateForgetsOldSeconds(t *testing.T) {
	var m ingestMeter
	t0 := time.Unix(1_800_000_000, 0)
	m.add(5, t0)
	m.add(2, t0.Add(30*time.Second))
	if s := m.stats(t0.Add(59 * time.Second)); s.Rate != 7 || s.Total != 7 {
		t.Errorf("59 s on: %+v, want rate 7", s)
	}
	if s := m.stats(t0.Add(61 * time.Second)); s.Rate != 2 || s.Total != 7 {
		t.Errorf("61 s on: %+v, want rate 2 total 7", s)
	}
	m.add(1, t0.Add(120*time.Second)) // reuses the first second's bucket
	if s := m.stats(t0.Add(120 * time.Second)); s.Rate != 1 || s.Total != 8 {
		t.Errorf("120 s on: %+v, want rate 1 total 8", s)
	}
}
