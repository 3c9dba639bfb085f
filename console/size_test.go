package console_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/console"
)

// TestMessageSizeLimit: POST /api/v1/messages takes a payload of exactly the
// broker's limit in every encoding (base64; text of control characters,
// which JSON escapes 6 bytes each) and answers one byte more with 413
// MessageTooLarge, not BodyTooLarge. The limit is large enough that such
// bodies exceed the least body limit.
func TestMessageSizeLimit(t *testing.T) {
	const limit = 1000 << 10
	e := newEnvBroker(t, func(c *broker.Config) { c.MaxMessageSize = limit },
		func(c *console.Config) { c.MaxMessageSize = limit })
	msg := func(field, payload string) []byte {
		body, err := json.Marshal(map[string]string{"productKey": "p", "deviceName": "d", field: payload})
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	b64 := func(n int) []byte { return msg("payloadBase64", base64.StdEncoding.EncodeToString(make([]byte, n))) }
	text := func(n int, c string) []byte { return msg("payload", strings.Repeat(c, n)) }
	if n := len(text(limit, "\x00")); n <= console.MaxMessagesBody {
		t.Fatalf("a maximal escaped text body is %d bytes, not beyond the least body limit", n)
	}
	for _, tt := range []struct {
		name string
		body []byte
		code string
	}{
		{"base64 at the limit", b64(limit), ""},
		{"text at the limit", text(limit, "x"), ""},
		{"escaped text at the limit", text(limit, "\x00"), ""},
		{"base64 over the limit", b64(limit + 1), console.CodeMessageTooLarge},
		{"text over the limit", text(limit+1, "x"), console.CodeMessageTooLarge},
		{"escaped text over the limit", text(limit+1, "\x01"), console.CodeMessageTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := *e
			e.t = t
			r := e.do("POST", "/api/v1/messages", tt.body)
			if tt.code != "" {
				e.wantError(r, http.StatusRequestEntityTooLarge, tt.code)
				return
			}
			e.want(r, http.StatusAccepted, nil)
		})
	}
}
