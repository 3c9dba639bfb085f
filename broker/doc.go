// Package broker is the consumer-group engine: device messages in one
// JetStream stream, one durable pull consumer per consumer group, each message
// handed to one member of the group chosen at random among those with credit,
// and acknowledged to JetStream only when the member settles it.
//
// It knows nothing of AMQP or STOMP: front ends join groups as members and
// report outcomes. State (groups, subscriptions) lives in JetStream KV, so an
// embedded server's --data directory holds everything across restarts.
//
// Kafka topics, partitions, offsets and committed group positions are read
// over the same stream without consumers of their own (kafka.go,
// kafka_offsets.go, kafka_scan.go): a partition is a slice of a topic's
// subjects chosen by device hash, an offset is a stream sequence.
package broker
