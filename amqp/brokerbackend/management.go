package brokerbackend

import (
	"fmt"

	"github.com/amqpemu/amqpemu/amqp/encoding"
)

// Event Hubs view of the emulator: every hub name is served, with one
// partition, "0"; its consumer groups are the emulator's consumer groups
// ($Default is DEFAULT_GROUP), each delivering every message once to one of
// its receivers (see eventhubs.go).
const ehPartition = "0"

// The array format code of str32-utf8, for partition_ids.
const codeStr32 = 0xb1

// management answers requests to a $management node. entity is the path
// before "/$management" ("" for the namespace-level node Event Hubs uses).
type management struct {
	be     *Backend
	entity string
}

func (m *management) handle(_ uint64, req *rpcRequest) rpcResponse {
	op := req.str("operation")
	if op != "READ" {
		return rpcResponse{status: 501, description: fmt.Sprintf("management operation %q is not supported by the emulator", op)}
	}
	// Event Hubs sends its token with each request as well.
	if tok := req.str("security_token"); tok != "" {
		if err := verifySAS(m.be.sasKeys, tok, m.be.clock()); err != nil {
			return rpcResponse{status: 401, description: fmt.Sprintf("security_token refused: %v", err)}
		}
	}
	hub := req.str("name")
	switch typ := req.str("type"); typ {
	case "com.microsoft:eventhub":
		return rpcResponse{status: 200, description: "OK", body: encoding.Map{
			{Key: "name", Value: hub},
			{Key: "type", Value: typ},
			{Key: "created_at", Value: encoding.Timestamp(0)},
			{Key: "partition_count", Value: int32(1)},
			{Key: "partition_ids", Value: &encoding.Array{Code: codeStr32, Values: []any{ehPartition}}},
		}}
	case "com.microsoft:partition":
		if p := req.str("partition"); p != ehPartition {
			return rpcResponse{status: 404, description: fmt.Sprintf("partition %q of %q does not exist: the emulator's hubs have one partition, %q", p, hub, ehPartition)}
		}
		// A hub is not one stream of its own here: its consumer groups each
		// have their own backlog, so there is no hub-wide sequence to report.
		return rpcResponse{status: 200, description: "OK", body: encoding.Map{
			{Key: "name", Value: hub},
			{Key: "type", Value: typ},
			{Key: "partition", Value: ehPartition},
			{Key: "begin_sequence_number", Value: int64(0)},
			{Key: "last_enqueued_sequence_number", Value: int64(-1)},
			{Key: "last_enqueued_offset", Value: "-1"},
			{Key: "last_enqueued_time_utc", Value: encoding.Timestamp(0)},
			{Key: "is_partition_empty", Value: true},
		}}
	default:
		return rpcResponse{status: 404, description: fmt.Sprintf("READ of type %q is not supported by the emulator: com.microsoft:eventhub or com.microsoft:partition", typ)}
	}
}
