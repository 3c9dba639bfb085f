package metrics

import (
	"context"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/logservice"
)

// LogSource is what the log service collector reads;
// *logservice.Server satisfies it.
type LogSource interface {
	Groups(ctx context.Context) ([]logservice.GroupOverview, error)
	Forwards(ctx context.Context) ([]logservice.ForwardRule, error)
}

var (
	logBacklogDesc = prometheus.NewDesc("amqpemu_logservice_group_backlog",
		"Log groups of the shard after the log service consumer group's checkpoint (all kept ones before its first checkpoint).",
		[]string{"project", "logstore", "group", "shard"}, nil)
	logConsumersDesc = prometheus.NewDesc("amqpemu_logservice_group_consumers",
		"Live consumers (heartbeating within the timeout) of the log service consumer group.",
		[]string{"project", "logstore", "group"}, nil)
	logForwardBacklogDesc = prometheus.NewDesc("amqpemu_logforward_backlog",
		"Device messages of the product not yet forwarded into the logstore of its data forwarding rule.",
		[]string{"product", "project", "logstore"}, nil)
)

// LogCollector reports the log service's consumer groups and data
// forwarding rules, read at scrape time.
type LogCollector struct {
	src LogSource
	log zerolog.Logger
}

// NewLogCollector makes a collector reading src; register it on a registry.
func NewLogCollector(src LogSource, log zerolog.Logger) *LogCollector {
	return &LogCollector{src: src, log: log}
}

// Describe implements prometheus.Collector.
func (c *LogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- logBacklogDesc
	ch <- logConsumersDesc
	ch <- logForwardBacklogDesc
}

// Collect implements prometheus.Collector; a failed read is reported to
// the registry.
func (c *LogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	groups, err := c.src.Groups(ctx)
	if err != nil {
		c.log.Warn().Err(err).Msg("metrics: reading the log service's consumer groups")
		ch <- prometheus.NewInvalidMetric(logBacklogDesc, err)
	}
	for _, g := range groups {
		for _, sh := range g.Shards {
			ch <- prometheus.MustNewConstMetric(logBacklogDesc, prometheus.GaugeValue, float64(sh.Backlog),
				g.Project, g.Logstore, g.Name, strconv.Itoa(sh.Shard))
		}
		ch <- prometheus.MustNewConstMetric(logConsumersDesc, prometheus.GaugeValue, float64(len(g.Consumers)), g.Project, g.Logstore, g.Name)
	}
	rules, err := c.src.Forwards(ctx)
	if err != nil {
		c.log.Warn().Err(err).Msg("metrics: reading the log forwarding rules")
		ch <- prometheus.NewInvalidMetric(logForwardBacklogDesc, err)
	}
	for _, r := range rules {
		ch <- prometheus.MustNewConstMetric(logForwardBacklogDesc, prometheus.GaugeValue, float64(r.Backlog), r.ProductKey, r.Project, r.Logstore)
	}
}
