package brokerbackend

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// Request-response nodes ($cbs, $management) follow the AMQP management and
// claims-based-security drafts the Azure SDKs use: a client attaches a sender
// to the node and a receiver from it whose target is a private reply address,
// then sends requests whose reply-to is that address. Each answer goes to the
// receiver on the same connection with that target, with correlation-id set
// to the request's message-id and application-properties status-code (int)
// and status-description (string).

// rpcRequest is a decoded request message.
type rpcRequest struct {
	messageID any
	replyTo   string
	props     encoding.Map // application-properties
	body      any          // the amqp-value, or the joined data sections as []byte
}

// str returns a string application property, or "".
func (r *rpcRequest) str(key string) string {
	v, _ := r.props.Get(key)
	switch v := v.(type) {
	case string:
		return v
	case encoding.Symbol:
		return string(v)
	}
	return ""
}

// rpcResponse is an answer: status and, optionally, an amqp-value body.
type rpcResponse struct {
	status      int32
	description string
	body        any // encoded as the amqp-value; nil encodes null
}

// rpcHandler answers one request of a node. connID is the connection the
// request came on.
type rpcHandler func(connID uint64, req *rpcRequest) rpcResponse

// replyKey names a reply link: the connection and the link's target address.
type replyKey struct {
	conn uint64
	addr string
}

// rpcHub routes answers to reply links. Safe for concurrent use.
type rpcHub struct {
	mu    sync.Mutex
	links map[replyKey]*replyLink // guarded by mu
}

func (h *rpcHub) add(k replyKey, l *replyLink) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.links == nil {
		h.links = make(map[replyKey]*replyLink)
	}
	h.links[k] = l
}

func (h *rpcHub) remove(k replyKey, l *replyLink) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.links[k] == l {
		delete(h.links, k)
	}
}

func (h *rpcHub) find(k replyKey) *replyLink {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.links[k]
}

// openReplyLink attaches a client's receiver from a request-response node.
// Answers reach it by its target address (the Go SDK's reply-to) or by its
// link name (the reply-to of the JavaScript SDKs, which send no target).
func (h *rpcHub) openReplyLink(req amqp.LinkRequest, out amqp.Deliverer) (*replyLink, error) {
	l := &replyLink{hub: h, out: out}
	if req.Attach != nil && req.Attach.Target != nil && req.Attach.Target.Address != "" {
		l.keys = append(l.keys, replyKey{conn: req.ConnID, addr: req.Attach.Target.Address})
	}
	if req.LinkName != "" {
		l.keys = append(l.keys, replyKey{conn: req.ConnID, addr: req.LinkName})
	}
	if len(l.keys) == 0 {
		return nil, &frames.Error{Condition: frames.ErrCondInvalidField,
			Description: fmt.Sprintf("a receiver from %s needs a target address or a link name: the reply-to of the requests", req.Address)}
	}
	for _, k := range l.keys {
		h.add(k, l)
	}
	return l, nil
}

// replyLink is a client's receiver of answers. It implements amqp.Consumer.
type replyLink struct {
	hub  *rpcHub
	keys []replyKey // where answers for it are addressed
	out  amqp.Deliverer

	mu      sync.Mutex
	credit  uint64          // limit - sent; guarded by mu
	sent    uint64          // answers delivered; guarded by mu
	pending []amqp.Delivery // answers waiting for credit; guarded by mu
	nextID  atomic.Uint64   // delivery references (answers are never taken back)
	closed  bool            // guarded by mu
}

// send queues an answer and delivers what credit allows.
func (l *replyLink) send(msg []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.pending = append(l.pending, amqp.Delivery{ID: l.nextID.Add(1), Message: msg})
	l.flushLocked()
}

func (l *replyLink) flushLocked() {
	for l.credit > 0 && len(l.pending) > 0 {
		d := l.pending[0]
		l.pending = l.pending[1:]
		l.credit--
		l.sent++
		if !l.out.Deliver(d) {
			l.closed = true
			return
		}
	}
}

func (l *replyLink) Flow(limit uint64, drain bool) {
	l.mu.Lock()
	l.credit = 0
	if limit > l.sent {
		l.credit = limit - l.sent
	}
	l.flushLocked()
	if drain {
		l.credit = 0
	}
	l.mu.Unlock()
	if drain {
		l.out.Drained()
	}
}

