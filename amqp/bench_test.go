package amqp_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// vendorMessage encodes a device message as the vendor delivers it:
// properties with message-id, application-properties topic/messageId/
// generateTime, and one data section with a payload of size bytes.
func vendorMessage(tb testing.TB, i, size int) []byte {
	tb.Helper()
	id := fmt.Sprintf("msg-%08d", i)
	p := frames.Properties{MessageID: id}
	b, err := p.Append(nil)
	if err != nil {
		tb.Fatal(err)
	}
	b, err = frames.AppendMapSection(b, encoding.DescApplicationProperties, encoding.Map{
		{Key: "topic", Value: "/pk/dn/user/update"},
		{Key: "messageId", Value: id},
		{Key: "generateTime", Value: int64(1763900000000 + i)},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return frames.AppendData(b, make([]byte, size))
}

// preload publishes n messages straight into the backend queue.
func preload(tb testing.TB, ts *testServer, addr string, n, size int) {
	tb.Helper()
	prod, err := ts.backend.OpenProducer(context.Background(), amqp.LinkRequest{Address: addr})
	if err != nil {
		tb.Fatal(err)
	}
	msg := vendorMessage(tb, 0, size)
	for range n {
		prod.Publish(msg, 0, func(amqp.Outcome) {})
	}
}

// BenchmarkReceiveAccept measures one go-amqp connection draining a queue of
// 256-byte messages from the in-memory backend, accepting each one.
func BenchmarkReceiveAccept(b *testing.B) {
	for _, credit := range []int32{1, 200} {
		b.Run(fmt.Sprintf("credit-%d", credit), func(b *testing.B) {
			ts := startServer(b)
			preload(b, ts, "bench", b.N, 256)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			conn, err := goamqp.Dial(ctx, "amqp://"+ts.addr, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			sess, _ := conn.NewSession(ctx, nil)
			rcv, err := sess.NewReceiver(ctx, "bench", &goamqp.ReceiverOptions{Credit: credit})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				m, err := rcv.Receive(ctx, nil)
				if err != nil {
					b.Fatalf("receive %d: %v", i, err)
				}
				if err := rcv.AcceptMessage(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// BenchmarkSend measures one go-amqp connection sending 256-byte messages
// unsettled, 64 in flight, each confirmed by the server.
func BenchmarkSend(b *testing.B) {
	ts := startServer(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := goamqp.Dial(ctx, "amqp://"+ts.addr, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	sess, _ := conn.NewSession(ctx, nil)
	snd, err := sess.NewSender(ctx, "bench", nil)
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 256)
	const inflight = 64
	sem := make(chan struct{}, inflight)
	errs := make(chan error, inflight)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			if err := snd.Send(ctx, goamqp.NewMessage(payload), nil); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}()
	}
	for range inflight {
		sem <- struct{}{}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}
