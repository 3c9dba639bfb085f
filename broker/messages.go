package broker

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultMaxMessageSize is the vendor's message size limit, the default of
// Config.MaxMessageSize.
const DefaultMaxMessageSize = 256 << 10

// DeviceMessage is a message a device sent, as forwarded to consumer groups.
type DeviceMessage struct {
	ProductKey   string
	DeviceName   string
	Kind         string // KindData when empty
	Topic        string // defaults to /<pk>/<dn>/user/update
	Payload      []byte
	MessageID    string    // assigned at ingest when empty; stable across redeliveries
	GenerateTime time.Time // when zero, the time the stream stored the message
}

// Headers for the fields the subject and the stream do not already hold:
// kind, product and device are in the subject, and the generate time
// defaults to the stream's store time. Every header costs allocations when
// a message is read back, so only what differs from the default is stored.
// The message id is derived from the stream sequence (messageIDOf) unless
// the publisher chose one.
const (
	hdrTopic        = "Amqpemu-Topic"
	hdrGenerateTime = "Amqpemu-Generate-Time"
	hdrMessageID    = "Amqpemu-Message-Id"
)

// Publish stores device messages; each is acknowledged by JetStream (written
// to the store) before Publish returns. It returns their message ids.
func (b *Broker) Publish(ctx context.Context, msgs ...DeviceMessage) ([]string, error) {
	if b.isClosed() {
		return nil, ErrClosed
	}
	if !b.connected() {
		return nil, fmt.Errorf("%w: not connected to JetStream; try again", ErrUnavailable)
	}
	// Check the whole batch first: a bad message stores none of it.
	norm := make([]DeviceMessage, len(msgs))
	for i := range msgs {
		m, err := b.normalize(msgs[i])
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		norm[i] = m
	}
	e := b.e()
	ids := make([]string, len(msgs))
	for start := 0; start < len(norm); start += publishWindow {
		if err := b.publishBatch(ctx, e, norm, ids, start, min(start+publishWindow, len(norm))); err != nil {
			return nil, err
		}
	}
	b.ingested(len(ids))
	return ids, nil
}

// publishWindow is how many of one Publish call's messages are in flight
// at once: well under nats.go's limit of asynchronous publishes awaiting
// their ack (4000), which would otherwise fail a large batch.
const publishWindow = 1000

// stallWait is how long a Publish call waits for room among the engine
// connection's asynchronous publishes when many callers publish at once.
const stallWait = 10 * time.Second

// publishBatch stores msgs[start:end], filling in their ids.
func (b *Broker) publishBatch(ctx context.Context, e *engine, msgs []DeviceMessage, ids []string, start, end int) error {
	futures := make([]jetstream.PubAckFuture, 0, end-start)
	for i := start; i < end; i++ {
		f, err := e.js.PublishMsgAsync(b.toNATS(msgs[i]), jetstream.WithStallWait(stallWait))
		if err != nil {
			return b.unavailable(fmt.Errorf("message %d: %w", i, err))
		}
		futures = append(futures, f)
	}
	for j, f := range futures {
		i := start + j
		select {
		case ack := <-f.Ok():
			if ids[i] = msgs[i].MessageID; ids[i] == "" {
				ids[i] = e.messageIDOf(ack.Sequence)
			}
		case err := <-f.Err():
			return b.unavailable(fmt.Errorf("message %d not stored: %w", i, err))
		case <-ctx.Done():
			return b.unavailable(ctx.Err())
		}
	}
	return nil
}

// normalize validates m and fills in its defaults.
func (b *Broker) normalize(m DeviceMessage) (DeviceMessage, error) {
	if err := checkProductKey(m.ProductKey); err != nil {
		return m, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if err := checkDeviceName(m.DeviceName); err != nil {
		return m, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if m.Kind == "" {
		m.Kind = KindData
	}
	if !slices.Contains(Kinds, m.Kind) {
		return m, fmt.Errorf("%w: unknown kind %q (known: %v)", ErrInvalidMessage, m.Kind, Kinds)
	}
	if m.Topic == "" {
		m.Topic = defaultTopic(m.ProductKey, m.DeviceName)
	} else if err := checkTopic(m.Topic); err != nil {
		return m, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	if err := b.checkSize(len(m.Payload)); err != nil {
		return m, err
	}
	if m.MessageID != "" {
		if err := checkMessageID(m.MessageID); err != nil {
			return m, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
		}
	}
	return m, nil
}

func defaultTopic(pk, dn string) string { return "/" + pk + "/" + dn + "/user/update" }

// messageIDOf is the id of the message at stream sequence seq: 19 decimal
// digits like the vendor's, stable across redeliveries, and different for
// every stream the store ever had (idBase is drawn when it is created).
// Deriving it spares every message a header, which costs allocations and
// CPU each time it is read back.
func (e *engine) messageIDOf(seq uint64) string {
	return strconv.FormatUint(1e18+(e.idBase+seq)%9e18, 10)
}

// newIDBase draws a stream's idBase.
func newIDBase() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:])
}

