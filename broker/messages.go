package broker

import (
	"context"
	"crypto/rand"
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
const (
	hdrTopic        = "Amqpemu-Topic"
	hdrGenerateTime = "Amqpemu-Generate-Time"
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
	ids := make([]string, 0, len(msgs))
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for i, m := range norm {
		f, err := b.e().js.PublishMsgAsync(b.toNATS(m), jetstream.WithMsgID(m.MessageID))
		if err != nil {
			return nil, b.unavailable(fmt.Errorf("message %d: %w", i, err))
		}
		futures = append(futures, f)
		ids = append(ids, m.MessageID)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return nil, b.unavailable(fmt.Errorf("message %d not stored: %w", i, err))
		case <-ctx.Done():
			return nil, b.unavailable(ctx.Err())
		}
	}
	b.ingested(len(ids))
	return ids, nil
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
	if m.MessageID == "" {
		m.MessageID = newMessageID()
	} else if err := checkMessageID(m.MessageID); err != nil {
		return m, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	return m, nil
}

func defaultTopic(pk, dn string) string { return "/" + pk + "/" + dn + "/user/update" }

// newMessageID returns a 19-digit decimal id like the vendor's.
func newMessageID() string {
	var b [8]byte
	rand.Read(b[:])
	n := uint64(0)
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return strconv.FormatUint(1e18+n%(9e18), 10)
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
	return msg
}

// fromNATS rebuilds the device message stored in msg at time stored.
func fromNATS(msg jetstream.Msg, stored time.Time) DeviceMessage {
	m := DeviceMessage{Payload: msg.Data(), GenerateTime: stored}
	// <root>.<kind>.<pk>.<dn>: escaped tokens hold no '.'.
	if parts := strings.SplitN(msg.Subject(), ".", 4); len(parts) == 4 {
		m.Kind, m.ProductKey, m.DeviceName = parts[1], unescapeToken(parts[2]), unescapeToken(parts[3])
	}
	h := msg.Headers()
	m.MessageID = h.Get(jetstream.MsgIDHeader)
	if m.Topic = h.Get(hdrTopic); m.Topic == "" {
		m.Topic = defaultTopic(m.ProductKey, m.DeviceName)
	}
	if gt, err := strconv.ParseInt(h.Get(hdrGenerateTime), 10, 64); err == nil {
		m.GenerateTime = time.UnixMilli(gt)
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
