package brokerbackend

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
)

// The claims-based-security node: Azure SDKs put a token for each entity
// they use before attaching to it.
const (
	cbsNode        = "$cbs"
	managementNode = "$management"

	sasTokenType = "servicebus.windows.net:sastoken"
)

// Option configures a Backend.
type Option func(*Backend)

// WithSASKeys sets the keys that sign the shared access signatures put to
// $cbs (the emulator's access key id and secret). Without any, every
// put-token is refused.
func WithSASKeys(keys ...SASKey) Option {
	return func(be *Backend) { be.sasKeys = append(be.sasKeys, keys...) }
}

// WithLogger sets the logger of the $cbs and $management nodes (each
// request is logged at debug level with its operation and answer).
func WithLogger(log zerolog.Logger) Option { return func(be *Backend) { be.log = log } }

// clock returns the time tokens are checked at.
func (be *Backend) clock() time.Time { return time.Now() }

// openRPCConsumer attaches a receiver from $cbs or a $management node, if
// the address names one.
func (be *Backend) openRPCConsumer(req amqp.LinkRequest, out amqp.Deliverer) (amqp.Consumer, bool, error) {
	if req.Address != cbsNode && !isManagementNode(req.Address) {
		return nil, false, nil
	}
	l, err := be.rpc.openReplyLink(req, out)
	if err != nil {
		return nil, true, err
	}
	return l, true, nil
}

// openRPCProducer attaches a sender to $cbs or a $management node, if the
// address names one.
func (be *Backend) openRPCProducer(_ context.Context, req amqp.LinkRequest) (amqp.Producer, bool) {
	switch {
	case req.Address == cbsNode:
		return &requestLink{hub: &be.rpc, conn: req.ConnID, node: cbsNode, handle: be.putToken, log: &be.log}, true
	case isManagementNode(req.Address):
		entity := req.Address[:len(req.Address)-len(managementNode)]
		if entity != "" {
			entity = entity[:len(entity)-1]
		}
		m := &management{be: be, entity: entity}
		return &requestLink{hub: &be.rpc, conn: req.ConnID, node: req.Address, handle: m.handle, log: &be.log}, true
	}
	return nil, false
}

// putToken answers a $cbs request: 202 for a valid shared access signature
// of the server's key, 401 otherwise, 400/501 for other operations.
func (be *Backend) putToken(connID uint64, req *rpcRequest) rpcResponse {
	if op := req.str("operation"); op != "put-token" {
		return rpcResponse{status: 501, description: fmt.Sprintf("operation %q is not supported on $cbs: only put-token", op)}
	}
	typ := req.str("type")
	if typ != sasTokenType {
		return rpcResponse{status: 401, description: fmt.Sprintf("token type %q is not supported: use a shared access signature (%s) signed with the emulator's access key", typ, sasTokenType)}
	}
	token, ok := req.body.(string)
	if !ok {
		if b, isBytes := req.body.([]byte); isBytes {
			token, ok = string(b), true
		}
	}
	if !ok || token == "" {
		return rpcResponse{status: 400, description: "put-token: the body must be the token as a string"}
	}
	if err := verifySAS(be.sasKeys, token, be.clock()); err != nil {
		return rpcResponse{status: 401, description: fmt.Sprintf("put-token for %q refused: %v", req.str("name"), err)}
	}
	be.azure.mark(connID)
	return rpcResponse{status: 202, description: "Accepted"}
}
