package stomp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/stomp"
	"github.com/amqpemu/amqpemu/stomp/frame"
	"github.com/amqpemu/amqpemu/vendorauth"
	"github.com/rs/zerolog"
)

const (
	testAK     = "LTAItestkey"
	testSecret = "s3cret"
	// waitLong bounds every wait for something that must happen.
	waitLong = 15 * time.Second
)

// env is a broker and a STOMP server on a loopback port.
type env struct {
	b    *broker.Broker
	srv  *stomp.Server
	addr string
	obs  *observer
	acks *settleCounter
}

type option func(*stomp.Config, *broker.Config)

func withConfig(f func(*stomp.Config)) option {
	return func(c *stomp.Config, _ *broker.Config) { f(c) }
}

func withBroker(f func(*broker.Config)) option {
	return func(_ *stomp.Config, bc *broker.Config) { f(bc) }
}

// signedAuth is what the binary wires: signed user names verified, unsigned
// ones admitted into DEFAULT_GROUP.
func signedAuth(allowUnsigned bool) stomp.Authenticator {
	return stomp.SignedAuthenticator(&vendorauth.Verifier{Secret: vendorauth.SingleKey(testAK, testSecret)}, allowUnsigned)
}

// start opens a broker in a temporary directory and serves STOMP on
// 127.0.0.1:0 until the test ends, then checks no goroutine of the
// package is left.
func start(t *testing.T, opts ...option) *env {
	t.Helper()
	e := &env{obs: &observer{}, acks: &settleCounter{}}
	cfg := stomp.Config{Authenticator: signedAuth(true), Logger: testLogger(t), Observer: e.obs}
	bcfg := broker.Config{DataDir: t.TempDir(), Logger: zerolog.Nop(), Observer: e.acks}
	for _, o := range opts {
		o(&cfg, &bcfg)
	}
	b, err := broker.Open(context.Background(), bcfg)
	if err != nil {
		t.Fatal(err)
	}
	e.b = b
	cfg.Broker = b
	e.srv = stomp.NewServer(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLong)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, stomp.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
		b.Close(ctx)
		checkNoGoroutines(t)
	})
	return e
}

func testLogger(t *testing.T) zerolog.Logger {
	if testing.Verbose() {
		return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
	}
	return zerolog.Nop()
}

// checkNoGoroutines fails if a goroutine still runs code of package stomp.
func checkNoGoroutines(t *testing.T) {
	t.Helper()
	var stacks string
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "amqpemu/stomp.") {
			return
		}
		time.Sleep(10 * time.Millisecond) // polling for goroutines to exit
	}
	t.Errorf("goroutines of package stomp left after Shutdown:\n%s", stacks)
}

// publish stores n device messages of product pk and returns their ids.
func (e *env) publish(t *testing.T, pk string, payloads ...[]byte) []string {
	t.Helper()
	msgs := make([]broker.DeviceMessage, len(payloads))
	for i, p := range payloads {
		msgs[i] = broker.DeviceMessage{ProductKey: pk, DeviceName: "dev1", Topic: "/" + pk + "/dev1/user/update", Payload: p}
	}
	ids, err := e.b.Publish(context.Background(), msgs...)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// waitBacklog polls until group id's backlog is want.
func (e *env) waitBacklog(t *testing.T, id string, want int) {
	t.Helper()
	var got int
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		n, err := e.b.Backlog(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got = n; got == want {
			return
		}
		time.Sleep(10 * time.Millisecond) // polling the broker's counters
	}
	t.Fatalf("backlog of %s is %d, want %d", id, got, want)
}

func payloads(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, "%s-%d", prefix, i)
	}
	return out
}

// signedLogin returns a vendor user name and its password.
func signedLogin(t *testing.T, clientID, group, extra string) (string, string) {
	t.Helper()
	user := fmt.Sprintf("%s|authMode=aksign,signMethod=hmacsha1,timestamp=%d,authId=%s,iotInstanceId=,consumerGroupId=%s%s|",
		clientID, time.Now().UnixMilli(), testAK, group, extra)
	id, err := vendorauth.Parse(user)
	if err != nil {
		t.Fatal(err)
	}
	pass, err := vendorauth.Sign(id, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return user, pass
}

// observer counts the server's Observer calls.
type observer struct {
	connected, disconnected, protocolErrors atomic.Int64
}

func (o *observer) Connected()     { o.connected.Add(1) }
func (o *observer) Disconnected()  { o.disconnected.Add(1) }
func (o *observer) ProtocolError() { o.protocolErrors.Add(1) }

// settleCounter is the broker's Observer: it counts settlements by outcome.
type settleCounter struct {
	mu      sync.Mutex
	settled map[broker.Outcome]int
}

func (s *settleCounter) Delivered(string, bool) {}
func (s *settleCounter) Settled(_ string, o broker.Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.settled == nil {
		s.settled = map[broker.Outcome]int{}
	}
	s.settled[o]++
}

func (s *settleCounter) count(o broker.Outcome) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settled[o]
}

