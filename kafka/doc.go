// Package kafka is a Kafka wire-protocol listener over the broker's topics,
// partitions and committed offsets (broker/kafka.go), so that unchanged
// Kafka clients (franz-go, sarama, librdkafka's kcat) produce, fetch,
// consume in consumer groups and commit offsets against the emulator.
//
// The protocol messages are github.com/twmb/franz-go/pkg/kmsg; this package
// frames them (frame.go), decodes and encodes record batches with their
// compression (records.go), answers each API (handlers.go) and runs the
// classic consumer-group protocol in memory (group.go): JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup, session and rebalance timeouts. The
// data (records, committed offsets, topics, groups) is in JetStream through
// the broker; group membership is this process's, so with several amqpemu
// nodes on one engine, point one group's clients at one node.
//
// The server is one node (id 0) leading every partition; the address it
// advertises in Metadata is the local address of the client's connection.
// Each connection is served by one goroutine that reads a request, answers
// it and writes the answer, in order, as a Kafka broker does.
package kafka
