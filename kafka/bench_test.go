package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/amqpemu/amqpemu/broker"
)

// BenchmarkGroupConsume: a franz-go group member reads b.N device
// messages of 50 devices spread over the default 4 partitions.
func BenchmarkGroupConsume(b *testing.B) {
	e := startB(b)
	var msgs []broker.DeviceMessage
	for i := range b.N {
		msgs = append(msgs, broker.DeviceMessage{ProductKey: "pkBench", DeviceName: fmt.Sprintf("d%d", i%50), Payload: make([]byte, 100)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := e.b.Publish(ctx, msgs...); err != nil {
		b.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumerGroup("bench"), kgo.ConsumeTopics("pkBench"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	b.ResetTimer()
	got := 0
	for got < b.N && ctx.Err() == nil {
		got += len(cl.PollFetches(ctx).Records())
	}
	b.ReportMetric(float64(got)/b.Elapsed().Seconds(), "records/s")
}
