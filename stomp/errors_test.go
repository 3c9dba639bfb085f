package stomp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/stomp/frame"
)

// TestErrorTexts covers the one place broker, reader and timeout errors
// become ERROR frames.
func TestErrorTexts(t *testing.T) {
	tooMany := fmt.Errorf("%w: 64 online clients is the limit of a consumer group", broker.ErrTooManyMembers)
	tests := []struct {
		name        string
		err         *protoError
		want        string
		clientFault bool
	}{
		{"too many members", brokerError("join", "G1", tooMany), "resource limit exceeded in consumer group G1: consumer group has the maximum number of online clients: 64 online clients is the limit", true},
		{"group not found", brokerError("join", "G2", fmt.Errorf("%w: %q", broker.ErrGroupNotFound, "G2")), `consumer group "G2" does not exist`, true},
		{"broker closed", brokerError("join", "G", broker.ErrClosed), "server shutting down", false},
		{"join cancelled", brokerError("join", "G", context.Canceled), "server shutting down", false},
		{"invalid name", brokerError("join", "G", fmt.Errorf("%w: client id %q", broker.ErrInvalidName, "a b")), `invalid identifier: client id "a b" (check the clientId and consumerGroupId of the user name; consumer group G)`, true},
		{"message too large", brokerError("join", "G", fmt.Errorf("%w: 300000 bytes exceed the limit of 262144", broker.ErrMessageTooLarge)), "message too large: 300000 bytes exceed the limit of 262144", true},
		{"engine unavailable", brokerError("join", "G", fmt.Errorf("%w: no JetStream", broker.ErrUnavailable)), "consumer group G is unavailable, try again later: engine unavailable: no JetStream", false},
		{"other join failure", brokerError("join", "G", errors.New("nats: timeout")), "cannot join consumer group G: nats: timeout", false},
		{"auth", authError(errors.New("signature does not match")), "authentication failed: signature does not match", true},
		{"malformed frame", frameError(fmt.Errorf("%w: header line %q has no colon", frame.ErrMalformed, "x")), `malformed frame: header line "x" has no colon`, true},
		{"body too large", frameError(&frame.BodyTooLargeError{Command: "SEND", Size: 300000, Limit: 262144}), "message too large: SEND body of 300000 bytes exceeds the message size limit of 262144 bytes", true},
		{"body without content-length too large", frameError(fmt.Errorf("reading: %w", &frame.BodyTooLargeError{Command: "SEND", Size: 266240, AtLeast: true, Limit: 262144})), "message too large: SEND body of at least 266240 bytes exceeds the message size limit of 262144 bytes", true},
		{"frame too large", frameError(fmt.Errorf("%w: body exceeds 10 bytes", frame.ErrTooLarge)), "frame too large: body exceeds 10 bytes", true},
		{"no CONNECT", timeoutError(causeHandshake, 15*time.Second, false, 0), "no CONNECT frame within 15s", true},
		{"no SUBSCRIBE", timeoutError(causeHandshake, 15*time.Second, true, 0), "no SUBSCRIBE to /topic/# within 15s", true},
		{"no heart-beat", timeoutError(causeIdle, 15*time.Second, true, 20*time.Second), "no heart-beat or frame from the client for 20s (heart-beats were agreed every 10s)", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(tt.err.message, tt.want) {
				t.Errorf("message %q, want %q", tt.err.message, tt.want)
			}
			if tt.err.clientFault != tt.clientFault {
				t.Errorf("clientFault %v, want %v", tt.err.clientFault, tt.clientFault)
			}
			f, err := frame.NewReader(strings.NewReader(string(errorFrame(tt.err, false))), frame.Limits{MaxHeader: 4096, MaxFrame: 8192}).ReadFrame()
			if err != nil || f.Command != frame.Error || f.Value(frame.HdrMessage) != tt.err.message || string(f.Body) != tt.err.message {
				t.Errorf("ERROR frame %+v, %v", f, err)
			}
		})
	}
	if e := frameError(io.EOF); e != nil {
		t.Errorf("EOF explained as %q: nobody is there to tell", e.message)
	}
}