// waitSettled polls until n deliveries were settled with o.
func (s *settleCounter) waitSettled(t *testing.T, o broker.Outcome, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for time.Now().Before(deadline) {
		if s.count(o) >= n {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling the counter
	}
	t.Fatalf("%d deliveries settled with outcome %d, want %d", s.count(o), o, n)
}

// client is a raw STOMP client for tests.
type client struct {
	t  *testing.T
	nc net.Conn
	rd *frame.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &client{t: t, nc: nc, rd: frame.NewReader(nc, frame.Limits{MaxHeader: 1 << 20, MaxFrame: 8 << 20})}
}

// raw writes bytes as they are.
func (c *client) raw(s string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send writes a frame; headers are key, value pairs.
func (c *client) send(cmd string, headers ...string) {
	c.t.Helper()
	f := frame.Frame{Command: cmd}
	for i := 0; i+1 < len(headers); i += 2 {
		f.Add(headers[i], headers[i+1])
	}
	c.raw(string(frame.Append(nil, &f)))
}

// read returns the next frame, failing the test on error or after waitLong.
func (c *client) read() *frame.Frame {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(waitLong))
	f, err := c.rd.ReadFrame()
	if err != nil {
		c.t.Fatalf("reading a frame: %v", err)
	}
	return f
}

// expect reads the next frame and checks its command.
func (c *client) expect(cmd string) *frame.Frame {
	c.t.Helper()
	f := c.read()
	if f.Command != cmd {
		c.t.Fatalf("got %s %q %q, want %s", f.Command, f.Headers, f.Body, cmd)
	}
	return f
}

// expectError reads an ERROR frame whose message contains want, then the
// end of the connection.
func (c *client) expectError(want string) *frame.Frame {
	c.t.Helper()
	f := c.expect(frame.Error)
	if msg := f.Value("message"); !strings.Contains(msg, want) {
		c.t.Fatalf("ERROR message %q does not contain %q", msg, want)
	}
	c.expectClosed()
	return f
}

// expectClosed reads until the server closes the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(waitLong))
	for {
		f, err := c.rd.ReadFrame()
		if err == io.EOF || errors.Is(err, net.ErrClosed) || isReset(err) {
			return
		}
		if err != nil {
			c.t.Fatalf("waiting for the server to close: %v", err)
		}
		c.t.Fatalf("got %s %q after the connection should have closed", f.Command, f.Headers)
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// connect signs in (unsigned when login has no '|') and returns CONNECTED.
func (c *client) connect(login, passcode string, headers ...string) *frame.Frame {
	c.t.Helper()
	c.send(frame.Connect, append([]string{"accept-version", "1.2", "host", "localhost", "login", login, "passcode", passcode}, headers...)...)
	return c.expect(frame.Connected)
}

// subscribe subscribes to /topic/# with ack mode and waits for its receipt.
func (c *client) subscribe(ack string) {
	c.t.Helper()
	c.send(frame.Subscribe, "id", "1", "destination", "/topic/#", "ack", ack, "receipt", "sub")
	c.expectReceipt("sub")
}

func (c *client) expectReceipt(id string) {
	c.t.Helper()
	if f := c.expect(frame.Receipt); f.Value("receipt-id") != id {
		c.t.Fatalf("RECEIPT for %q, want %q", f.Value("receipt-id"), id)
	}
}

// messages reads n MESSAGE frames.
func (c *client) messages(n int) []*frame.Frame {
	c.t.Helper()
	out := make([]*frame.Frame, n)
	for i := range out {
		out[i] = c.expect(frame.Message)
	}
	return out
}

// expectSilence checks nothing but heart-beats arrives for d: for
// properties that are about something not happening.
func (c *client) expectSilence(d time.Duration) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(d))
	f, err := c.rd.ReadFrame()
	if err == nil {
		c.t.Fatalf("got %s %q, want nothing", f.Command, f.Headers)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		c.t.Fatalf("want silence, got %v", err)
	}
	// The reader may hold part of a frame after a timeout: start afresh.
	c.rd = frame.NewReader(c.nc, frame.Limits{MaxHeader: 1 << 20, MaxFrame: 8 << 20})
}

// good checks a fresh client can still sign in and subscribe.
func (e *env) good(t *testing.T) {
	t.Helper()
	c := dial(t, e.addr)
	user, pass := signedLogin(t, "good", broker.DefaultGroupID, "")
	c.connect(user, pass)
	c.subscribe("client-individual")
	c.send(frame.Disconnect, "receipt", "bye")
	c.expectReceipt("bye")
	c.expectClosed()
}
