package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"
	"github.com/nats-io/nats.go"

	"github.com/amqpemu/amqpemu/broker"
)

// The server-process figures of issue 9: the server runs in a process of
// its own, the clients in this one, and only the server process's CPU
// time (user + system, /proc/PID/stat) and resident memory
// (/proc/PID/status) count, so no client cost can hide in them.

// proc is a process whose CPU time and memory are read from /proc/PID: a
// server this benchmark started (serverProc) or one it was pointed at (the
// RabbitMQ node of bench/rabbitmq.sh).
type proc struct {
	pid int
}

// serverProc is a server running in its own process, started by the
// benchmark.
type serverProc struct {
	proc
	cmd   *exec.Cmd
	addrs map[string]string // listener name → address
}

// cpuSeconds is the process's CPU time so far (utime + stime).
func (p proc) cpuSeconds(tb testing.TB) float64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the ")" that ends the command name: utime and stime are
	// the 14th and 15th of the whole line, in clock ticks (USER_HZ, 100).
	rest := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	ut, _ := strconv.ParseFloat(rest[11], 64)
	st, _ := strconv.ParseFloat(rest[12], 64)
	return (ut + st) / 100
}

// rssKB is the process's resident memory, in KiB.
func (p proc) rssKB(tb testing.TB) float64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}

// reportServer adds the server-process figures of a drain to b: CPU per
// delivery since cpuBefore (srv-cpu-µs/msg, over n deliveries) and resident
// memory now (srv-rss-MiB).
func (p proc) reportServer(b *testing.B, cpuBefore float64, n int) {
	b.ReportMetric((p.cpuSeconds(b)-cpuBefore)*1e6/float64(n), "srv-cpu-µs/msg")
	b.ReportMetric(p.rssKB(b)/1024, "srv-rss-MiB")
}

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// build compiles the amqpemu binary and a standalone nats-server (from
// the module this one depends on) once per test binary.
func build(tb testing.TB) (amqpemu, natsServer string) {
	tb.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "amqpemu-bench-")
		for _, pkg := range [][2]string{{"amqpemu", "../cmd/amqpemu"}, {"nats-server", "github.com/nats-io/nats-server/v2"}} {
			if buildErr != nil {
				return
			}
			out, err := exec.Command("go", "build", "-o", filepath.Join(buildDir, pkg[0]), pkg[1]).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg[1], err, out)
			}
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "amqpemu"), filepath.Join(buildDir, "nats-server")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// startAmqpemuProc runs `amqpemu serve` on a data directory of its own,
// with only plain AMQP and HTTP, on ports it picks, and waits until it is
// ready. Extra flags come last and win (`--mqtt 127.0.0.1:0` adds the MQTT
// listener, whose address is then addrs["mqtt"]).
func startAmqpemuProc(tb testing.TB, extra ...string) *serverProc {
	tb.Helper()
	return startAmqpemuProcIn(tb, tb.TempDir(), extra...)
}

// startAmqpemuProcIn is startAmqpemuProc on data directory dir.
// AMQPEMU_BENCH_PROFILE=DIR profiles the server process: DIR/cpu.pprof and
// DIR/mem.pprof, written when it stops.
func startAmqpemuProcIn(tb testing.TB, dir string, extra ...string) *serverProc {
	tb.Helper()
	bin, _ := build(tb)
	args := append([]string{"serve", "--data", dir, "--amqp", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--amqps", "off", "--stomp", "off", "--stomps", "off", "--mqtt", "off", "--log-format", "json"}, extra...)
	profDir := os.Getenv("AMQPEMU_BENCH_PROFILE")
	if profDir != "" {
		args = append(args, "--cpuprofile", filepath.Join(profDir, "cpu.pprof"), "--memprofile", filepath.Join(profDir, "mem.pprof"))
	}
	p := &serverProc{cmd: exec.Command(bin, args...), addrs: map[string]string{}}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p.pid = p.cmd.Process.Pid
	tb.Cleanup(func() {
		if profDir != "" { // a clean stop writes the profiles
			p.stop(tb)
		}
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Listener, Addr, Message string }
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			if line.Listener != "" {
				p.addrs[line.Listener] = line.Addr
			}
			if line.Message == "amqpemu ready" {
				close(ready)
				break
			}
		}
		for sc.Scan() { // keep reading so the server never blocks on its log
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		tb.Fatal("amqpemu did not get ready within 60s")
	}
	return p
}

// stop ends the server cleanly (SIGTERM), waiting up to 30 s for it.
func (p *serverProc) stop(tb testing.TB) {
	tb.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		tb.Error("amqpemu did not stop within 30s of SIGTERM")
	}
}

// startNATSProc runs the standalone nats-server with JetStream on a port
// it picks.
func startNATSProc(tb testing.TB) (*serverProc, string) {
	tb.Helper()
	_, bin := build(tb)
	p := &serverProc{cmd: exec.Command(bin, "-js", "-sd", tb.TempDir(), "-a", "127.0.0.1", "-p", "-1")}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p.pid = p.cmd.Process.Pid
	tb.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	listening := regexp.MustCompile(`Listening for client connections on (\S+)`)
	url := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				url <- "nats://" + m[1]
			}
		}
	}()
	select {
	case u := <-url:
		return p, u
	case <-time.After(30 * time.Second):
		tb.Fatal("nats-server did not listen within 30s")
		return nil, ""
	}
}

