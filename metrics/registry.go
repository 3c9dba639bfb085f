package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
)

// NewRegistry makes a registry holding the Counters and, through
// RegisterCollectors, the runtime collectors and a GroupCollector reading src.
func NewRegistry(src Source, log zerolog.Logger) (*prometheus.Registry, *Counters, error) {
	reg := prometheus.NewRegistry()
	counters, err := NewCounters(reg)
	if err != nil {
		return nil, nil, err
	}
	if err := RegisterCollectors(reg, src, log); err != nil {
		return nil, nil, err
	}
	return reg, counters, nil
}

// RegisterCollectors adds the Go runtime and process collectors and a
// GroupCollector reading src. It is apart from NewCounters so the counters
// can exist (and be given to the broker as its Observer) before the broker
// that src is.
func RegisterCollectors(reg prometheus.Registerer, src Source, log zerolog.Logger) error {
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		NewGroupCollector(src, log),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