// subjectToken escapes a name into one subject token: '.' and '%' would
// split or alias tokens.
func subjectToken(s string) string {
	if !strings.ContainsAny(s, ".%") {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == '%' {
			sb.WriteString("%" + hex.EncodeToString([]byte{c}))
		} else {
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// deviceSubject is where a device message is stored: <root>.<kind>.<pk>.<dn>
// (roots: routing.go).
func deviceSubject(root string, m DeviceMessage) string {
	return root + "." + m.Kind + "." + subjectToken(m.ProductKey) + "." + subjectToken(m.DeviceName)
}

// deviceFilters select one kind of one product's messages, under both roots.
func deviceFilters(kind, productKey string) []string {
	rest := "." + kind + "." + subjectToken(productKey) + ".*"
	return []string{rootDefault + rest, rootSubscribed + rest}
}

// toNATS builds the stored form of m, routed by the product's subscription.
func (b *Broker) toNATS(m DeviceMessage) *nats.Msg {
	msg := nats.NewMsg(deviceSubject(b.rootFor(m.Kind, m.ProductKey), m))
	msg.Data = m.Payload
	if m.Topic != defaultTopic(m.ProductKey, m.DeviceName) {
		msg.Header.Set(hdrTopic, m.Topic)
	}
	if !m.GenerateTime.IsZero() {
		msg.Header.Set(hdrGenerateTime, strconv.FormatInt(m.GenerateTime.UnixMilli(), 10))
	}
	if m.MessageID != "" {
		msg.Header.Set(hdrMessageID, m.MessageID)
	}
	return msg
}

// fromNATS rebuilds the device message JetStream delivered in msg.
func (b *Broker) fromNATS(msg *nats.Msg, meta ackMeta) DeviceMessage {
	m := DeviceMessage{Payload: msg.Data, GenerateTime: meta.Stored}
	// <root>.<kind>.<pk>.<dn>: escaped tokens hold no '.'.
	_, rest, _ := strings.Cut(msg.Subject, ".")
	m.Kind, rest, _ = strings.Cut(rest, ".")
	pk, dn, _ := strings.Cut(rest, ".")
	m.ProductKey, m.DeviceName = unescapeToken(pk), unescapeToken(dn)
	if h := msg.Header; h != nil { // most messages have none
		m.MessageID = h.Get(hdrMessageID)
		if m.MessageID == "" {
			m.MessageID = h.Get(jetstream.MsgIDHeader) // how older versions stored it
		}
		m.Topic = h.Get(hdrTopic)
		if gt := h.Get(hdrGenerateTime); gt != "" {
			if ms, err := strconv.ParseInt(gt, 10, 64); err == nil {
				m.GenerateTime = time.UnixMilli(ms)
			}
		}
	}
	if m.MessageID == "" {
		m.MessageID = b.e().messageIDOf(meta.StreamSeq)
	}
	if m.Topic == "" {
		m.Topic = defaultTopic(m.ProductKey, m.DeviceName)
	}
	return m
}

// unescapeToken reverses subjectToken.
func unescapeToken(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// checkSize refuses a message of n bytes over the configured limit.
func (b *Broker) checkSize(n int) error {
	if n > b.cfg.MaxMessageSize {
		return fmt.Errorf("%w: %d bytes exceed the limit of %d", ErrMessageTooLarge, n, b.cfg.MaxMessageSize)
	}
	return nil
}

// MaxMessageSize is the largest message (payload, or a generic queue's
// whole message) the broker stores; front ends advertise and enforce it.
func (b *Broker) MaxMessageSize() int { return b.cfg.MaxMessageSize }
