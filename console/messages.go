package console

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"slices"

	"github.com/amqpemu/amqpemu/broker"
)

// Limits of POST /api/v1/messages.
const (
	MaxMessagesPerRequest = 1000
	// MaxMessagesBody is the least body limit; it grows with
	// Config.MaxMessageSize (see messagesBodyLimit).
	MaxMessagesBody = 4 << 20 // bytes; a 256 KiB payload is ~350 KiB in base64
)

// messagesBodyLimit is the body limit of POST /api/v1/messages: one message
// of the broker's maximal size must fit whatever its encoding, so that it
// gets the broker's 413 MessageTooLarge (or is stored) rather than a
// BodyTooLarge. The worst encoding is a text payload of control characters,
// each escaped as \u00XX (6 bytes), which also covers base64 (4 per 3).
func (s *Server) messagesBodyLimit() int64 {
	const envelope = 64 << 10 // the message's other fields, generously
	return max(MaxMessagesBody, 6*int64(s.maxMessageSize())+envelope)
}

// maxMessageSize is Config.MaxMessageSize or the broker's default.
func (s *Server) maxMessageSize() int {
	if s.cfg.MaxMessageSize > 0 {
		return s.cfg.MaxMessageSize
	}
	return broker.DefaultMaxMessageSize
}

// messageJSON is one device message to ingest.
type messageJSON struct {
	ProductKey    string  `json:"productKey"`
	DeviceName    string  `json:"deviceName"`
	Topic         string  `json:"topic"`
	Payload       *string `json:"payload"`       // text, stored as its UTF-8 bytes
	PayloadBase64 *string `json:"payloadBase64"` // binary
	Kind          string  `json:"kind"`          // "data" when empty
}

// postMessages ingests one message (a JSON object) or several (an array);
// it answers 202 with their ids once every one is stored.
func (s *Server) postMessages(w http.ResponseWriter, r *http.Request) error {
	in, err := readMessages(w, r, s.messagesBodyLimit())
	if err != nil {
		return err
	}
	msgs := make([]broker.DeviceMessage, len(in))
	for i, m := range in {
		if msgs[i], err = m.toDevice(i); err != nil {
			return err
		}
	}
	ids, err := s.b.Publish(r.Context(), msgs...)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, struct {
		MessageIDs []string `json:"messageIds"`
	}{ids})
}

// readMessages decodes the body: an object or an array of objects.
func readMessages(w http.ResponseWriter, r *http.Request, limit int64) ([]messageJSON, error) {
	data, err := readBody(w, r, limit)
	if err != nil {
		return nil, err
	}
	var in []messageJSON
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		if err := decodeBytes(data, &in); err != nil {
			return nil, err
		}
	} else {
		var one messageJSON
		if err := decodeBytes(data, &one); err != nil {
			return nil, err
		}
		in = []messageJSON{one}
	}
	switch {
	case len(in) == 0:
		return nil, errorf(http.StatusBadRequest, CodeInvalidArgument, "the array holds no message")
	case len(in) > MaxMessagesPerRequest:
		return nil, errorf(http.StatusRequestEntityTooLarge, CodeTooManyMessages, "%d messages in one request; the limit is %d", len(in), MaxMessagesPerRequest)
	}
	return in, nil
}

// toDevice validates what the broker does not check and builds the message;
// i numbers it in errors, as the broker does.
func (m messageJSON) toDevice(i int) (broker.DeviceMessage, error) {
	d := broker.DeviceMessage{ProductKey: m.ProductKey, DeviceName: m.DeviceName, Topic: m.Topic, Kind: m.Kind}
	switch {
	case m.Payload != nil && m.PayloadBase64 != nil:
		return d, errorf(http.StatusBadRequest, CodeInvalidMessage, "message %d: give payload (text) or payloadBase64 (binary), not both", i)
	case m.Payload != nil:
		d.Payload = []byte(*m.Payload)
	case m.PayloadBase64 != nil:
		p, err := base64.StdEncoding.DecodeString(*m.PayloadBase64)
		if err != nil {
			return d, errorf(http.StatusBadRequest, CodeInvalidMessage, "message %d: payloadBase64 is not valid base64 (RFC 4648, standard alphabet, padded): %v", i, err)
		}
		d.Payload = p
	}
	if m.Kind != "" && !slices.Contains(broker.Kinds, m.Kind) {
		return d, errorf(http.StatusBadRequest, CodeInvalidMessage, "message %d: unknown kind %q (known: %v)", i, m.Kind, broker.Kinds)
	}
	return d, nil
}
