package brokerbackend

import "fmt"

// management answers requests to a $management node. entity is the path
// before "/$management" ("" for the namespace-level node Event Hubs uses).
type management struct {
	be     *Backend
	entity string
}

func (m *management) handle(_ uint64, req *rpcRequest) rpcResponse {
	op := req.str("operation")
	return rpcResponse{status: 501, description: fmt.Sprintf("management operation %q is not supported by the emulator", op)}
}
