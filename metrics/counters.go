package metrics

import (
	"github.com/amqpemu/amqpemu/broker"
	"github.com/prometheus/client_golang/prometheus"
)

// Counters are the metrics the front ends update as traffic flows.
type Counters struct {
	// MessagesIngested counts device messages stored, by any front end.
	MessagesIngested prometheus.Counter
	// Traffic per consumer group (label "group"), embedded: Deliveries,
	// Acks, Redeliveries, Rejects.
	Traffic
	// Queues is the same per generic queue (label "queue", the address),
	// kept apart from consumer groups.
	Queues Traffic
	// EngineSettleFailures counts acks, naks and terms JetStream did not
	// take (label "op"); those messages are redelivered after the ack
	// timeout.
	EngineSettleFailures *prometheus.CounterVec
	// AMQPConnections is the number of open AMQP connections.
	AMQPConnections prometheus.Gauge
	// STOMPConnections is the number of open STOMP connections.
	STOMPConnections prometheus.Gauge
	// ProtocolErrors counts connections or links closed with an error, by
	// protocol ("amqp", "stomp", "http") and condition
	// ("amqp:resource-limit-exceeded", …).
	ProtocolErrors *prometheus.CounterVec
}

// NewCounters makes the counters and registers them on reg.
func NewCounters(reg prometheus.Registerer) (*Counters, error) {
	c := &Counters{
		Traffic: newTraffic("amqpemu_", "group", "a consumer group"),
		Queues:  newTraffic("amqpemu_queue_", "queue", "a generic queue"),
		MessagesIngested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "amqpemu_messages_ingested_total", Help: "Device messages stored, from any front end.",
		}),
		EngineSettleFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amqpemu_engine_settle_failures_total", Help: "Acks, naks and terms the engine did not take (the message is redelivered after the ack timeout).",
		}, []string{"op"}),
		AMQPConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "amqpemu_amqp_connections", Help: "Open AMQP connections.",
		}),
		STOMPConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "amqpemu_stomp_connections", Help: "Open STOMP connections.",
		}),
		ProtocolErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amqpemu_protocol_errors_total", Help: "Connections, sessions or links closed with an error, by protocol and error condition.",
		}, []string{"protocol", "condition"}),
	}
	for _, m := range []prometheus.Collector{c.MessagesIngested, c.Deliveries, c.Acks, c.Redeliveries, c.Rejects,
		c.Queues.Deliveries, c.Queues.Acks, c.Queues.Redeliveries, c.Queues.Rejects, c.EngineSettleFailures, c.AMQPConnections, c.STOMPConnections, c.ProtocolErrors} {
		if err := reg.Register(m); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ForgetGroup drops a deleted group's series so they stop being exported.
func (c *Counters) ForgetGroup(id string) {
	for _, v := range []*prometheus.CounterVec{c.Deliveries, c.Acks, c.Redeliveries, c.Rejects} {
		v.DeleteLabelValues(id)
	}
}

// Traffic counts, per group or queue: transfers to a client (Deliveries),
// messages the client accepted (Acks), transfers of a message delivered
// before (Redeliveries) and messages the client rejected (Rejects).
type Traffic struct {
	Deliveries   *prometheus.CounterVec
	Acks         *prometheus.CounterVec
	Redeliveries *prometheus.CounterVec
	Rejects      *prometheus.CounterVec
}

// newTraffic names the four counters prefix+deliveries_total and so on,
// labelled by label; of is what they count for, in their help.
func newTraffic(prefix, label, of string) Traffic {
	vec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: prefix + name, Help: help}, []string{label})
	}
	return Traffic{
		Deliveries:   vec("deliveries_total", "Messages transferred to clients of "+of+", redeliveries included."),
		Acks:         vec("acks_total", "Messages the clients of "+of+" accepted."),
		Redeliveries: vec("redeliveries_total", "Transfers of messages delivered from "+of+" before."),
		Rejects:      vec("rejects_total", "Messages the clients of "+of+" rejected."),
	}
}

func (t Traffic) delivered(label string, redelivered bool) {
	t.Deliveries.WithLabelValues(label).Inc()
	if redelivered {
		t.Redeliveries.WithLabelValues(label).Inc()
	}
}

func (t Traffic) settled(label string, out broker.Outcome) {
	switch out {
	case broker.Ack:
		t.Acks.WithLabelValues(label).Inc()
	case broker.Drop:
		t.Rejects.WithLabelValues(label).Inc()
	}
}
