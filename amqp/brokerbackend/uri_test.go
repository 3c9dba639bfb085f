package brokerbackend_test

import (
	"testing"

	goamqp "github.com/Azure/go-amqp"
)

// TestAddressWithURI: python3-uamqp puts the whole URI in the address; the
// scheme and host are dropped, so the link reaches the group or queue named.
func TestAddressWithURI(t *testing.T) {
	e := start(t)
	_, sess := e.session(t)
	ctx := ctxT(t)
	ids := e.publish(t, 1)
	rcv, err := sess.NewReceiver(ctx, "amqps://iot.example.com/DEFAULT_GROUP", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rcv.Receive(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.ApplicationProperties["messageId"] != ids[0] {
		t.Fatalf("got %v, want the device message %s", m.ApplicationProperties, ids[0])
	}
	rcv.AcceptMessage(ctx, m)

	snd, err := sess.NewSender(ctx, "amqp://127.0.0.1:5672/my_queue", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := snd.Send(ctx, goamqp.NewMessage([]byte("via uri")), nil); err != nil {
		t.Fatal(err)
	}
	q, err := sess.NewReceiver(ctx, "AMQPS://other-host:5671/my_queue", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err = q.Receive(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.GetData()) != "via uri" {
		t.Fatalf("got %q from my_queue", m.GetData())
	}
	q.AcceptMessage(ctx, m)
}
