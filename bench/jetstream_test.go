// Package bench holds cross-engine benchmarks for BENCHMARKS.md: the drain
// scenario (messages pre-loaded into one group, 8 consumers, prefetch 200,
// an explicit ack for each message) measured on amqpemu, on the plain
// embedded JetStream it runs on (the engine's ceiling) and on RabbitMQ.
//
// Only the drain is timed; the pre-load runs with the timer stopped.
package bench

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The drain scenario's parameters, shared by every engine.
const (
	payloadSize = 256
	consumers   = 8
	prefetch    = 200
)

// Like the broker: a fetch is capped at maxFetch and bounded by fetchWait.
const (
	maxFetch  = 256
	fetchWait = time.Second
)

const (
	jsStream  = "AMQPEMU"
	jsSubject = "dev.data.pk1.dev1"
	jsDurable = "g_DEFAULT_GROUP"
)

// BenchmarkJetStreamDrain is the engine's ceiling for BenchmarkDrain in
// amqp/brokerbackend: b.N 256-byte messages in the broker's stream layout
// (file storage, Limits retention) drained from one durable pull consumer
// with AckExplicit, each message acked with a fire-and-forget Ack.
//
//   - fetch-8conns: 8 goroutines, each with its own in-process connection,
//     loop Fetch(200) on the shared durable and ack what they get.
//   - fanout-1conn: as the broker does it (one dispatcher per group): one
//     goroutine on one connection loops Fetch(256) and hands the messages
//     round-robin to 8 workers (channels of 200, standing in for credit),
//     which ack them over the dispatcher's connection.
//   - fanout-1conn-brokermsg: fanout-1conn with messages shaped like the
//     broker's (its five Amqpemu-* headers and Nats-Msg-Id), each worker
//     reading the ack metadata and the headers as broker.deliver does.
func BenchmarkJetStreamDrain(b *testing.B) {
	b.Run("fetch-8conns", func(b *testing.B) { jsDrain(b, false, drainFetchN) })
	b.Run("fanout-1conn", func(b *testing.B) { jsDrain(b, false, drainFanout) })
	b.Run("fanout-1conn-brokermsg", func(b *testing.B) { jsDrain(b, true, drainFanout) })
}

// drainFunc consumes n messages from the durable and acks each. It returns
// once every message is acked and the acks are flushed to the server.
type drainFunc func(tb testing.TB, s *server.Server, n int, brokerShaped bool) error

func jsDrain(b *testing.B, brokerShaped bool, drain drainFunc) {
	b.StopTimer()
	e := setupJetStream(b, b.N, brokerShaped)
	timeDrain(b, func(n int) error { return drain(b, e.s, n, brokerShaped) })
	// Not timed: every message was delivered once and its ack arrived.
	checkDrained(b, e.str, uint64(b.N))
}

type jsEnv struct {
	s   *server.Server
	str jetstream.Stream
}

// setupJetStream starts an embedded server with the broker's stream and
// group consumer and stores n messages in it.
func setupJetStream(tb testing.TB, n int, brokerShaped bool) *jsEnv {
	tb.Helper()
	s := startJetStream(tb)
	str := setupStream(tb, inProcess(tb, s), n, brokerShaped)
	return &jsEnv{s: s, str: str}
}

// setupStream creates the broker's stream and group consumer over nc and
// stores n messages in it.
func setupStream(tb testing.TB, nc *nats.Conn, n int, brokerShaped bool) jetstream.Stream {
	tb.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The broker's stream and consumer configuration (broker.setup and
	// broker.ensureConsumer).
	str, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       jsStream,
		Subjects:   []string{"dev.>", "queue.>"},
		Retention:  jetstream.LimitsPolicy,
		Storage:    jetstream.FileStorage,
		Discard:    jetstream.DiscardOld,
		MaxAge:     24 * time.Hour,
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := str.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:        jsDurable,
		FilterSubjects: []string{"dev.data.pk1.*"},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        30 * time.Second,
		MaxDeliver:     -1,
		MaxAckPending:  10000,
		MaxWaiting:     512,
	}); err != nil {
		tb.Fatal(err)
	}
	preload(tb, js, n, brokerShaped)
	return str
}

