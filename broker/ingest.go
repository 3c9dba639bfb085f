package broker

import (
	"sync"
	"time"
)

// IngestStats is what the broker has stored of device messages since it
// started: the total, and the rate over the last minute.
type IngestStats struct {
	Total int64
	Rate  int // messages per minute
}

// ingestMeter counts stored device messages for IngestStats. One mutex is
// enough: it is taken once per acknowledged publish (or batch), never held.
type ingestMeter struct {
	mu     sync.Mutex
	total  int64
	window rateWindow
}

func (m *ingestMeter) add(n int, now time.Time) {
	m.mu.Lock()
	m.total += int64(n)
	m.window.addN(now, uint32(n))
	m.mu.Unlock()
}

func (m *ingestMeter) stats(now time.Time) IngestStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return IngestStats{Total: m.total, Rate: m.window.perMinute(now)}
}

// IngestStats reports the device messages stored since the broker started
// (from any front end) and how many in the last minute.
func (b *Broker) IngestStats() IngestStats { return b.ingest.stats(time.Now()) }
