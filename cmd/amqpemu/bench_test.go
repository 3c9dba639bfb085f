package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/memqueue"
)

// histRelErr is how far a quantile read back may be from the recorded value.
const histRelErr = 1.0 / (2 * histHalf)

func TestHistogramBuckets(t *testing.T) {
	prev := -1
	check := func(v int64) {
		i := bucketOf(v)
		if i < prev || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d after %d (of %d)", v, i, prev, histBuckets)
		}
		prev = i
		lo, width := bucketRange(i)
		if v < lo || v-lo >= width {
			t.Fatalf("%d in bucket %d = [%d, %d)", v, i, lo, lo+width)
		}
		if width > 1 && float64(width)/float64(lo) > 1.0/histHalf {
			t.Fatalf("bucket %d = [%d, +%d) is too wide", i, lo, width)
		}
	}
	for v := range int64(5000) {
		check(v)
	}
	for v := int64(5000); v < math.MaxInt64/3; v = v*3/2 + 7 {
		check(v)
	}
	check(math.MaxInt64)
}

func TestHistogramSmallValuesAreExact(t *testing.T) {
	h := newHistogram()
	for v := int64(1); v <= 100; v++ {
		h.Record(v)
	}
	for _, tc := range []struct {
		q    float64
		want int64
	}{{0.01, 1}, {0.5, 50}, {0.9, 90}, {0.99, 99}, {1, 100}} {
		if got := h.Quantile(tc.q); got != tc.want {
			t.Errorf("Quantile(%v) = %d, want %d", tc.q, got, tc.want)
		}
	}
	if h.Count() != 100 || h.Max() != 100 || h.Mean() != 50.5 {
		t.Errorf("count %d max %d mean %v, want 100 100 50.5", h.Count(), h.Max(), h.Mean())
	}
}

func TestHistogramUniformLatencies(t *testing.T) {
	h := newHistogram()
	for i := int64(1); i <= 100000; i++ { // 1 µs … 100 ms
		h.Record(i * int64(time.Microsecond))
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.9, 90 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {0.999, 99900 * time.Microsecond}} {
		assertNear(t, tc.q, h.Quantile(tc.q), int64(tc.want))
	}
	if h.Quantile(1) != int64(100*time.Millisecond) || h.Max() != int64(100*time.Millisecond) {
		t.Errorf("p100 %d max %d, want exactly 100 ms", h.Quantile(1), h.Max())
	}
}

// TestHistogramMatchesSortedSample compares every percentile of a skewed
// random sample with the exact nearest-rank value of the sorted sample.
func TestHistogramMatchesSortedSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sample := make([]int64, 50000)
	h := newHistogram()
	for i := range sample {
		sample[i] = int64(rng.ExpFloat64() * 2e6) // mean 2 ms
		h.Record(sample[i])
	}
	slices.Sort(sample)
	for q := 0.01; q <= 1; q += 0.01 {
		rank := int(math.Ceil(q*float64(len(sample)))) - 1
		assertNear(t, q, h.Quantile(q), sample[rank])
	}
}

func TestHistogramMergeAndEdges(t *testing.T) {
	empty := newHistogram()
	if empty.Quantile(0.5) != 0 || empty.Max() != 0 || empty.Mean() != 0 || empty.Count() != 0 {
		t.Error("an empty histogram does not read as zero")
	}
	a, b, all := newHistogram(), newHistogram(), newHistogram()
	for v := int64(0); v < 20000; v += 3 {
		a.Record(v * 1000)
		all.Record(v * 1000)
		b.Record(v * 7)
		all.Record(v * 7)
	}
	a.Merge(b)
	a.Merge(empty)
	if *a != *all {
		t.Error("merging two histograms differs from recording into one")
	}
	neg := newHistogram()
	neg.Record(-5)
	if neg.Quantile(1) != 0 || neg.Count() != 1 {
		t.Errorf("a negative value reads back as %d", neg.Quantile(1))
	}
}

func assertNear(t *testing.T, q float64, got, want int64) {
	t.Helper()
	if d := math.Abs(float64(got - want)); d > float64(want)*histRelErr+1 {
		t.Errorf("Quantile(%.2f) = %d, want %d ± %.2f%%", q, got, want, histRelErr*100)
	}
}

