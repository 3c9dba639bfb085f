package amqp_test

import (
	"bytes"
	"fmt"
	"testing"

	goamqp "github.com/Azure/go-amqp"
)

func TestGoAMQPRoundTrip(t *testing.T) {
	ts := startServer(t)
	_, sess := dial(t, ts, nil)
	ctx := ctxT(t)
	snd, err := sess.NewSender(ctx, "q1", nil)
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := sess.NewReceiver(ctx, "q1", &goamqp.ReceiverOptions{Credit: 10})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	for i := range n {
		msg := goamqp.NewMessage([]byte(fmt.Sprintf("msg-%d", i)))
		msg.ApplicationProperties = map[string]any{"seq": int64(i), "topic": "/pk/dn/user/x"}
		if err := snd.Send(ctx, msg, nil); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	for i := range n {
		m, err := rcv.Receive(ctx, nil)
		if err != nil {
			t.Fatalf("receive %d: %v", i, err)
		}
		if !bytes.Equal(m.GetData(), []byte(fmt.Sprintf("msg-%d", i))) || m.ApplicationProperties["seq"] != int64(i) {
			t.Fatalf("message %d: %q %v", i, m.GetData(), m.ApplicationProperties)
		}
		if err := rcv.AcceptMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}