// apiCall sends in (JSON, unless nil) to amqpemu's REST API at httpAddr and
// decodes the answer into out (unless nil), failing unless its status is
// want.
func apiCall(tb testing.TB, httpAddr, method, path string, in any, want int, out any) {
	tb.Helper()
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			tb.Fatal(err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, "http://"+httpAddr+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != want {
		tb.Fatalf("%s %s: %s (want %d): %s", method, path, resp.Status, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

// preloadHTTP stores n device messages of product pk1 through the HTTP
// API, 1000 per request, so the pre-load costs the server little next to
// the drain.
func preloadHTTP(tb testing.TB, httpAddr string, n int) {
	tb.Helper()
	payload := strings.Repeat("x", payloadSize)
	const batch = 1000
	for i := 0; i < n; i += batch {
		msgs := make([]map[string]string, min(batch, n-i))
		for j := range msgs {
			msgs[j] = map[string]string{"productKey": "pk1", "deviceName": "dev1", "payload": payload}
		}
		apiCall(tb, httpAddr, http.MethodPost, "/api/v1/messages", msgs, http.StatusAccepted, nil)
	}
}

// checkAccumulation waits (up to 10 s, untimed) until each group's
// accumulation, as GET /api/v1/groups/{id}/status reports it, is want: 0
// after a drain means every delivery was accepted and its ack reached
// JetStream.
func checkAccumulation(tb testing.TB, httpAddr string, want int, ids ...string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, id := range ids {
		for {
			var st struct{ Accumulation int }
			apiCall(tb, httpAddr, http.MethodGet, "/api/v1/groups/"+id+"/status", nil, http.StatusOK, &st)
			if st.Accumulation == want {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("group %s has an accumulation of %d, want %d", id, st.Accumulation, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// BenchmarkServerProcessDrain: the drain scenario (b.N × 256 B pre-loaded
// in DEFAULT_GROUP, 8 go-amqp receivers with credit 200, accept each)
// against amqpemu in its own process. srv-cpu-µs/msg is that process's
// CPU per drained message. The server is restarted on its data between
// the pre-load and the drain, so a profile of it (AMQPEMU_BENCH_PROFILE)
// shows the drain alone.
func BenchmarkServerProcessDrain(b *testing.B) {
	serverProcessDrain(b, consumers)
}

// BenchmarkServerProcessDrainOneReceiver is BenchmarkServerProcessDrain
// with a single receiver (one connection, credit 200): one group as
// BenchmarkFanoutDrain consumes each of its ten.
func BenchmarkServerProcessDrainOneReceiver(b *testing.B) {
	serverProcessDrain(b, 1)
}

func serverProcessDrain(b *testing.B, receivers int) {
	b.StopTimer()
	dir := b.TempDir()
	loader := startAmqpemuProcIn(b, dir)
	preloadHTTP(b, loader.addrs["http"], b.N)
	loader.stop(b)
	p := startAmqpemuProcIn(b, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e := &amqpemuEnv{}
	for range receivers {
		e.receivers = append(e.receivers, attachReceiver(b, ctx, p.addrs["amqp"], "", prefetch))
	}
	before := p.cpuSeconds(b)
	timeDrain(b, e.drain)
	p.reportServer(b, before, b.N)
	checkAccumulation(b, p.addrs["http"], 0, broker.DefaultGroupID)
}

// BenchmarkNATSServerProcessDrain is the engine alone, measured the same
// way: a standalone nats-server (built from the module) with the broker's
// stream and group consumer, drained by nats.go (8 connections, Fetch 200,
// ack each); srv-cpu-µs/msg is the nats-server process's CPU per message.
func BenchmarkNATSServerProcessDrain(b *testing.B) {
	b.StopTimer()
	p, url := startNATSProc(b)
	connect := func() *nats.Conn {
		nc, err := nats.Connect(url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(nc.Close)
		return nc
	}
	str := setupStream(b, connect(), b.N, false)
	before := p.cpuSeconds(b)
	timeDrain(b, func(n int) error { return fetchDrain(n, connect) })
	b.ReportMetric((p.cpuSeconds(b)-before)*1e6/float64(b.N), "srv-cpu-µs/msg")
	checkDrained(b, str, uint64(b.N))
}

// BenchmarkIdleConnectionMemory: b.N idle AMQP connections held open to
// amqpemu in its own process (one session, one receiver on DEFAULT_GROUP,
// credit 10 each); srv-KB/conn is how much the server's resident memory
// grew per connection once all are open.
func BenchmarkIdleConnectionMemory(b *testing.B) {
	b.StopTimer()
	p := startAmqpemuProc(b, "--max-clients", strconv.Itoa(b.N+1))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	time.Sleep(time.Second) // let start-up garbage settle before the baseline
	base := p.rssKB(b)
	b.StartTimer()
	for range b.N {
		conn, err := goamqp.Dial(ctx, "amqp://"+p.addrs["amqp"], nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		sess, err := conn.NewSession(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sess.NewReceiver(ctx, "DEFAULT_GROUP", &goamqp.ReceiverOptions{Credit: 10}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	time.Sleep(2 * time.Second) // the server's buffers and GC settle while the connections idle
	b.ReportMetric((p.rssKB(b)-base)/float64(b.N), "srv-KB/conn")
	b.ReportMetric(p.rssKB(b)/1024, "srv-rss-MiB")
}