// startJetStream runs an embedded server configured as broker.connect does.
func startJetStream(b testing.TB) *server.Server {
	b.Helper()
	s, err := server.NewServer(&server.Options{
		ServerName:             "bench",
		DontListen:             true,
		JetStream:              true,
		StoreDir:               b.TempDir(),
		NoSigs:                 true,
		DisableJetStreamBanner: true,
		JetStreamLimits:        server.JSLimitOpts{DefaultMaxConsumers: -1},
	})
	if err != nil {
		b.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10*time.Second) || !s.JetStreamEnabled() {
		b.Fatal("embedded JetStream did not start")
	}
	b.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// inProcess opens an in-process connection, closed at the end of the benchmark.
func inProcess(b testing.TB, s *server.Server) *nats.Conn {
	b.Helper()
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	return nc
}

// preload stores n messages with PublishAsync and waits for every PubAck.
func preload(b testing.TB, js jetstream.JetStream, n int, brokerShaped bool) {
	b.Helper()
	payload := make([]byte, payloadSize)
	gt := strconv.FormatInt(time.Now().UnixMilli(), 10)
	for i := range n {
		msg := nats.NewMsg(jsSubject)
		msg.Data = payload
		var opts []jetstream.PublishOpt
		if brokerShaped {
			// broker.toNATS and the Nats-Msg-Id of broker.Publish.
			msg.Header.Set("Amqpemu-Topic", "/pk1/dev1/user/update")
			msg.Header.Set("Amqpemu-Product", "pk1")
			msg.Header.Set("Amqpemu-Device", "dev1")
			msg.Header.Set("Amqpemu-Kind", "data")
			msg.Header.Set("Amqpemu-Generate-Time", gt)
			opts = append(opts, jetstream.WithMsgID(strconv.FormatUint(1e18+uint64(i), 10)))
		}
		if _, err := js.PublishMsgAsync(msg, opts...); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(2 * time.Minute):
		b.Fatalf("pre-load: %d publishes still pending", js.PublishAsyncPending())
	}
}

// drainFetchN: 8 connections, each looping Fetch(prefetch) on the durable.
func drainFetchN(b testing.TB, s *server.Server, n int, _ bool) error {
	return fetchDrain(n, func() *nats.Conn { return inProcess(b, s) })
}

// fetchDrain drains n messages over 8 connections from connect, each
// looping Fetch(prefetch) on the durable and acking what it gets.
func fetchDrain(n int, connect func() *nats.Conn) error {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var got atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	conns := make([]*nats.Conn, consumers)
	cons := make([]jetstream.Consumer, consumers)
	for i := range consumers {
		conns[i] = connect()
		js, err := jetstream.New(conns[i])
		if err != nil {
			return err
		}
		if cons[i], err = js.Consumer(ctx, jsStream, jsDurable); err != nil {
			return err
		}
	}
	for i := range consumers {
		wg.Go(func() {
			for ctx.Err() == nil {
				fctx, cancel := context.WithTimeout(ctx, fetchWait)
				batch, err := cons[i].Fetch(prefetch, jetstream.FetchContext(fctx))
				if err == nil {
					for msg := range batch.Messages() {
						msg.Ack()
						if got.Add(1) == int64(n) {
							stop()
						}
					}
					err = batch.Error()
				}
				cancel()
				if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
					fail(errs, err)
					stop()
					return
				}
			}
		})
	}
	wg.Wait()
	for _, nc := range conns {
		if err := nc.Flush(); err != nil { // the acks reached the server
			return err
		}
	}
	return drainResult(errs, got.Load(), n)
}

// drainFanout: one dispatcher fetching for 8 workers, as broker.group.run does.
func drainFanout(b testing.TB, s *server.Server, n int, brokerShaped bool) error {
	nc := inProcess(b, s)
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	cons, err := js.Consumer(ctx, jsStream, jsDurable)
	if err != nil {
		return err
	}
	var got atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	work := make([]chan jetstream.Msg, consumers)
	for i := range work {
		work[i] = make(chan jetstream.Msg, prefetch)
		wg.Go(func() {
			for msg := range work[i] {
				if brokerShaped {
					// What broker.deliver and broker.fromNATS read.
					meta, err := msg.Metadata()
					if err != nil {
						fail(errs, err)
						stop()
						return
					}
					_ = meta.NumDelivered > 1 || time.Since(meta.Timestamp) > time.Minute
					h := msg.Headers()
					_, _ = strconv.ParseInt(h.Get("Amqpemu-Generate-Time"), 10, 64)
					_ = h.Get("Amqpemu-Product") + h.Get("Amqpemu-Device") + h.Get("Amqpemu-Kind") + h.Get("Amqpemu-Topic") + h.Get(jetstream.MsgIDHeader)
				}
				msg.Ack()
				if got.Add(1) == int64(n) {
					stop()
				}
			}
		})
	}
	next := 0
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, fetchWait)
		batch, err := cons.Fetch(maxFetch, jetstream.FetchContext(fctx))
		if err == nil {
			for msg := range batch.Messages() {
				select {
				case work[next] <- msg:
				case <-ctx.Done():
				}
				next = (next + 1) % consumers
			}
			err = batch.Error()
		}
		cancel()
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			fail(errs, err)
			break
		}
	}
	for _, w := range work {
		close(w)
	}
	wg.Wait()
	if err := nc.Flush(); err != nil {
		return err
	}
	return drainResult(errs, got.Load(), n)
}

// fail keeps the first error.
func fail(errs chan error, err error) {
	select {
	case errs <- err:
	default:
	}
}

func drainResult(errs chan error, got int64, n int) error {
	select {
	case err := <-errs:
		return err
	default:
	}
	if got != int64(n) {
		return errors.New("drained " + strconv.FormatInt(got, 10) + " of " + strconv.Itoa(n))
	}
	return nil
}

// checkDrained waits for the consumer to show every message delivered and
// acknowledged, none redelivered.
func checkDrained(b testing.TB, str jetstream.Stream, n uint64) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		info, err := str.Consumer(ctx, jsDurable)
		var ci *jetstream.ConsumerInfo
		if err == nil {
			ci, err = info.Info(ctx)
		}
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if ci.NumPending == 0 && ci.NumAckPending == 0 && ci.AckFloor.Stream == n {
			if ci.NumRedelivered != 0 {
				b.Fatalf("%d messages were redelivered", ci.NumRedelivered)
			}
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("consumer not drained: pending %d, ack pending %d, ack floor %d of %d",
				ci.NumPending, ci.NumAckPending, ci.AckFloor.Stream, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
