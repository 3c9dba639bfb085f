package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Counters are the metrics the front ends update as traffic flows.
type Counters struct {
	// MessagesIngested counts device messages stored, by any front end.
	MessagesIngested prometheus.Counter
	// Deliveries, Acks, Redeliveries and Rejects count per consumer group
	// (label "group"): transfers to a client, messages the client
	// accepted, transfers of a message delivered before, and messages
	// the client rejected.
	Deliveries   *prometheus.CounterVec
	Acks         *prometheus.CounterVec
	Redeliveries *prometheus.CounterVec
	Rejects      *prometheus.CounterVec
	// QueueDeliveries, QueueAcks, QueueRedeliveries and QueueRejects are
	// the same per generic queue (label "queue", the address), kept apart
	// from consumer groups.
	QueueDeliveries   *prometheus.CounterVec
	QueueAcks         *prometheus.CounterVec
	QueueRedeliveries *prometheus.CounterVec
	QueueRejects      *prometheus.CounterVec
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
	group, queue := []string{"group"}, []string{"queue"}
	c := &Counters{
		MessagesIngested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "amqpemu_messages_ingested_total", Help: "Device messages stored, from any front end.",
		}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amqpemu_deliveries_total", Help: "Messages transferred to clients of a consumer group, redeliveries included.",
		}, group),
		Acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amqpemu_acks_total", Help: "Messages the clients of a consumer group accepted.",
		}, group),
		Redeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amqpemu_redeliveries_total", Help: "Transfers of messages delivered to the consumer group before.",
		}, group),
		Rejects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amqpemu_rejects_total", Help: "Messages the clients of a consumer group rejected.",
		}, group),
		QueueDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amqpemu_queue_deliveries_total", Help: "Messages transferred to clients of a generic queue, redeliveries included.",
		}, queue),
		QueueAcks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amqpemu_queue_acks_total", Help: "Messages the clients of a generic queue accepted.",
		}, queue),
		QueueRedeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amqpemu_queue_redeliveries_total", Help: "Transfers of messages delivered from the generic queue before.",
		}, queue),
		QueueRejects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "amqpemu_queue_rejects_total", Help: "Messages the clients of a generic queue rejected.",
		}, queue),
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
		c.QueueDeliveries, c.QueueAcks, c.QueueRedeliveries, c.QueueRejects, c.EngineSettleFailures, c.AMQPConnections, c.STOMPConnections, c.ProtocolErrors} {
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
