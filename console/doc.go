// Package console is amqpemu's HTTP side: the REST API of DESIGN.md's
// contract (groups, status, clear and reset, subscriptions, message
// ingest), /healthz, and /metrics from an injected Prometheus registry.
//
// It talks to the engine only through Backend, an interface it declares and
// *broker.Broker satisfies. Every error a handler returns is turned into the
// {"code", "message"} JSON answer by one function, errorFor.
package console
