// Package brokerbackend serves the consumer-group broker over the AMQP
// server: it implements amqp.Backend on top of broker.Broker.
//
// Addresses (generic mode):
//   - a receiver whose source names a consumer group (its id, or its name)
//     joins that group; an empty source joins DEFAULT_GROUP;
//   - a sender whose target starts with "/" publishes device messages to
//     that topic (/<productKey>/<deviceName>/...), routed through the
//     subscriptions like any device message;
//   - any other address is a generic queue, created on first use: its
//     senders publish to it and its receivers compete as one group, the
//     messages kept byte for byte as sent.
//
// An address may carry the URI the client connected to in front, as
// python3-uamqp sends it (amqps://host/DEFAULT_GROUP,
// amqp://127.0.0.1:5672/my_queue): the scheme, host and port and the slash
// after them are dropped.
//
// For the Azure SDKs (Service Bus, Event Hubs; cbs.go, rpc.go):
//   - $cbs answers put-token: a shared access signature signed with a key
//     given by WithSASKeys gets 202, anything else 401 with the reason;
//   - $management and <entity>/$management answer Event Hubs' READ of a hub
//     (one partition, "0") and of its partition;
//   - <hub>/ConsumerGroups/<group>/Partitions/0 names a consumer group
//     ($Default is DEFAULT_GROUP) for Event Hubs receivers;
//   - receivers on a connection that put a valid token get Service Bus's
//     x-opt-* message annotations, and a message-id when the sender set none;
//   - batches (message-format 0x80013700) are split into their messages.
package brokerbackend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
	"github.com/amqpemu/amqpemu/broker"
)

// Backend adapts a broker to amqp.Backend.
type Backend struct {
	b       *broker.Broker
	queues  sync.Map       // generic queue addresses used since start: string → struct{}
	rpc     rpcHub         // $cbs and $management reply links
	sasKeys []SASKey       // keys of the tokens put to $cbs
	log     zerolog.Logger // $cbs and $management requests; disabled by default
	azure   azureConns     // connections that put a valid token to $cbs
	// lockDuration is the broker's ack timeout, shown to Azure clients as
	// each message's lock; 0: the broker's default.
	lockDuration time.Duration
}

// New returns the AMQP backend for b.
func New(b *broker.Broker, opts ...Option) *Backend {
	be := &Backend{b: b, log: zerolog.Nop()}
	for _, o := range opts {
		o(be)
	}
	return be
}

// trimURI drops an amqp:// or amqps:// scheme and its host[:port]/ from an
// address.
func trimURI(addr string) string {
	for _, scheme := range []string{"amqp://", "amqps://"} {
		if len(addr) >= len(scheme) && strings.EqualFold(addr[:len(scheme)], scheme) {
			rest := addr[len(scheme):]
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				return rest[i+1:]
			}
			return "" // the URI names no node
		}
	}
	return addr
}

// OpenConsumer joins the group or generic queue the source address names.
func (be *Backend) OpenConsumer(ctx context.Context, req amqp.LinkRequest, out amqp.Deliverer) (amqp.Consumer, error) {
	req.Address = trimURI(req.Address)
	c := &consumer{out: out, node: "group " + broker.DefaultGroupID}
	info := broker.MemberInfo{ClientID: req.ContainerID}
	if req.Remote != nil {
		info.Address = req.Remote.String()
	}
	if bound, ok := boundGroup(req.Principal); ok {
		info.ClientID = bound.clientID
		c.node = "group " + bound.groupID
		if err := be.joinBound(ctx, c, bound.groupID, info); err != nil {
			return nil, err
		}
		return c, nil
	}
	if l, ok, err := be.openRPCConsumer(req, out); ok {
		return l, err
	}
	if be.azure.has(req.ConnID) {
		c.sb = be
	}
	address, eventHub, err := eventHubSource(req.Address)
	if err != nil {
		return nil, err
	}
	id, isGroup, err := be.groupFor(ctx, address)
	if err != nil {
		return nil, errorFor(err)
	}
	if eventHub && !isGroup {
		return nil, &frames.Error{Condition: frames.ErrCondNotFound, Description: fmt.Sprintf("consumer group %q (of %s) does not exist", address, req.Address)}
	}
	if isGroup {
		c.node = "group " + id
		c.m, err = be.b.Join(ctx, id, info, c)
	} else {
		c.node = "generic queue " + req.Address
		c.m, err = be.b.JoinQueue(ctx, req.Address, info, c)
	}
	if err != nil {
		return nil, errorFor(err)
	}
	if !isGroup {
		if _, used := be.queues.LoadOrStore(req.Address, struct{}{}); !used {
			// A misspelled group name (DEFAULT_GRUOP) lands here and would
			// otherwise wait in silence.
			req.Logger.Info().Str("address", req.Address).Str("link", req.LinkName).
				Msgf("no consumer group %s: serving generic queue %s", req.Address, req.Address)
		}
	}
	return c, nil
}

