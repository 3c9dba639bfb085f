package console

import (
	"context"
	"encoding/base64"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/downlink"
)

// isRPC reports whether r is a call of the vendor's RPC OpenAPI: at "/",
// with Action in the query (Signature 1.0), an x-acs-action header (ACS3),
// or a form body, where Action may be too. A browser asking for the web
// console at "/" sends none of them.
func isRPC(r *http.Request) bool {
	if r.URL.Path != "/" {
		return false
	}
	if r.Header.Get("x-acs-action") != "" || r.URL.Query().Has("Action") {
		return true
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && mt == "application/x-www-form-urlencoded"
}

// DownlinkSource tells the messages applications sent to a device (the
// OpenAPI's Pub), oldest first; *downlink.Recorder satisfies it.
type DownlinkSource interface {
	Messages(productKey, deviceName string) []downlink.Message
}

// Sender sends a cloud-to-device message to a connected device and records
// it; the MQTT server satisfies it.
type Sender interface {
	Send(ctx context.Context, productKey, deviceName, topic string, payload []byte, qos int) (messageID string, err error)
}

// postDownlink is POST /api/v1/products/{pk}/devices/{dn}/downlink: what
// the OpenAPI's Pub does, for scripts and tests. The topic defaults to
// /{pk}/{dn}/user/get and must be under the device's own topics.
func (s *Server) postDownlink(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Sender == nil {
		return errorf(http.StatusNotFound, CodeNotFound, "cloud-to-device messages are off in this server (it runs without an MQTT listener)")
	}
	pk, dn := r.PathValue("pk"), r.PathValue("dn")
	if err := broker.ValidateProductKey(pk); err != nil {
		return err
	}
	if err := broker.ValidateDeviceName(dn); err != nil {
		return err
	}
	var in struct {
		Topic         string `json:"topic"`
		Payload       string `json:"payload"`
		PayloadBase64 string `json:"payloadBase64"`
		QoS           int    `json:"qos"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Topic == "" {
		in.Topic = "/" + pk + "/" + dn + "/user/get"
	}
	if own := "/" + pk + "/" + dn + "/"; !strings.HasPrefix(in.Topic, own) && !strings.HasPrefix(in.Topic, "/sys"+own) {
		return errorf(http.StatusBadRequest, CodeInvalidArgument, "topic %q is not the device's: it must start with %s or /sys%s", in.Topic, own, own)
	}
	if in.QoS != 0 && in.QoS != 1 {
		return errorf(http.StatusBadRequest, CodeInvalidArgument, "qos is %d; it must be 0 or 1", in.QoS)
	}
	payload := []byte(in.Payload)
	if in.PayloadBase64 != "" {
		if in.Payload != "" {
			return errorf(http.StatusBadRequest, CodeInvalidArgument, "give payload or payloadBase64, not both")
		}
		var err error
		if payload, err = base64.StdEncoding.DecodeString(in.PayloadBase64); err != nil {
			return errorf(http.StatusBadRequest, CodeInvalidArgument, "payloadBase64 is not Base64: %v", err)
		}
	}
	id, err := s.cfg.Sender.Send(r.Context(), pk, dn, in.Topic, payload, in.QoS)
	if err != nil {
		return errorf(http.StatusBadRequest, CodeInvalidArgument, "%v", err)
	}
	return writeJSON(w, http.StatusAccepted, struct {
		MessageID string `json:"messageId"`
	}{id})
}

// downlinkJSON is one message sent to a device. Payload is the text, null
// when the payload is not UTF-8; PayloadBase64 always has it.
type downlinkJSON struct {
	MessageID     string    `json:"messageId"`
	Topic         string    `json:"topic"`
	Payload       *string   `json:"payload"`
	PayloadBase64 string    `json:"payloadBase64"`
	QoS           int       `json:"qos"`
	Time          time.Time `json:"time"`
}

// getDownlink answers what was sent to a device, oldest first.
func (s *Server) getDownlink(w http.ResponseWriter, r *http.Request) error {
	var msgs []downlink.Message
	if s.cfg.Downlink != nil {
		msgs = s.cfg.Downlink.Messages(r.PathValue("pk"), r.PathValue("dn"))
	}
	out := make([]downlinkJSON, len(msgs))
	for i, m := range msgs {
		out[i] = downlinkJSON{
			MessageID: m.MessageID, Topic: m.Topic, QoS: m.QoS, Time: m.Time.UTC().Truncate(time.Millisecond),
			PayloadBase64: base64.StdEncoding.EncodeToString(m.Payload),
		}
		if utf8.Valid(m.Payload) {
			text := string(m.Payload)
			out[i].Payload = &text
		}
	}
	return writeJSON(w, http.StatusOK, struct {
		Messages []downlinkJSON `json:"messages"`
	}{out})
}