// Settle: answers are not redelivered, whatever the client's outcome.
func (l *replyLink) Settle([]uint64, amqp.Outcome) {}

func (l *replyLink) Close() {
	l.mu.Lock()
	l.closed = true
	l.pending = nil
	l.mu.Unlock()
	for _, k := range l.keys {
		l.hub.remove(k, l)
	}
}

// requestLink is a client's sender of requests to a node. It implements
// amqp.Producer.
type requestLink struct {
	hub    *rpcHub
	conn   uint64
	node   string
	handle rpcHandler
	log    *zerolog.Logger
}

func (p *requestLink) Publish(msg []byte, _ uint32, done func(amqp.Outcome)) {
	req, err := parseRequest(msg)
	if err != nil {
		done(rejected(frames.ErrCondDecodeError, fmt.Errorf("%s request: %w", p.node, err)))
		return
	}
	if req.replyTo == "" {
		done(rejected(frames.ErrCondInvalidField, fmt.Errorf("%s request without reply-to: set it to the target address of your receiver from %s", p.node, p.node)))
		return
	}
	reply := p.hub.find(replyKey{conn: p.conn, addr: req.replyTo})
	if reply == nil {
		done(rejected(frames.ErrCondPreconditionFailed, fmt.Errorf("%s request: no receiver from %s with target %q on this connection", p.node, p.node, req.replyTo)))
		return
	}
	resp := p.handle(p.conn, req)
	p.log.Debug().Uint64("conn", p.conn).Str("node", p.node).Str("operation", req.str("operation")).
		Str("name", req.str("name")).Str("type", req.str("type")).Int32("status", resp.status).
		Str("description", resp.description).Msg("request answered")
	out, err := encodeResponse(req.messageID, resp)
	if err != nil {
		done(rejected(frames.ErrCondInternalError, fmt.Errorf("%s answer: %w", p.node, err)))
		return
	}
	done(amqp.Outcome{Kind: amqp.Accepted})
	reply.send(out)
}

func (p *requestLink) Close() {}

// parseRequest decodes the parts of a request message a node reads.
func parseRequest(msg []byte) (*rpcRequest, error) {
	m, err := frames.ParseMessage(msg)
	if err != nil {
		return nil, err
	}
	req := &rpcRequest{}
	if m.Properties != nil {
		p, err := frames.DecodeProperties(m.Properties)
		if err != nil {
			return nil, err
		}
		req.messageID, req.replyTo = p.MessageID, p.ReplyTo
	}
	if m.ApplicationProperties != nil {
		if req.props, err = frames.DecodeAnnotatedMap(m.ApplicationProperties); err != nil {
			return nil, err
		}
	}
	req.body, err = bodyValue(m.Body)
	return req, err
}

// bodyValue returns an amqp-value body's value, or data sections joined.
func bodyValue(body [][]byte) (any, error) {
	if len(body) == 0 {
		return nil, nil
	}
	r := encoding.NewReader(body[0])
	code, _, _, err := r.ReadDescriptor()
	if err != nil {
		return nil, err
	}
	switch code {
	case encoding.DescAMQPValue:
		return r.ReadValue()
	case encoding.DescData:
		var out []byte
		for _, sec := range body {
			p, err := frames.DataPayload(sec)
			if err != nil {
				return nil, err
			}
			out = append(out, p...)
		}
		return out, nil
	}
	return nil, errors.New("the body must be an amqp-value or data sections")
}

// encodeResponse builds the answer to a request with the given message-id.
func encodeResponse(messageID any, resp rpcResponse) ([]byte, error) {
	props := frames.Properties{CorrelationID: messageID}
	b, err := props.Append(nil)
	if err != nil {
		return nil, err
	}
	b, err = frames.AppendMapSection(b, encoding.DescApplicationProperties, encoding.Map{
		{Key: "status-code", Value: resp.status},
		{Key: "status-description", Value: resp.description},
	})
	if err != nil {
		return nil, err
	}
	b = encoding.AppendDescriptor(b, encoding.DescAMQPValue)
	return encoding.AppendValue(b, resp.body)
}

// isManagementNode reports whether an address names a $management node:
// "$management" (Event Hubs) or "<entity>/$management" (Service Bus).
func isManagementNode(addr string) bool {
	return addr == managementNode || strings.HasSuffix(addr, "/"+managementNode)
}
