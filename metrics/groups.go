package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
)

// Source is what the group collector reads; *broker.Broker satisfies it.
type Source interface {
	Groups(ctx context.Context) ([]broker.Group, error)
	Backlog(ctx context.Context, id string) (int, error)
	Members(id string) []broker.MemberInfo
	Queues(ctx context.Context) ([]broker.QueueInfo, error)
}

// scrapeTimeout bounds one scrape's reads of the broker.
const scrapeTimeout = 10 * time.Second

var (
	accumulationDesc = prometheus.NewDesc("amqpemu_group_accumulation",
		"Messages of the consumer group not yet delivered or delivered and not yet settled.",
		[]string{"group"}, nil)
	onlineClientsDesc = prometheus.NewDesc("amqpemu_group_online_clients",
		"Clients of the consumer group online now.",
		[]string{"group"}, nil)
	queueAccumulationDesc = prometheus.NewDesc("amqpemu_queue_accumulation",
		"Messages of the generic queue not yet delivered or delivered and not yet settled.",
		[]string{"queue"}, nil)
	queueClientsDesc = prometheus.NewDesc("amqpemu_queue_online_clients",
		"Clients of the generic queue online now.",
		[]string{"queue"}, nil)
)

// GroupCollector reports each consumer group's accumulation and online
// clients, read from the broker at scrape time. The group label is the id.
type GroupCollector struct {
	src Source
	log zerolog.Logger
}

// NewGroupCollector makes a collector reading src; register it on a registry.
func NewGroupCollector(src Source, log zerolog.Logger) *GroupCollector {
	return &GroupCollector{src: src, log: log}
}

// Describe implements prometheus.Collector.
func (c *GroupCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- accumulationDesc
	ch <- onlineClientsDesc
	ch <- queueAccumulationDesc
	ch <- queueClientsDesc
}

// Collect implements prometheus.Collector. A failure to list the groups is
// reported to the registry (the scrape shows the error); a group deleted
// during the scrape is left out.
func (c *GroupCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	groups, err := c.src.Groups(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(accumulationDesc, err)
		return
	}
	for _, g := range groups {
		backlog, err := c.src.Backlog(ctx, g.ID)
		switch {
		case errors.Is(err, broker.ErrGroupNotFound):
			continue // deleted since the list was read
		case err != nil:
			c.log.Warn().Err(err).Str("group", g.ID).Msg("metrics: reading backlog")
			ch <- prometheus.NewInvalidMetric(accumulationDesc, err)
		default:
			ch <- prometheus.MustNewConstMetric(accumulationDesc, prometheus.GaugeValue, float64(backlog), g.ID)
		}
		ch <- prometheus.MustNewConstMetric(onlineClientsDesc, prometheus.GaugeValue, float64(len(c.src.Members(g.ID))), g.ID)
	}
	c.collectQueues(ctx, ch)
}

// collectQueues reports the generic queues, apart from the groups.
func (c *GroupCollector) collectQueues(ctx context.Context, ch chan<- prometheus.Metric) {
	queues, err := c.src.Queues(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueAccumulationDesc, err)
		return
	}
	for _, q := range queues {
		ch <- prometheus.MustNewConstMetric(queueAccumulationDesc, prometheus.GaugeValue, float64(q.Accumulation), q.Address)
		ch <- prometheus.MustNewConstMetric(queueClientsDesc, prometheus.GaugeValue, float64(q.OnlineClients), q.Address)
	}
}
