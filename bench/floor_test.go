package bench

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/brokerbackend"
	"github.com/amqpemu/amqpemu/amqp/memqueue"
	"github.com/amqpemu/amqpemu/broker"
)

// BenchmarkClientFloorDrain is the drain scenario with no queue engine at
// all: our AMQP server over the in-memory backend, pre-loaded with b.N
// messages encoded as amqpemu delivers them (256-byte payload), drained by
// the same 8 go-amqp receivers with credit 200 accepting each. It bounds
// what any engine behind the server can reach on this machine, since the
// clients and the server share its cores.
func BenchmarkClientFloorDrain(b *testing.B) {
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	be := memqueue.New()
	preloadMemqueue(b, be, b.N)
	srv := amqp.NewServer(amqp.Config{Backend: be, Logger: zerolog.Nop()})
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ln := &countingListener{Listener: tcp}
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)
	e := &amqpemuEnv{ln: ln, receivers: attachReceivers(b, ctx, ln.Addr().String(), "q")}
	timeDrain(b, e.drain)
	b.ReportMetric(float64(ln.writes.Load())/float64(b.N), "srv-writes/msg")
}

// preloadMemqueue stores n vendor-format messages in queue "q" of be.
func preloadMemqueue(tb testing.TB, be *memqueue.Backend, n int) {
	p, err := be.OpenProducer(context.Background(), amqp.LinkRequest{Address: "q"})
	if err != nil {
		tb.Fatal(err)
	}
	msg := brokerbackend.VendorMessage(broker.DeviceMessage{
		Topic: "/pk1/dev1/user/update", MessageID: "1234567890123456789", GenerateTime: time.Now(),
		Payload: make([]byte, payloadSize),
	})
	done := make(chan amqp.Outcome, 1)
	for range n {
		p.Publish(msg, 0, func(o amqp.Outcome) { done <- o })
		if o := <-done; o.Kind != amqp.Accepted {
			tb.Fatalf("preload: %v", o.Kind)
		}
	}
}
