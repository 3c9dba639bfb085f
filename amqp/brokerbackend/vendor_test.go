package brokerbackend_test

import (
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/amqp/brokerbackend"
	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
	"github.com/amqpemu/amqpemu/broker"
)

func TestVendorMessageSections(t *testing.T) {
	m := broker.DeviceMessage{MessageID: "1234567890123456789", Topic: "/pk/dn/user/x", Payload: []byte("hi"),
		GenerateTime: time.UnixMilli(1763900000123)}
	raw := brokerbackend.VendorMessage(m)
	msg, err := frames.ParseMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	props, err := frames.DecodeProperties(msg.Properties)
	if err != nil || props.MessageID != m.MessageID || props.ContentType != "" {
		t.Fatalf("properties %+v %v", props, err)
	}
	ap, err := frames.DecodeAnnotatedMap(msg.ApplicationProperties)
	if err != nil {
		t.Fatal(err)
	}
	want := encoding.Map{{Key: "topic", Value: m.Topic}, {Key: "messageId", Value: m.MessageID}, {Key: "generateTime", Value: int64(1763900000123)}}
	for i, e := range want {
		if ap[i] != e {
			t.Fatalf("application-properties %v, want %v", ap, want)
		}
	}
	if len(msg.Body) != 1 {
		t.Fatalf("%d body sections", len(msg.Body))
	}
	if p, err := frames.DataPayload(msg.Body[0]); err != nil || string(p) != "hi" {
		t.Fatalf("payload %q %v", p, err)
	}
	if n := testing.AllocsPerRun(100, func() { brokerbackend.VendorMessage(m) }); n != 1 {
		t.Errorf("%v allocations per message, want 1 (the output buffer)", n)
	}
}
