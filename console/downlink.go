package console

import (
	"encoding/base64"
	"mime"
	"net/http"
	"time"
	"unicode/utf8"

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
