package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/queueservice"
)

// QueueSource is what the queue service collector reads;
// *queueservice.Server satisfies it.
type QueueSource interface {
	Backlogs(ctx context.Context) ([]queueservice.Backlog, error)
}

var queueBacklogDesc = prometheus.NewDesc("amqpemu_queueservice_group_backlog",
	"Messages of the queue the queue service consumer group has not acknowledged (waiting, and consumed but not yet acknowledged).",
	[]string{"project", "queue", "queue_name", "group", "group_name", "state"}, nil)

// QueueCollector reports the queue service's consumer groups, read at
// scrape time.
type QueueCollector struct {
	src QueueSource
	log zerolog.Logger
}

// NewQueueCollector makes a collector reading src; register it on a registry.
func NewQueueCollector(src QueueSource, log zerolog.Logger) *QueueCollector {
	return &QueueCollector{src: src, log: log}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueBacklogDesc }

// Collect implements prometheus.Collector; a failed read is reported to
// the registry.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	backlogs, err := c.src.Backlogs(ctx)
	if err != nil {
		c.log.Warn().Err(err).Msg("metrics: reading the queue service's consumer groups")
		ch <- prometheus.NewInvalidMetric(queueBacklogDesc, err)
		return
	}
	for _, b := range backlogs {
		ch <- prometheus.MustNewConstMetric(queueBacklogDesc, prometheus.GaugeValue, float64(b.Pending),
			b.Project, b.Queue, b.QueueName, b.Group, b.GroupName, "waiting")
		ch <- prometheus.MustNewConstMetric(queueBacklogDesc, prometheus.GaugeValue, float64(b.AckPending),
			b.Project, b.Queue, b.QueueName, b.Group, b.GroupName, "unacknowledged")
	}
}
