package bench

import (
	"context"
	"net"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/brokerbackend"
	"github.com/amqpemu/amqpemu/broker"
)

// cpuProfileEnv names a file for a CPU profile of the drain alone (the
// pre-load and the set-up are left out, unlike go test -cpuprofile). Do not
// combine it with -cpuprofile: only one CPU profile can run at a time.
const cpuProfileEnv = "AMQPEMU_BENCH_DRAIN_CPUPROFILE"

// BenchmarkAmqpemuDrain is amqp/brokerbackend's BenchmarkDrain (b.N
// 256-byte device messages in DEFAULT_GROUP, 8 go-amqp receivers on 8
// connections, credit 200, each message accepted) with the same set-up,
// plus an optional CPU profile of the timed drain only (cpuProfileEnv).
func BenchmarkAmqpemuDrain(b *testing.B) {
	b.StopTimer()
	e := setupAmqpemu(b, b.N)
	if path := os.Getenv(cpuProfileEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile() // runs before f.Close
	}
	timeDrain(b, e.drain)
	// The server's socket calls over the whole benchmark, set-up included
	// (a few dozen frames): how well its writer batches.
	w, wb, r := e.ln.writes.Load(), e.ln.written.Load(), e.ln.reads.Load()
	b.ReportMetric(float64(w)/float64(b.N), "srv-writes/msg")
	b.ReportMetric(float64(wb)/float64(max(w, 1)), "srv-B/write")
	b.ReportMetric(float64(r)/float64(b.N), "srv-reads/msg")
	e.checkDrained(b)
}

// checkDrained waits (untimed) until JetStream has every ack: the group's
// backlog is 0. Closing the clients before that would hand the unacked
// messages back and redeliver them while the members leave.
func (e *amqpemuEnv) checkDrained(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		n, err := e.b.Backlog(ctx, broker.DefaultGroupID)
		cancel()
		if err != nil {
			tb.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("DEFAULT_GROUP still has a backlog of %d", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type amqpemuEnv struct {
	b         *broker.Broker
	ln        *countingListener
	receivers []*goamqp.Receiver
}

// countingListener counts the server's socket writes and reads.
type countingListener struct {
	net.Listener
	writes, written, reads atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.l.writes.Add(1)
	c.l.written.Add(int64(len(p)))
	return c.Conn.Write(p)
}

func (c *countingConn) Read(p []byte) (int, error) {
	c.l.reads.Add(1)
	return c.Conn.Read(p)
}

// CloseWrite keeps the server's half-close (amqp.conn.halfClose) working.
func (c *countingConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.Conn.Close()
}

// setupAmqpemu runs a broker and an AMQP server over it on 127.0.0.1 (as
// the brokerbackend tests do), stores n device messages and attaches the 8
// receivers, whose credit starts the flow only once drain reads.
func setupAmqpemu(tb testing.TB, n int) *amqpemuEnv {
	tb.Helper()
	log := zerolog.New(zerolog.NewTestWriter(tb)).Level(zerolog.WarnLevel)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	tb.Cleanup(cancel)
	brk, err := broker.Open(ctx, broker.Config{DataDir: tb.TempDir(), Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	srv := amqp.NewServer(amqp.Config{Backend: brokerbackend.New(brk), Logger: log})
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ln := &countingListener{Listener: tcp}
	go srv.Serve(ln)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		brk.Close(ctx)
	})
	payload := make([]byte, payloadSize)
	const batch = 1000
	for i := 0; i < n; i += batch {
		msgs := make([]broker.DeviceMessage, min(batch, n-i))
		for j := range msgs {
			msgs[j] = broker.DeviceMessage{ProductKey: "pk1", DeviceName: "dev1", Payload: payload}
		}
		if _, err := brk.Publish(ctx, msgs...); err != nil {
			tb.Fatal(err)
		}
	}
	return &amqpemuEnv{b: brk, ln: ln, receivers: attachReceivers(tb, ctx, ln.Addr().String(), "")}
}

// attachReceivers opens the scenario's 8 go-amqp receivers (one connection
// each, credit 200) on source.
func attachReceivers(tb testing.TB, ctx context.Context, addr, source string) []*goamqp.Receiver {
	tb.Helper()
	var out []*goamqp.Receiver
	for range consumers {
		out = append(out, attachReceiver(tb, ctx, addr, source, prefetch))
	}
	return out
}

// attachReceiver opens a connection to addr with one session and one
// go-amqp receiver on source, with credit; the connection is closed at the
// end of the test.
func attachReceiver(tb testing.TB, ctx context.Context, addr, source string, credit int32) *goamqp.Receiver {
	tb.Helper()
	conn, err := goamqp.Dial(ctx, "amqp://"+addr, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	rcv, err := sess.NewReceiver(ctx, source, &goamqp.ReceiverOptions{Credit: credit})
	if err != nil {
		tb.Fatal(err)
	}
	return rcv
}

// drain receives and accepts n messages on the 8 receivers.
//
// As in BenchmarkDrain, go-amqp grants the credit when a receiver attaches,
// so deliveries start flowing during set-up; they wait in the client's
// buffers (at most 8×200 of them) until drain reads.
func (e *amqpemuEnv) drain(n int) error {
	var got atomic.Int64
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Minute)
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for _, rcv := range e.receivers {
		wg.Go(func() {
			for {
				m, err := rcv.Receive(ctx, nil)
				if err != nil {
					if got.Load() < int64(n) {
						fail(errs, err)
					}
					return
				}
				if err := rcv.AcceptMessage(ctx, m); err != nil {
					fail(errs, err)
					stop()
					return
				}
				if got.Add(1) == int64(n) {
					stop()
				}
			}
		})
	}
	wg.Wait()
	return drainResult(errs, got.Load(), n)
}
