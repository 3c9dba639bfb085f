package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
)

// NewRegistry makes a registry holding the Go runtime and process
// collectors, a GroupCollector reading src, and the Counters.
func NewRegistry(src Source, log zerolog.Logger) (*prometheus.Registry, *Counters, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		NewGroupCollector(src, log),
	} {
		if err := reg.Register(c); err != nil {
			return nil, nil, err
		}
	}
	counters, err := NewCounters(reg)
	if err != nil {
		return nil, nil, err
	}
	return reg, counters, nil
}
