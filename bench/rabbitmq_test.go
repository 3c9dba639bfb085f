package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// rabbitURLEnv names the RabbitMQ broker to measure; bench/rabbitmq.sh start
// runs one on loopback and prints the export line.
const rabbitURLEnv = "AMQPEMU_RABBITMQ_URL"

// rabbitPIDEnv names the pid of that broker's Erlang VM (beam.smp), whose
// CPU time and memory are the server-process figures; bench/rabbitmq.sh
// start prints it too.
const rabbitPIDEnv = "AMQPEMU_RABBITMQ_PID"

// BenchmarkRabbitMQDrain is BenchmarkDrain's scenario on RabbitMQ: b.N
// persistent 256-byte messages in a durable classic queue (published with
// publisher confirms, not timed), drained by 8 connections with one channel
// and one consumer each, Qos prefetch 200, manual ack of each message.
//
// With AMQPEMU_RABBITMQ_PID set it also reports the node's figures, as
// BenchmarkServerProcessDrain does amqpemu's: srv-cpu-µs/msg, the beam.smp
// process's CPU per drained message over the drain alone, and srv-rss-MiB.
func BenchmarkRabbitMQDrain(b *testing.B) {
	url := rabbitURL(b)
	node := rabbitNode(b)
	b.StopTimer()
	e := setupRabbit(b, url, b.N)
	var before float64
	if node != nil {
		before = node.cpuSeconds(b)
	}
	timeDrain(b, e.drain)
	if node != nil {
		node.reportServer(b, before, b.N)
	} else {
		b.Logf("%s is not set: no server-process figures", rabbitPIDEnv)
	}
	e.checkDrained(b)
}

// BenchmarkRabbitMQIdleConnectionMemory is BenchmarkIdleConnectionMemory
// on RabbitMQ: b.N idle AMQP 0-9-1 connections held open, each with one
// channel, Qos prefetch 10 and one consumer (manual ack) on one empty
// queue; srv-KB/conn is how much the node's resident memory (beam.smp)
// grew per connection, 2 s after the last was opened. The connections use
// amqp091-go's default heartbeat (10 s). It needs AMQPEMU_RABBITMQ_PID.
func BenchmarkRabbitMQIdleConnectionMemory(b *testing.B) {
	url := rabbitURL(b)
	node := rabbitNode(b)
	if node == nil {
		b.Skipf("%s is not set (bench/rabbitmq.sh start prints it)", rabbitPIDEnv)
	}
	b.StopTimer()
	admin, queue := rabbitQueue(b, url, "amqpemu-bench-idle-", false)
	time.Sleep(time.Second) // as BenchmarkIdleConnectionMemory: settle before the baseline
	base := node.rssKB(b)
	b.StartTimer()
	rabbitIdle(b, url, queue, b.N)
	b.StopTimer()
	time.Sleep(2 * time.Second) // the node's buffers and GC settle while the connections idle
	b.ReportMetric((node.rssKB(b)-base)/float64(b.N), "srv-KB/conn")
	b.ReportMetric(node.rssKB(b)/1024, "srv-rss-MiB")
	checkConsumers(b, admin, queue, b.N)
}

func rabbitURL(tb testing.TB) string {
	url := os.Getenv(rabbitURLEnv)
	if url == "" {
		tb.Skipf("%s is not set (bench/rabbitmq.sh start prints it)", rabbitURLEnv)
	}
	return url
}

// rabbitNode is the RabbitMQ node's beam.smp process, named by
// rabbitPIDEnv, or nil when that is unset (a broker on another machine).
func rabbitNode(tb testing.TB) *proc {
	tb.Helper()
	v := os.Getenv(rabbitPIDEnv)
	if v == "" {
		return nil
	}
	pid, err := strconv.Atoi(v)
	if err != nil {
		tb.Fatalf("%s=%q: %v", rabbitPIDEnv, v, err)
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != "beam.smp" {
		tb.Fatalf("%s=%d is not a running beam.smp (%q, %v)", rabbitPIDEnv, pid, comm, err)
	}
	return &proc{pid: pid}
}

// rabbitDial opens a connection to url, closed at the end of the test.
func rabbitDial(tb testing.TB, url string) *amqp091.Connection {
	tb.Helper()
	conn, err := amqp091.Dial(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// rabbitQueue declares a fresh classic queue named prefix plus a random
// suffix (durable or not) on a connection of its own, and deletes it at the
// end of the test. It returns that connection's channel, for checks.
func rabbitQueue(tb testing.TB, url, prefix string, durable bool) (*amqp091.Channel, string) {
	tb.Helper()
	admin, err := rabbitDial(tb, url).Channel()
	if err != nil {
		tb.Fatal(err)
	}
	var suffix [6]byte
	rand.Read(suffix[:])
	queue := prefix + hex.EncodeToString(suffix[:])
	if _, err := admin.QueueDeclare(queue, durable, false, false, false,
		amqp091.Table{"x-queue-type": "classic"}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		// Registered after the connection's Close, so it runs before it, and
		// before the Close of every connection opened after it.
		if _, err := admin.QueueDelete(queue, false, false, false); err != nil {
			tb.Errorf("deleting queue %s: %v", queue, err)
		}
	})
	return admin, queue
}

// rabbitIdle opens n connections to url, each with one channel, Qos
// prefetch 10 and one consumer on queue, and leaves them idle; they are
// closed at the end of the test (16 at a time: each close is a round trip).
func rabbitIdle(tb testing.TB, url, queue string, n int) {
	tb.Helper()
	conns := make([]*amqp091.Connection, 0, n)
	tb.Cleanup(func() {
		work := make(chan *amqp091.Connection)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for c := range work {
					c.Close()
				}
			})
		}
		for _, c := range conns {
			work <- c
		}
		close(work)
		wg.Wait()
	})
	for range n {
		conn, err := amqp091.Dial(url)
		if err != nil {
			tb.Fatalf("connection %d: %v", len(conns)+1, err)
		}
		conns = append(conns, conn)
		ch, err := conn.Channel()
		if err != nil {
			tb.Fatal(err)
		}
		if err := ch.Qos(10, 0, false); err != nil {
			tb.Fatal(err)
		}
		if _, err := ch.Consume(queue, "", false, false, false, false, nil); err != nil {
			tb.Fatal(err)
		}
	}
}

// checkConsumers confirms that queue has n consumers.
func checkConsumers(tb testing.TB, admin *amqp091.Channel, queue string, n int) {
	tb.Helper()
	q, err := admin.QueueDeclarePassive(queue, false, false, false, false, amqp091.Table{"x-queue-type": "classic"})
	if err != nil {
		tb.Fatal(err)
	}
	if q.Consumers != n {
		tb.Fatalf("queue %s has %d consumers, want %d", queue, q.Consumers, n)
	}
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
	e := &rabbitEnv{}
	e.admin, e.queue = rabbitQueue(tb, url, "amqpemu-bench-drain-", true)
	rabbitPreload(tb, rabbitDial(tb, url), e.queue, n)
	for range consumers {
		ch, err := rabbitDial(tb, url).Channel()
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