// joinBound joins the group of a signed connection; the link's address
// does not matter (the samples send "default", "/queue-name", or none).
func (be *Backend) joinBound(ctx context.Context, c *consumer, groupID string, info broker.MemberInfo) error {
	m, err := be.b.Join(ctx, groupID, info, c)
	if errors.Is(err, broker.ErrGroupNotFound) {
		return &frames.Error{Condition: frames.ErrCondNotFound,
			Description: fmt.Sprintf("consumer group %q (consumerGroupId of the signed user name) does not exist", groupID)}
	}
	if err != nil {
		return errorFor(err)
	}
	c.m = m
	return nil
}

// groupFor resolves a source address to a consumer group, if it names one.
func (be *Backend) groupFor(ctx context.Context, address string) (string, bool, error) {
	if address == "" || address == broker.DefaultGroupID {
		return broker.DefaultGroupID, true, nil
	}
	g, err := be.b.Group(ctx, address) // by id, else by name
	if errors.Is(err, broker.ErrGroupNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return g.ID, true, nil
}

// OpenProducer accepts a sender to a device topic or a generic queue.
func (be *Backend) OpenProducer(ctx context.Context, req amqp.LinkRequest) (amqp.Producer, error) {
	req.Address = trimURI(req.Address)
	if p, ok := be.openRPCProducer(ctx, req); ok {
		return p, nil
	}
	if strings.HasPrefix(req.Address, "/") {
		pk, dn, kind, err := parseTopic(req.Address)
		if err != nil {
			return nil, &frames.Error{Condition: frames.ErrCondInvalidField, Description: err.Error()}
		}
		return &topicProducer{b: be.b, topic: req.Address, pk: pk, dn: dn, kind: kind}, nil
	}
	if req.Address == "" {
		return nil, &frames.Error{Condition: frames.ErrCondInvalidField, Description: "a sender needs a target address: a queue name or a device topic /productKey/deviceName/..."}
	}
	be.queues.Store(req.Address, struct{}{})
	return &queueProducer{b: be.b, address: req.Address}, nil
}

// parseTopic reads product key, device name and message kind from a device
// topic: /<pk>/<dn>/... carries device data, /as/mqtt/status/<pk>/<dn> status.
func parseTopic(topic string) (pk, dn, kind string, err error) {
	parts := strings.Split(strings.TrimPrefix(topic, "/"), "/")
	if len(parts) >= 5 && parts[0] == "as" && parts[1] == "mqtt" && parts[2] == "status" {
		return parts[3], parts[4], broker.KindStatus, nil
	}
	if len(parts) < 3 || parts[0] == "" || parts[1] == "" {
		return "", "", "", fmt.Errorf("device topic %q: want /productKey/deviceName/...", topic)
	}
	return parts[0], parts[1], broker.KindData, nil
}

// consumer is one receiving link's membership of a group.
type consumer struct {
	out  amqp.Deliverer
	m    *broker.Member
	node string   // what it joined, for the server's log
	sb   *Backend // non-nil: deliver the Service Bus way (the connection put a token to $cbs)
}

// Node names the group or generic queue the link joined (amqp.NodeNamer).
func (c *consumer) Node() string { return c.node }

// Deliver turns a broker delivery into an AMQP message for the link.
func (c *consumer) Deliver(d broker.Delivery) bool {
	return c.out.Deliver(c.encode(d))
}

// DeliverBatch hands a batch of broker deliveries to the link together, so
// their transfers share writes.
func (c *consumer) DeliverBatch(ds []broker.Delivery) bool {
	out := make([]amqp.Delivery, len(ds))
	for i, d := range ds {
		out[i] = c.encode(d)
	}
	return c.out.DeliverBatch(out)
}

// toAMQP encodes a device message the vendor's way; generic queue messages
// go out exactly as they were sent.
func toAMQP(d broker.Delivery) amqp.Delivery {
	msg := d.Raw
	if msg == nil {
		msg = VendorMessage(d.Message)
	}
	return amqp.Delivery{ID: d.Token, Message: msg}
}

// Flow hands the link's limit to the broker, which owns the member's
// credit and ends a drain itself (Drained).
func (c *consumer) Flow(limit uint64, drain bool) {
	if drain {
		c.m.Drain(limit)
		return
	}
	c.m.Flow(limit)
}

// Drained passes the broker's end of a drain to the link.
func (c *consumer) Drained() { c.out.Drained() }

func (c *consumer) Settle(ids []uint64, o amqp.Outcome) {
	outcome := broker.Ack
	switch o.Kind {
	case amqp.Rejected:
		outcome = broker.Drop
	case amqp.Released, amqp.Modified:
		outcome = broker.Requeue
	}
	for _, id := range ids {
		c.m.Settle(id, outcome)
	}
}

func (c *consumer) Close() { c.m.Leave() }

// VendorMessage encodes a device message as the vendor delivers it: a
// properties section with message-id, application-properties topic,
// messageId (string) and generateTime (long, epoch ms), and one data section
// with the payload. No content-type: Java samples read the body as bytes.
func VendorMessage(m broker.DeviceMessage) []byte {
	b := make([]byte, 0, 96+2*len(m.MessageID)+len(m.Topic)+len(m.Payload))
	w := encoding.BeginList(b, encoding.DescProperties)
	w.String(m.MessageID)
	b = w.End()
	// application-properties, written directly: a Map of boxed values would
	// cost an allocation per entry on every delivery.
	b = encoding.AppendDescriptor(b, encoding.DescApplicationProperties)
	b, mapStart := encoding.BeginMap(b)
	b = encoding.AppendString(b, "topic")
	b = encoding.AppendString(b, m.Topic)
	b = encoding.AppendString(b, "messageId")
	b = encoding.AppendString(b, m.MessageID)
	b = encoding.AppendString(b, "generateTime")
	b = encoding.AppendLong(b, m.GenerateTime.UnixMilli())
	b = encoding.EndMap(b, mapStart, 6)
	return frames.AppendData(b, m.Payload)
}

// topicProducer publishes each message's body as a device message payload.
type topicProducer struct {
	b             *broker.Broker
	topic, pk, dn string
	kind          string
}

func (p *topicProducer) Publish(msg []byte, format uint32, done func(amqp.Outcome)) {
	if format == batchMessageFormat {
		publishBatch(msg, func(m []byte, done func(amqp.Outcome)) { p.Publish(m, 0, done) }, done)
		return
	}
	payload, err := bodyBytes(msg)
	if err != nil {
		done(rejected(frames.ErrCondDecodeError, err))
		return
	}
	err = p.b.PublishAsync(broker.DeviceMessage{ProductKey: p.pk, DeviceName: p.dn, Kind: p.kind, Topic: p.topic, Payload: payload},
		func(err error) { done(outcomeOf(err)) })
	if err != nil {
		done(outcomeOf(err))
	}
}

func (p *topicProducer) Close() {}

// Node names the device topic (amqp.NodeNamer).
func (p *topicProducer) Node() string { return "device topic " + p.topic }

// bodyBytes returns the payload of a message: its data sections, joined.
func bodyBytes(msg []byte) ([]byte, error) {
	m, err := frames.ParseMessage(msg)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, sec := range m.Body {
		p, err := frames.DataPayload(sec)
		if err != nil {
			return nil, errors.New("a device message body must be data sections (binary)")
		}
		out = append(out, p...)
	}
	return out, nil
}

// queueProducer stores messages for a generic queue exactly as sent.
type queueProducer struct {
	b       *broker.Broker
	address string
}

func (p *queueProducer) Publish(msg []byte, format uint32, done func(amqp.Outcome)) {
	if format == batchMessageFormat {
		publishBatch(msg, func(m []byte, done func(amqp.Outcome)) { p.Publish(m, 0, done) }, done)
		return
	}
	if err := p.b.PublishQueueAsync(p.address, msg, func(err error) { done(outcomeOf(err)) }); err != nil {
		done(outcomeOf(err))
	}
}

func (p *queueProducer) Close() {}

// Node names the generic queue (amqp.NodeNamer).
func (p *queueProducer) Node() string { return "generic queue " + p.address }