func TestPacerSchedule(t *testing.T) {
	p := newPacer(1000) // one slot a millisecond
	t0 := time.Unix(1000, 0)
	for n := range 5 {
		if due := p.reserve(t0); !due.Equal(t0.Add(time.Duration(n) * time.Millisecond)) {
			t.Fatalf("slot %d due %v after start", n, due.Sub(t0))
		}
	}
	// Slightly late: the missed slots are handed out at once, on schedule.
	late := t0.Add(50 * time.Millisecond)
	if due := p.reserve(late); !due.Equal(t0.Add(5 * time.Millisecond)) {
		t.Fatalf("late slot due %v after start, want 5ms", due.Sub(t0))
	}
	// Far behind: the schedule restarts now instead of bursting.
	stalled := t0.Add(time.Second)
	for n := range 3 {
		if due := p.reserve(stalled); !due.Equal(stalled.Add(time.Duration(n) * time.Millisecond)) {
			t.Fatalf("slot %d after a stall due %v after it", n, due.Sub(stalled))
		}
	}
	if newPacer(0) != nil || newPacer(0).wait(context.Background()) != nil {
		t.Error("rate 0 does not mean unlimited")
	}
}

func TestParseBenchFlags(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		wantCount int64
		wantRecv  string
		wantErr   bool
	}{
		{args: nil, wantCount: 100000, wantRecv: "bench"},
		{args: []string{"--duration", "10s"}, wantCount: 0, wantRecv: "bench"},
		{args: []string{"--duration", "10s", "--count", "50"}, wantCount: 50, wantRecv: "bench"},
		{args: []string{"--senders", "0"}, wantCount: 0, wantRecv: "bench"},
		{args: []string{"--senders", "0", "--count", "7", "--address", "g"}, wantCount: 7, wantRecv: "g"},
		{args: []string{"--address", "/pk/dn/user/up", "--receive-address", "group1"}, wantCount: 100000, wantRecv: "group1"},
		{args: []string{"--senders", "0", "--receivers", "0"}, wantErr: true},
		{args: []string{"--inflight", "0"}, wantErr: true},
		{args: []string{"--credit", "0"}, wantErr: true},
		{args: []string{"--rate", "-1"}, wantErr: true},
		{args: []string{"--timeout", "0"}, wantErr: true},
		{args: []string{"--url", "http://127.0.0.1:5672"}, wantErr: true},
		{args: []string{"--url", "amqp://"}, wantErr: true},
		{args: []string{"--frobnicate"}, wantErr: true},
		{args: []string{"extra"}, wantErr: true},
	} {
		cfg, err := parseBenchFlags(tc.args, devNull(t), devNull(t))
		if tc.wantErr {
			if err == nil {
				t.Errorf("%v: no error", tc.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if cfg.count != tc.wantCount || cfg.receiveAddress != tc.wantRecv {
			t.Errorf("%v: count %d receive-address %q, want %d %q", tc.args, cfg.count, cfg.receiveAddress, tc.wantCount, tc.wantRecv)
		}
	}
}

func TestBenchConnOptions(t *testing.T) {
	anon := benchConfig{url: "amqp://127.0.0.1:5672"}
	if o := anon.connOptions(); o == nil || o.SASLType == nil {
		t.Error("no SASL ANONYMOUS without user information")
	}
	plain := benchConfig{url: "amqp://user:secret@127.0.0.1:5672"}
	if plain.connOptions() != nil { // go-amqp signs in with PLAIN from the URL
		t.Error("user information in the URL does not leave SASL to go-amqp")
	}
	if got := plain.redactedURL(); strings.Contains(got, "secret") {
		t.Errorf("redacted URL %q shows the password", got)
	}
}

// startBenchServer runs an AMQP server with the in-memory backend on
// 127.0.0.1:0 for the test and returns its URL.
func startBenchServer(t *testing.T) (string, *memqueue.Backend) {
	t.Helper()
	be := memqueue.New()
	srv := amqp.NewServer(amqp.Config{Backend: be, Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, amqp.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return "amqp://" + ln.Addr().String(), be
}

// benchT parses args (progress off, a 60 s timeout) and runs them.
func benchT(t *testing.T, ctx context.Context, args ...string) (*benchResult, error) {
	t.Helper()
	args = append([]string{"--progress", "0", "--timeout", "60s"}, args...)
	cfg, err := parseBenchFlags(args, devNull(t), devNull(t))
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return runBench(ctx, cfg, nil)
}

func mustBench(t *testing.T, args ...string) *benchResult {
	t.Helper()
	res, err := benchT(t, context.Background(), args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return res
}

func TestBenchEndToEnd(t *testing.T) {
	url, be := startBenchServer(t)
	res := mustBench(t, "--url", url, "--count", "2000", "--senders", "1", "--receivers", "2", "--size", "100")
	if res.Sent != 2000 || res.Received != 2000 || res.Refused != 0 || res.Untimed != 0 {
		t.Fatalf("sent %d received %d refused %d untimed %d, want 2000 2000 0 0", res.Sent, res.Received, res.Refused, res.Untimed)
	}
	if res.Backlog == nil || *res.Backlog != 0 {
		t.Errorf("backlog %v, want 0", res.Backlog)
	}
	l := res.Latency
	if l.Samples != 2000 || l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max {
		t.Errorf("latency %+v: want 2000 samples, 0 < p50 ≤ p90 ≤ p99 ≤ max", l)
	}
	if res.SendRate <= 0 || res.ReceiveRate <= 0 || res.Elapsed <= 0 {
		t.Errorf("rates %v / %v over %v s", res.SendRate, res.ReceiveRate, res.Elapsed)
	}
	// The server may still be reading the last dispositions, so only check
	// that nothing was left undelivered.
	if waiting, _ := be.Depth("bench"); waiting != 0 {
		t.Errorf("queue left with %d waiting", waiting)
	}
}

func TestBenchRateLimited(t *testing.T) {
	url, _ := startBenchServer(t)
	start := time.Now()
	res := mustBench(t, "--url", url, "--rate", "1000", "--count", "500", "--senders", "2")
	// 500 slots at 1 ms apart: the last is due 499 ms in. No upper bound.
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("500 messages at 1000/s took %v", took)
	}
	if res.Sent != 500 || res.Received != 500 {
		t.Errorf("sent %d received %d, want 500", res.Sent, res.Received)
	}
}

// TestBenchDurationBoundsSending checks that no slot due after --duration is
// sent: at 1000/s for 300 ms at most 300 go out (no lower bound on speed).
func TestBenchDurationBoundsSending(t *testing.T) {
	url, _ := startBenchServer(t)
	res := mustBench(t, "--url", url, "--rate", "1000", "--duration", "300ms", "--receivers", "0", "--senders", "2")
	if res.Sent < 1 || res.Sent > 300 {
		t.Errorf("sent %d in 300 ms at 1000/s, want 1 … 300", res.Sent)
	}
}

// TestBenchReceiveOnly pre-loads a queue through a sender whose receivers
// listen elsewhere, then drains it with a receive-only run, first by count
// and then by --idle.
func TestBenchReceiveOnly(t *testing.T) {
	url, be := startBenchServer(t)
	res := mustBench(t, "--url", url, "--address", "q1", "--receive-address", "q2", "--count", "300", "--idle", "50ms")
	if res.Sent != 300 || res.Received != 0 || *res.Backlog != 300 {
		t.Fatalf("pre-load: sent %d received %d backlog %d, want 300 0 300", res.Sent, res.Received, *res.Backlog)
	}
	if waiting, _ := be.Depth("q1"); waiting != 300 {
		t.Fatalf("q1 holds %d messages, want 300", waiting)
	}

	res = mustBench(t, "--url", url, "--senders", "0", "--address", "q1", "--count", "200", "--receivers", "2")
	if res.Received != 200 || res.Sent != 0 || res.Backlog != nil || res.Latency.Samples != 200 || res.Latency.P50 <= 0 {
		t.Fatalf("drain 200: received %d sent %d backlog %v latency %+v", res.Received, res.Sent, res.Backlog, res.Latency)
	}

	// No --count: drain whatever is there, stop once nothing comes for --idle.
	res = mustBench(t, "--url", url, "--senders", "0", "--address", "q1", "--idle", "200ms")
	if res.Received != 100 {
		t.Fatalf("drain the rest: received %d, want 100", res.Received)
	}
	if waiting, _ := be.Depth("q1"); waiting != 0 {
		t.Errorf("q1 left with %d waiting", waiting)
	}
}

// TestBenchSendOnly pre-loads with --receivers 0.
func TestBenchSendOnly(t *testing.T) {
	url, be := startBenchServer(t)
	res := mustBench(t, "--url", url, "--receivers", "0", "--count", "250", "--senders", "3", "--inflight", "4")
	if res.Sent != 250 || *res.Backlog != 250 {
		t.Fatalf("sent %d backlog %d, want 250 250", res.Sent, *res.Backlog)
	}
	if waiting, _ := be.Depth("bench"); waiting != 250 {
		t.Errorf("queue holds %d, want 250", waiting)
	}
}

// progressFunc is an io.Writer that calls f on every progress line.
type progressFunc func()

func (f progressFunc) Write(p []byte) (int, error) { f(); return len(p), nil }

// TestBenchInterrupted cancels the run at its first progress line (as SIGINT
// does): it returns what it measured so far and no error.
func TestBenchInterrupted(t *testing.T) {
	url, _ := startBenchServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg, err := parseBenchFlags([]string{"--url", url, "--count", "0", "--rate", "2000", "--progress", "20ms"}, devNull(t), devNull(t))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	res, err := runBench(ctx, cfg, progressFunc(func() { once.Do(cancel) }))
	if err != nil {
		t.Fatalf("interrupted run: %v", err)
	}
	if !res.Interrupted || res.Error != "" {
		t.Errorf("interrupted %v error %q", res.Interrupted, res.Error)
	}
}

func TestBenchTimeout(t *testing.T) {
	url, _ := startBenchServer(t)
	cfg, err := parseBenchFlags([]string{"--url", url, "--count", "0", "--rate", "1000", "--progress", "0", "--timeout", "200ms"}, devNull(t), devNull(t))
	if err != nil {
		t.Fatal(err)
	}
	res, err := runBench(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "--timeout") || res == nil || res.Error == "" {
		t.Fatalf("result %+v, error %v: want the partial result and a --timeout error", res, err)
	}
}

func TestBenchUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	res, err := benchT(t, context.Background(), "--url", "amqp://"+addr)
	if err == nil || res != nil {
		t.Fatalf("result %v, error %v: want a connect error", res, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "connect to amqp://"+addr) || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line naming the URL", msg)
	}
}

// TestBenchCommandJSON goes through run, as the binary does, with --json.
func TestBenchCommandJSON(t *testing.T) {
	url, _ := startBenchServer(t)
	path := filepath.Join(t.TempDir(), "out.json")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	args := []string{"bench", "--url", url, "--count", "100", "--json", "--progress", "0"}
	if err := run(context.Background(), args, out, devNull(t)); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Sent, Received, Backlog int64
		Latency                 struct{ Samples int64 }
	}
	if err := json.Unmarshal(data, &got); err != nil || strings.Count(strings.TrimSpace(string(data)), "\n") != 0 {
		t.Fatalf("output %q: want one JSON object (%v)", data, err)
	}
	if got.Sent != 100 || got.Received != 100 || got.Backlog != 0 || got.Latency.Samples != 100 {
		t.Errorf("result %+v", got)
	}
}

func TestBenchSummaryText(t *testing.T) {
	backlog := int64(3)
	res := &benchResult{
		URL: "amqp://127.0.0.1:5672", Address: "a", ReceiveAddress: "b", Senders: 1, Receivers: 2,
		Rate: 500, Inflight: 64, Credit: 200, Size: 256, Sent: 10, Received: 7, Elapsed: 1.5,
		SendRate: 10, ReceiveRate: 7, Backlog: &backlog, Interrupted: true,
		Latency: latencyResult{Samples: 7, P50: millis(time.Millisecond), P90: millis(2 * time.Millisecond),
			P99: millis(3 * time.Millisecond), Max: millis(4 * time.Millisecond), Mean: millis(time.Millisecond)},
	}
	var b strings.Builder
	if err := writeResult(&b, benchConfig{}, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"a" → "b"`, "sent      10 msgs", "received  7 msgs", "p50 1ms  p90 2ms  p99 3ms  max 4ms",
		"backlog   3", "elapsed   1.5s", "interrupted"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

// The send time rides in the payload too, as device topics keep only it.
func TestPayloadStamp(t *testing.T) {
	payload := bytes.Repeat([]byte{'x'}, 32)
	stamped := stampPayload(payload, 1234567890123)
	if at, ok := payloadSentAt(stamped); !ok || at != 1234567890123 || len(stamped) != 32 || !bytes.Equal(stamped[16:], payload[16:]) {
		t.Fatalf("stamped %q: %d %v", stamped, at, ok)
	}
	if payload[0] != 'x' {
		t.Fatal("the shared payload was changed")
	}
	if short := stampPayload([]byte("tiny"), 1); string(short) != "tiny" {
		t.Fatalf("short payload became %q", short)
	}
	if _, ok := payloadSentAt(payload); ok {
		t.Fatal("an unstamped payload was read as stamped")
	}
}
