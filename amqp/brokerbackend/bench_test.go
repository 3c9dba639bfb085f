package brokerbackend_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"

	"github.com/amqpemu/amqpemu/broker"
)

// BenchmarkDrain pre-loads b.N 256-byte device messages into DEFAULT_GROUP
// and drains them with 8 go-amqp receivers (credit 200), accepting each.
func BenchmarkDrain(b *testing.B) {
	e := startB(b)
	payload := make([]byte, 256)
	const batch = 1000
	for i := 0; i < b.N; i += batch {
		msgs := make([]broker.DeviceMessage, min(batch, b.N-i))
		for j := range msgs {
			msgs[j] = broker.DeviceMessage{ProductKey: "pk1", DeviceName: "dev1", Payload: payload}
		}
		if _, err := e.b.Publish(ctxB(b), msgs...); err != nil {
			b.Fatal(err)
		}
	}
	var got atomic.Int64
	var wg sync.WaitGroup
	ctx, stop := context.WithCancel(ctxB(b))
	defer stop()
	var receivers []*goamqp.Receiver
	for range 8 {
		conn, err := goamqp.Dial(ctx, "amqp://"+e.addr, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		sess, _ := conn.NewSession(ctx, nil)
		rcv, err := sess.NewReceiver(ctx, "", &goamqp.ReceiverOptions{Credit: 200})
		if err != nil {
			b.Fatal(err)
		}
		receivers = append(receivers, rcv)
	}
	b.ResetTimer()
	start := time.Now()
	for _, rcv := range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := rcv.Receive(ctx, nil)
				if err != nil {
					return // drained (stop was called) or the deadline passed
				}
				rcv.AcceptMessage(ctx, m)
				if got.Add(1) == int64(b.N) {
					stop()
				}
			}
		}()
	}
	wg.Wait() // each receiver stops once b.N are in, or at the deadline
	if n := got.Load(); n < int64(b.N) {
		b.Fatalf("drained %d of %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
