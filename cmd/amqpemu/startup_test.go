package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSecondServerOnSameDataFails runs two real processes on one --data with
// different ports: the second must exit at once naming the (absolute)
// directory and the first one's pid, and the first must keep serving.
func TestSecondServerOnSameDataFails(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	first := startEmulator(t, bin, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--data", dir, "--amqp", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--amqps", "off", "--stomp", "off", "--stomps", "off", "--log-format", "json")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("second server on the same --data exited 0:\n%s", out)
	}
	if ctx.Err() != nil {
		t.Fatalf("second server did not exit:\n%s", out)
	}
	for _, want := range []string{dir, "pid " + strconv.Itoa(first.cmd.Process.Pid)} {
		if !strings.Contains(string(out), want) {
			t.Errorf("second server's output does not name %q:\n%s", want, out)
		}
	}
	if first.cmd.ProcessState != nil {
		t.Fatal("the first server exited")
	}
	waitMetrics(t, first.http, "amqpemu_amqp_connections 0") // still serving
}

// TestDataDirIsAFile: a --data that is a file is reported as such, naming
// the data directory, not as a TLS or store error.
func TestDataDirIsAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"serve", "--data", path, "--amqp", "127.0.0.1:0", "--amqps", "127.0.0.1:0",
		"--stomp", "off", "--stomps", "off", "--http", "off", "--log-format", "json"}, nil, devNull(t))
	if err == nil || !strings.Contains(err.Error(), "data directory "+path) || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("serve --data FILE: %v, want an error naming the data directory", err)
	}
}

// TestEveryPortConflictReported: with two listeners' ports taken, one error
// names both (flag, address, cause) and hints at port 0 and `off`.
func TestEveryPortConflictReported(t *testing.T) {
	var busy []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		busy = append(busy, ln.Addr().String())
	}
	err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--amqp", busy[0], "--amqps", "off",
		"--stomp", "127.0.0.1:0", "--stomps", "off", "--http", busy[1], "--log-format", "json"}, nil, devNull(t))
	if err == nil {
		t.Fatal("serve on taken ports: no error")
	}
	msg := err.Error()
	for _, want := range []string{"--amqp " + busy[0], "--http " + busy[1], "address already in use", ":0", "off"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "--stomp ") {
		t.Errorf("error names the listener that opened:\n%s", msg)
	}
}

// TestMaxMessageSizeFlag: --max-message-size sets the broker's limit, which
// POST /api/v1/messages (here through `amqpemu publish`) enforces with 413.
func TestMaxMessageSizeFlag(t *testing.T) {
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir(), "--max-message-size", "1024")
	publish := func(payload string) (string, error) {
		out, err := exec.Command(bin, "publish", "--server", "http://"+em.http, "--product", "pk", "--device", "dev", payload).CombinedOutput()
		return string(out), err
	}
	if out, err := publish(strings.Repeat("x", 1024)); err != nil {
		t.Fatalf("publish 1024 bytes: %v\n%s", err, out)
	}
	for _, payload := range []string{strings.Repeat("x", 1025), strings.Repeat("\xff", 1025)} { // text, and binary sent as base64
		out, err := publish(payload)
		if err == nil || !strings.Contains(out, "413") || !strings.Contains(out, "MessageTooLarge") {
			t.Fatalf("publish 1025 bytes: %v\n%s", err, out)
		}
	}
	for _, bad := range []string{"0", "-1", "2097152"} {
		err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--max-message-size", bad}, nil, devNull(t))
		if err == nil || !strings.Contains(err.Error(), "--max-message-size") {
			t.Errorf("--max-message-size %s: %v", bad, err)
		}
	}
}
