package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// MaxPayload is the vendor's message size limit.
const MaxPayload = 256 << 10

// DeviceMessage is a message a device sent, as forwarded to consumer groups.
type DeviceMessage struct {
	ProductKey   string
	DeviceName   string
	Kind         string // KindData when empty
	Topic        string // defaults to /<pk>/<dn>/user/update
	Payload      []byte
	MessageID    string    // assigned at ingest when empty; stable across redeliveries
	GenerateTime time.Time // set at ingest when zero
}

// Message headers carrying the device message's fields in the stream.
const (
	hdrTopic        = "Amqpemu-Topic"
	hdrProduct      = "Amqpemu-Product"
	hdrDevice       = "Amqpemu-Device"
	hdrGenerateTime = "Amqpemu-Generate-Time"
	hdrKind         = "Amqpemu-Kind"
)

// Publish stores device messages; each is acknowledged by JetStream (written
// to the store) before Publish returns. It returns their message ids.
func (b *Broker) Publish(ctx context.Context, msgs ...DeviceMessage) ([]string, error) {
	if b.isClosed() {
		return nil, ErrClosed
	}
	// Check the whole batch first: a bad message stores none of it.
	norm := make([]DeviceMessage, len(msgs))
	for i := range msgs {
		m, err := normalize(msgs[i])
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		norm[i] = m
	}
	ids := make([]string, 0, len(msgs))
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for i, m := range norm {
		f, err := b.js.PublishMsgAsync(toNATS(m), jetstream.WithMsgID(m.MessageID))
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		futures = append(futures, f)
		ids = append(ids, m.MessageID)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return nil, fmt.Errorf("message %d not stored: %w", i, err)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return ids, nil
}

// normalize validates m and fills in its defaults.
func normalize(m DeviceMessage) (DeviceMessage, error) {
	if err := checkToken("productKey", m.ProductKey); err != nil {
		return m, err
	}
	if err := checkToken("deviceName", m.DeviceName); err != nil {
		return m, err
	}
	if m.Kind == "" {
		m.Kind = KindData
	}
	if !slices.Contains(Kinds, m.Kind) {
		return m, fmt.Errorf("%w: unknown kind %q (known: %v)", ErrInvalidMessage, m.Kind, Kinds)
	}
	if m.Topic == "" {
		m.Topic = "/" + m.ProductKey + "/" + m.DeviceName + "/user/update"
	}
	if len(m.Payload) > MaxPayload {
		return m, fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrInvalidMessage, len(m.Payload), MaxPayload)
	}
	if m.MessageID == "" {
		m.MessageID = newMessageID()
	}
	if m.GenerateTime.IsZero() {
		m.GenerateTime = time.Now()
	}
	return m, nil
}

// checkToken rejects empty names and characters that would break a subject.
func checkToken(what, s string) error {
	if s == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalidMessage, what)
	}
	if len(s) > 128 || strings.ContainsAny(s, " \t\r\n*>") {
		return fmt.Errorf("%w: %s %q is longer than 128 bytes or has whitespace, '*' or '>'", ErrInvalidMessage, what, s)
	}
	return nil
}

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

// deviceSubject is where a device message is stored: dev.<kind>.<pk>.<dn>.
func deviceSubject(m DeviceMessage) string {
	return "dev." + m.Kind + "." + subjectToken(m.ProductKey) + "." + subjectToken(m.DeviceName)
}

// deviceFilter selects one kind of one product's messages.
func deviceFilter(kind, productKey string) string {
	return "dev." + kind + "." + subjectToken(productKey) + ".*"
}

func toNATS(m DeviceMessage) *nats.Msg {
	msg := nats.NewMsg(deviceSubject(m))
	msg.Data = m.Payload
	msg.Header.Set(hdrTopic, m.Topic)
	msg.Header.Set(hdrProduct, m.ProductKey)
	msg.Header.Set(hdrDevice, m.DeviceName)
	msg.Header.Set(hdrKind, m.Kind)
	msg.Header.Set(hdrGenerateTime, strconv.FormatInt(m.GenerateTime.UnixMilli(), 10))
	return msg
}

// fromNATS rebuilds the device message stored in msg.
func fromNATS(msg jetstream.Msg) DeviceMessage {
	h := msg.Headers()
	gt, _ := strconv.ParseInt(h.Get(hdrGenerateTime), 10, 64)
	return DeviceMessage{
		ProductKey:   h.Get(hdrProduct),
		DeviceName:   h.Get(hdrDevice),
		Kind:         h.Get(hdrKind),
		Topic:        h.Get(hdrTopic),
		Payload:      msg.Data(),
		MessageID:    h.Get(jetstream.MsgIDHeader),
		GenerateTime: time.UnixMilli(gt),
	}
}