// TestEverySentinelMapped keeps brokerErrors complete: each broker error a
// STOMP connection can meet has its own text, not the catch-all.
func TestEverySentinelMapped(t *testing.T) {
	for _, err := range []error{
		broker.ErrTooManyMembers, broker.ErrGroupNotFound, broker.ErrInvalidName, broker.ErrMessageTooLarge,
		broker.ErrUnavailable, broker.ErrClosed, context.Canceled,
	} {
		if e := brokerError("join", "G", fmt.Errorf("wrapped: %w", err)); strings.HasPrefix(e.message, "cannot join") {
			t.Errorf("%v is not mapped: %q", err, e.message)
		}
	}
}

func TestNegotiateBeats(t *testing.T) {
	floor, want := 100*time.Millisecond, 10*time.Second
	tests := []struct {
		header       string
		send, expect time.Duration
	}{
		{"", 0, 0},
		{"0,0", 0, 0},
		{"0,300", 300 * time.Millisecond, 0}, // the Python 3 sample
		{"0,10000", 10 * time.Second, 0},     // the PHP sample
		{"0,20", 100 * time.Millisecond, 0},  // the floor
		{"1000,0", 0, 10 * time.Second},      // the client beats as often as we want
		{"30000, 5000", 5 * time.Second, 30 * time.Second},
		{"99999999999,0", 0, maxBeatMillis * time.Millisecond},
	}
	for _, tt := range tests {
		cx, cy, err := parseHeartBeat(tt.header)
		if err != nil {
			t.Fatalf("%q: %v", tt.header, err)
		}
		if send, expect := negotiateBeats(cx, cy, floor, want); send != tt.send || expect != tt.expect {
			t.Errorf("%q: send %v expect %v, want %v %v", tt.header, send, expect, tt.send, tt.expect)
		}
	}
	for _, bad := range []string{"1", "a,b", "-1,0", "0,-5", "1,2,3"} {
		if _, _, err := parseHeartBeat(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if got := advertisedBeats(floor, want); got != "100,10000" {
		t.Errorf("advertised %q", got)
	}
}

// A generic queue's delivery (Raw set) is not expected on a group; if one
// comes, its bytes are the body.
func TestRawDeliveryBody(t *testing.T) {
	for _, b64 := range []bool{false, true} {
		sub := &subscription{id: "s", base64: b64}
		raw := []byte("raw\x00bytes")
		enc := appendMessage(nil, sub, broker.Delivery{Token: 42, Raw: raw}, 0)
		f, err := frame.NewReader(strings.NewReader(string(enc)), frame.Limits{MaxHeader: 4096, MaxFrame: 8192}).ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		want := string(raw)
		if b64 {
			want = "cmF3AGJ5dGVz"
		}
		if string(f.Body) != want || f.Value("message-id") != "42" || f.Value("destination") != topicAll {
			t.Errorf("base64 %v: %q %q", b64, f.Headers, f.Body)
		}
	}
}

// Encoding a MESSAGE allocates nothing once the buffer has grown.
func TestAppendMessageAllocs(t *testing.T) {
	sub := &subscription{id: "1"}
	d := broker.Delivery{Token: 7, Message: broker.DeviceMessage{MessageID: "1234567890123456789", Topic: "/pk/dn/user/update",
		Payload: []byte(`{"temp":21}`), GenerateTime: time.UnixMilli(1763900000123)}}
	buf := appendMessage(nil, sub, d, 9)
	if n := testing.AllocsPerRun(100, func() { buf = appendMessage(buf[:0], sub, d, 9) }); n != 0 {
		t.Errorf("%v allocations per MESSAGE", n)
	}
}

func BenchmarkAppendMessage(b *testing.B) {
	sub := &subscription{id: "1"}
	d := broker.Delivery{Token: 7, Message: broker.DeviceMessage{MessageID: "1234567890123456789", Topic: "/pk/dn/user/update",
		Payload: make([]byte, 256), GenerateTime: time.UnixMilli(1763900000123)}}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendMessage(buf[:0], sub, d, 9)
	}
}
