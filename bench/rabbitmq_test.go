package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// rabbitURLEnv names the RabbitMQ broker to measure; bench/rabbitmq.sh start
// runs one on loopback and prints the export line.
const rabbitURLEnv = "AMQPEMU_RABBITMQ_URL"

// BenchmarkRabbitMQDrain is BenchmarkDrain's scenario on RabbitMQ: b.N
// persistent 256-byte messages in a durable classic queue (published with
// publisher confirms, not timed), drained by 8 connections with one channel
// and one consumer each, Qos prefetch 200, manual ack of each message.
func BenchmarkRabbitMQDrain(b *testing.B) {
	url := rabbitURL(b)
	b.StopTimer()
	e := setupRabbit(b, url, b.N)
	timeDrain(b, e.drain)
	e.checkDrained(b)
}

func rabbitURL(tb testing.TB) string {
	url := os.Getenv(rabbitURLEnv)
	if url == "" {
		tb.Skipf("%s is not set (bench/rabbitmq.sh start prints it)", rabbitURLEnv)
	}
	return url
}

type rabbitEnv struct {
	queue string
	admin *amqp091.Channel
	chans []*amqp091.Channel
}

// setupRabbit declares a fresh queue holding n messages and opens the 8
// consumer connections (with their Qos) without consuming yet. The queue is
// deleted at the end.
func setupRabbit(tb testing.TB, url string, n int) *rabbitEnv {
	tb.Helper()
	dial := func() *amqp091.Connection {
		conn, err := amqp091.Dial(url)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { conn.Close() })
		return conn
	}
	var suffix [6]byte
	rand.Read(suffix[:])
	e := &rabbitEnv{queue: "amqpemu-bench-drain-" + hex.EncodeToString(suffix[:])}
	admin, err := dial().Channel()
	if err != nil {
		tb.Fatal(err)
	}
	e.admin = admin
	if _, err := admin.QueueDeclare(e.queue, true, false, false, false,
		amqp091.Table{"x-queue-type": "classic"}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		// Registered after the connections' Close, so it runs before them.
		if _, err := admin.QueueDelete(e.queue, false, false, false); err != nil {
			tb.Errorf("deleting queue %s: %v", e.queue, err)
		}
	})
	rabbitPreload(tb, dial(), e.queue, n)
	for range consumers {
		ch, err := dial().Channel()
		if err != nil {
			tb.Fatal(err)
		}
		if err := ch.Qos(prefetch, 0, false); err != nil {
			tb.Fatal(err)
		}
		e.chans = append(e.chans, ch)
	}
	return e
}

// rabbitPreload publishes n persistent messages with publisher confirms,
// keeping up to window of them unconfirmed.
func rabbitPreload(tb testing.TB, conn *amqp091.Connection, queue string, n int) {
	tb.Helper()
	const window = 2000
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatal(err)
	}
	defer ch.Close()
	if err := ch.Confirm(false); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	payload := make([]byte, payloadSize)
	inflight := make([]*amqp091.DeferredConfirmation, 0, window)
	wait := func() {
		for _, dc := range inflight {
			ok, err := dc.WaitContext(ctx)
			if err != nil {
				tb.Fatal(err)
			}
			if !ok {
				tb.Fatal("RabbitMQ nacked a pre-load publish")
			}
		}
		inflight = inflight[:0]
	}
	for range n {
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, false, false, amqp091.Publishing{
			DeliveryMode: amqp091.Persistent,
			ContentType:  "application/octet-stream",
			Body:         payload,
		})
		if err != nil {
			tb.Fatal(err)
		}
		if inflight = append(inflight, dc); len(inflight) == window {
			wait()
		}
	}
	wait()
}

// drain consumes n messages on the 8 channels, acking each, and returns
// once the broker has processed every ack (each consumer's Cancel is a
// round trip behind its acks).
func (e *rabbitEnv) drain(n int) error {
	var got atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for i, ch := range e.chans {
		tag := fmt.Sprintf("bench-%d", i)
		deliveries, err := ch.Consume(e.queue, tag, false, false, false, false, nil)
		if err != nil {
			return err
		}
		wg.Go(func() {
			for {
				select {
				case d, ok := <-deliveries:
					if !ok {
						fail(errs, errors.New("delivery channel closed"))
						once.Do(func() { close(done) })
						return
					}
					if err := d.Ack(false); err != nil {
						fail(errs, err)
						once.Do(func() { close(done) })
						return
					}
					if got.Add(1) == int64(n) {
						once.Do(func() { close(done) })
					}
				case <-done:
					if err := ch.Cancel(tag, false); err != nil {
						fail(errs, err)
					}
					return
				}
			}
		})
	}
	wg.Wait()
	return drainResult(errs, got.Load(), n)
}

// checkDrained confirms that the queue is empty: every message was acked.
func (e *rabbitEnv) checkDrained(tb testing.TB) {
	tb.Helper()
	q, err := e.admin.QueueDeclarePassive(e.queue, true, false, false, false, amqp091.Table{"x-queue-type": "classic"})
	if err != nil {
		tb.Fatal(err)
	}
	if q.Messages != 0 {
		tb.Fatalf("queue %s still holds %d messages", e.queue, q.Messages)
	}
}
