package brokerbackend_test

import (
	"context"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"
)

// TestDrainThroughTheBroker: a drain is answered by the broker (it owns the
// member's credit): once what the group holds is delivered, the rest of the
// credit is used up and the drain's flow comes back; nothing is delivered
// after it until new credit comes. (go-amqp cannot grant credit and drain
// in one flow; the broker's tests cover a drain of a backlog not yet
// fetched.)
func TestDrainThroughTheBroker(t *testing.T) {
	e := start(t)
	e.publish(t, 3)
	_, sess := e.session(t)
	ctx := ctxT(t)
	rcv, err := sess.NewReceiver(ctx, "DEFAULT_GROUP", &goamqp.ReceiverOptions{Credit: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.IssueCredit(5); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		m, err := rcv.Receive(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := rcv.AcceptMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := rcv.DrainCredit(ctx, nil); err != nil { // 2 credits left, nothing to send
		t.Fatalf("drain: %v", err)
	}
	e.publish(t, 1)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if m, err := rcv.Receive(short, nil); err == nil {
		t.Fatalf("received %q after the drain used up the credit", m.GetData())
	}
	if err := rcv.IssueCredit(1); err != nil {
		t.Fatal(err)
	}
	m, err := rcv.Receive(ctx, nil)
	if err != nil {
		t.Fatalf("after new credit: %v", err)
	}
	if err := rcv.AcceptMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
}
