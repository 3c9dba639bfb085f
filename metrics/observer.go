package metrics

import "github.com/amqpemu/amqpemu/broker"

// Observer feeds the counters from the broker and the AMQP server: it
// satisfies broker.Observer and the AMQP server's Observer (declared there,
// met here by method set, so metrics does not import amqp).
type Observer struct{ c *Counters }

// NewObserver returns an Observer updating c.
func NewObserver(c *Counters) Observer { return Observer{c: c} }

// Delivered counts a transfer to a client of a group.
func (o Observer) Delivered(group string, redelivered bool) {
	o.c.Traffic.delivered(group, redelivered)
}

// Settled counts a client's outcome.
func (o Observer) Settled(group string, out broker.Outcome) { o.c.Traffic.settled(group, out) }

// QueueDelivered counts a transfer to a client of a generic queue.
func (o Observer) QueueDelivered(address string, redelivered bool) {
	o.c.Queues.delivered(address, redelivered)
}

// QueueSettled counts a generic queue client's outcome.
func (o Observer) QueueSettled(address string, out broker.Outcome) { o.c.Queues.settled(address, out) }

// Ingested counts device messages stored, from any front end.
func (o Observer) Ingested(n int) { o.c.MessagesIngested.Add(float64(n)) }

// EngineSettleFailed counts a settlement the engine did not take.
func (o Observer) EngineSettleFailed(op string) { o.c.EngineSettleFailures.WithLabelValues(op).Inc() }

// ConnectionOpened and ConnectionClosed track open AMQP connections.
func (o Observer) ConnectionOpened() { o.c.AMQPConnections.Inc() }
func (o Observer) ConnectionClosed() { o.c.AMQPConnections.Dec() }

// ProtocolError counts an error the AMQP server sent.
func (o Observer) ProtocolError(condition string) {
	o.c.ProtocolErrors.WithLabelValues("amqp", condition).Inc()
}

// STOMPObserver feeds the counters from the STOMP server (its Observer,
// met by method set).
type STOMPObserver struct{ c *Counters }

// NewSTOMPObserver returns a STOMPObserver updating c.
func NewSTOMPObserver(c *Counters) STOMPObserver { return STOMPObserver{c: c} }

// Connected and Disconnected track open STOMP connections.
func (o STOMPObserver) Connected()    { o.c.STOMPConnections.Inc() }
func (o STOMPObserver) Disconnected() { o.c.STOMPConnections.Dec() }

// ProtocolError counts an ERROR frame the STOMP server sent for a client's
// fault (STOMP has no error conditions: they all count as "error").
func (o STOMPObserver) ProtocolError() {
	o.c.ProtocolErrors.WithLabelValues("stomp", "error").Inc()
}
