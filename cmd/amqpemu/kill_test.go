package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"
)

// emulator is a running amqpemu process.
type emulator struct {
	cmd   *exec.Cmd
	addr  string            // the AMQP listener
	http  string            // the HTTP listener
	addrs map[string]string // every listener by name
	start []map[string]any  // the log lines up to "amqpemu ready"
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "amqpemu")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// startEmulator runs `amqpemu serve` on dataDir and waits for its AMQP address;
// extra flags come after the defaults of the test and override them.
func startEmulator(t *testing.T, bin, dataDir string, extra ...string) *emulator {
	t.Helper()
	return startEmulatorEnv(t, bin, dataDir, nil, extra...)
}

// startEmulatorEnv is startEmulator with env (KEY=value) added to the
// process's environment; the flags of the test override it.
func startEmulatorEnv(t *testing.T, bin, dataDir string, env []string, extra ...string) *emulator {
	t.Helper()
	return launchEmulator(t, bin, dataDir, env, extra...)(t)
}

// launchEmulator starts the process and returns the wait for it to get
// ready, so that nodes that need each other (a cluster's quorum) start
// together.
func launchEmulator(t *testing.T, bin, dataDir string, env []string, extra ...string) func(*testing.T) *emulator {
	t.Helper()
	args := append([]string{"serve", "--data", dataDir, "--amqp", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--amqps", "off", "--stomp", "off", "--stomps", "off", "--mqtt", "127.0.0.1:0", "--log-format", "json"}, extra...)
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan *emulator, 1)
	ended := make(chan struct{}) // stderr closed: the process exited
	var mu sync.Mutex
	var last []string // the last lines logged, for a start that fails
	go func() {
		defer close(ended)
		em := &emulator{cmd: cmd, addrs: map[string]string{}}
		var start []map[string]any
		sent := false // em.start is the test's once sent
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			last = append(last[max(0, len(last)-9):], sc.Text())
			mu.Unlock()
			var line struct{ Listener, Addr, Message string }
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			var all map[string]any
			if !sent && json.Unmarshal(sc.Bytes(), &all) == nil {
				start = append(start, all)
			}
			if line.Listener != "" {
				em.addrs[line.Listener] = line.Addr
			}
			switch {
			case line.Listener == "amqp":
				em.addr = line.Addr
			case line.Listener == "http":
				em.http = line.Addr
			case line.Message == "amqpemu ready" && !sent:
				em.start, sent = start, true
				ready <- em
			}
		}
	}()
	deadline := time.After(60 * time.Second)
	return func(t *testing.T) *emulator {
		t.Helper()
		why := "did not get ready in 60 s"
		select {
		case em := <-ready:
			return em
		case <-ended:
			select {
			case em := <-ready:
				return em // ready, then gone: the test will see
			default:
			}
			why = "exited before it was ready"
		case <-deadline:
		}
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("emulator %s (%s); it logged last:\n%s", why, strings.Join(args, " "), strings.Join(last, "\n"))
		return nil
	}
}

// amqpSession dials addr anonymously and opens a session; the connection
// closes with the test.
func amqpSession(t *testing.T, ctx context.Context, addr string) *goamqp.Session {
	t.Helper()
	conn, err := goamqp.Dial(ctx, "amqp://"+addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sess
}

// TestKill9LosesNoAcceptedMessage sends device messages one at a time (each
// accepted only once JetStream stored it), kills the process with SIGKILL
// mid-stream, restarts it on the same data directory and checks every
// accepted message is delivered.
func TestKill9LosesNoAcceptedMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary twice")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	em := startEmulator(t, bin, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	conn, err := goamqp.Dial(ctx, "amqp://"+em.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := conn.NewSession(ctx, nil)
	snd, err := sess.NewSender(ctx, "/pkK/devK/user/data", nil)
	if err != nil {
		t.Fatal(err)
	}
	// 32 sends in flight, so the kill lands with publishes half done.
	var mu sync.Mutex
	accepted := map[string]bool{}
	const killAfter, max, inflight = 300, 5000, 32
	sem := make(chan struct{}, inflight)
	var wg sync.WaitGroup
	for i := 0; i < max && ctx.Err() == nil; i++ {
		if i == killAfter {
			em.cmd.Process.Signal(syscall.SIGKILL)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			body := fmt.Sprintf("m-%d", i)
			if snd.Send(ctx, goamqp.NewMessage([]byte(body)), nil) == nil {
				mu.Lock()
				accepted[body] = true
				mu.Unlock()
			}
		}()
		if conn.Err() != nil {
			break // the process died and the client noticed
		}
	}
	wg.Wait()
	if len(accepted) < killAfter-inflight || len(accepted) >= max {
		t.Fatalf("%d accepted: the kill did not land mid-stream", len(accepted))
	}
	em.cmd.Wait()

	em2 := startEmulator(t, bin, dir)
	conn2, err := goamqp.Dial(ctx, "amqp://"+em2.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	sess2, _ := conn2.NewSession(ctx, nil)
	rcv, err := sess2.NewReceiver(ctx, "", &goamqp.ReceiverOptions{Credit: 200})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for missing := len(accepted); missing > 0; {
		m, err := rcv.Receive(ctx, nil)
		if err != nil {
			t.Fatalf("after restart, %d accepted messages still missing: %v", missing, err)
		}
		body := string(m.GetData())
		if accepted[body] && !got[body] {
			missing--
		}
		got[body] = true
		rcv.AcceptMessage(ctx, m)
	}
	t.Logf("%d messages accepted before SIGKILL, all delivered after restart (%d distinct received)", len(accepted), len(got))
}
