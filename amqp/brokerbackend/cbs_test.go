package brokerbackend_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"
)

// sasToken signs a shared access signature as Service Bus documents it.
func sasToken(keyName, key, resource string, expiry time.Time) string {
	sr := url.QueryEscape(resource)
	se := strconv.FormatInt(expiry.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(sr + "\n" + se))
	return "SharedAccessSignature sr=" + sr + "&sig=" + url.QueryEscape(base64.StdEncoding.EncodeToString(mac.Sum(nil))) + "&se=" + se + "&skn=" + keyName
}

// TestCBSPutToken drives $cbs with a plain AMQP client: every answer carries
// the request's message-id as correlation-id, an int status-code and a
// status-description saying why.
func TestCBSPutToken(t *testing.T) {
	e := startAzure(t)
	ctx := ctxT(t)
	_, sess := e.session(t)
	snd, err := sess.NewSender(ctx, "$cbs", nil)
	if err != nil {
		t.Fatal(err)
	}
	const replyTo = "cbs-reply-1"
	rcv, err := sess.NewReceiver(ctx, "$cbs", &goamqp.ReceiverOptions{TargetAddress: replyTo})
	if err != nil {
		t.Fatal(err)
	}
	aud := "amqp://" + e.addr + "/orders"
	soon := time.Now().Add(time.Hour)
	for i, tc := range []struct {
		name     string
		op, typ  string
		body     any
		status   int32
		descHave string
	}{
		{"valid", "put-token", "servicebus.windows.net:sastoken", sasToken(azKeyName, azKey, aud, soon), 202, "Accepted"},
		{"bad signature", "put-token", "servicebus.windows.net:sastoken", sasToken(azKeyName, "guess", aud, soon), 401, "does not match"},
		{"unknown key name", "put-token", "servicebus.windows.net:sastoken", sasToken("nobody", azKey, aud, soon), 401, `unknown shared access key name "nobody"`},
		{"expired", "put-token", "servicebus.windows.net:sastoken", sasToken(azKeyName, azKey, aud, time.Now().Add(-time.Minute)), 401, "expired"},
		{"malformed", "put-token", "servicebus.windows.net:sastoken", "let me in", 401, "malformed"},
		{"jwt", "put-token", "jwt", "eyJhbGciOi.x.y", 401, `token type "jwt" is not supported`},
		{"body not a string", "put-token", "servicebus.windows.net:sastoken", int64(7), 400, "the body must be the token"},
		{"other operation", "delete-token", "servicebus.windows.net:sastoken", "x", 501, "only put-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "req-" + strconv.Itoa(i)
			msg := &goamqp.Message{
				Properties:            &goamqp.MessageProperties{MessageID: id, ReplyTo: ptr(replyTo)},
				ApplicationProperties: map[string]any{"operation": tc.op, "type": tc.typ, "name": aud, "expiration": strconv.FormatInt(soon.Unix(), 10)},
				Value:                 tc.body,
			}
			if err := snd.Send(ctx, msg, nil); err != nil {
				t.Fatal(err)
			}
			resp, err := rcv.Receive(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			rcv.AcceptMessage(ctx, resp)
			code, _ := resp.ApplicationProperties["status-code"].(int32)
			desc, _ := resp.ApplicationProperties["status-description"].(string)
			if resp.Properties == nil || resp.Properties.CorrelationID != id {
				t.Fatalf("answer properties %+v, want correlation-id %q", resp.Properties, id)
			}
			if code != tc.status || !strings.Contains(desc, tc.descHave) {
				t.Fatalf("answer %d %q, want %d with %q (application-properties %v)", code, desc, tc.status, tc.descHave, resp.ApplicationProperties)
			}
		})
	}
	// A request nobody could be answered on is rejected, not left hanging.
	for name, replyTo := range map[string]string{"no reply-to": "", "unknown reply-to": "nobody-listens"} {
		t.Run(name, func(t *testing.T) {
			msg := &goamqp.Message{Properties: &goamqp.MessageProperties{MessageID: "x"}, Value: "x",
				ApplicationProperties: map[string]any{"operation": "put-token"}}
			if replyTo != "" {
				msg.Properties.ReplyTo = ptr(replyTo)
			}
			err := snd.Send(ctx, msg, nil)
			var de *goamqp.Error
			if !errors.As(err, &de) {
				t.Fatalf("send: %v, want the delivery rejected", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
