// Package broker is the consumer-group engine: device messages in one
// JetStream stream, one durable pull consumer per consumer group, each message
// handed to one member of the group chosen at random among those with credit,
// and acknowledged to JetStream only when the member settles it.
//
// It knows nothing of AMQP or STOMP: front ends join groups as members and
// report outcomes. State (groups, subscriptions) lives in JetStream KV, so an
// embedded server's --data directory holds everything across restarts.
package broker
