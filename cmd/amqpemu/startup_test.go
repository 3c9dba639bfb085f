package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
		"--amqps", "off", "--stomp", "off", "--stomps", "off", "--mqtt", "off", "--log-format", "json")
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
		"--stomp", "off", "--stomps", "off", "--http", "off", "--mqtt", "off", "--log-format", "json"}, nil, devNull(t))
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
		"--stomp", "127.0.0.1:0", "--stomps", "off", "--http", busy[1], "--mqtt", "off", "--log-format", "json"}, nil, devNull(t))
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
	for _, bad := range []string{"0", "-1", "67108864"} {
		err := run(context.Background(), []string{"serve", "--data", t.TempDir(), "--max-message-size", bad}, nil, devNull(t))
		if err == nil || !strings.Contains(err.Error(), "--max-message-size") {
			t.Errorf("--max-message-size %s: %v", bad, err)
		}
	}
}

// TestStartLogSaysWhatWasRestored: a restart logs the absolute data
// directory, the groups and the backlog it found.
func TestStartLogSaysWhatWasRestored(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	em := startEmulator(t, bin, dir)
	resp, err := http.Post("http://"+em.http+"/api/v1/groups", "application/json", strings.NewReader(`{"name":"restored_group"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create group: %v %v", resp, err)
	}
	resp.Body.Close()
	out, err := exec.Command(bin, "publish", "--server", "http://"+em.http, "--product", "pk", "--device", "dev", "--count", "3", "x").CombinedOutput()
	if err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	waitMetrics(t, em.http, `amqpemu_group_accumulation{group="DEFAULT_GROUP"} 3`)
	req, _ := http.NewRequest("PUT", "http://"+em.http+"/api/v1/products/pk2/subscription", strings.NewReader(`{"groups":["DEFAULT_GROUP"]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("subscribe: %v %v", resp, err)
	}
	resp.Body.Close()
	em.cmd.Process.Signal(syscall.SIGTERM)
	em.cmd.Wait()

	rel, err := filepath.Rel(mustGetwd(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	em2 := startEmulator(t, bin, rel) // a relative --data is logged absolute
	line := logLine(t, em2, "state restored")
	if line["data_dir"] != dir || line["groups"] != 2.0 || line["backlog"] != 3.0 || line["subscribed_products"] != 1.0 || line["generic_queues"] != 0.0 {
		t.Fatalf("state restored: %v, want data_dir %s, 2 groups, backlog 3, 1 subscribed product, no generic queue", line, dir)
	}
	if line := logLine(t, em2, "amqpemu ready"); !strings.Contains(line["engine"].(string), dir) {
		t.Fatalf("ready line %v does not name %s", line, dir)
	}
}

// TestDevKeyBeyondLoopbackWarns: a listener beyond loopback with the
// published development key logs a warning; a key of one's own does not.
func TestDevKeyBeyondLoopbackWarns(t *testing.T) {
	bin := buildBinary(t)
	warned := func(em *emulator) bool {
		for _, l := range em.start {
			if l["level"] == "warn" && strings.Contains(l["message"].(string), "development access key") {
				return true
			}
		}
		return false
	}
	if em := startEmulator(t, bin, t.TempDir(), "--http", ":0"); !warned(em) {
		t.Errorf("no warning with the dev key beyond loopback: %v", em.start)
	}
	if em := startEmulator(t, bin, t.TempDir(), "--http", ":0", "--access-key-id", "mine", "--access-key-secret", "s3cret-of-mine"); warned(em) {
		t.Errorf("warning with a key of one's own: %v", em.start)
	}
	if em := startEmulator(t, bin, t.TempDir()); warned(em) {
		t.Errorf("warning on loopback: %v", em.start)
	}
}

func logLine(t *testing.T, em *emulator, msg string) map[string]any {
	t.Helper()
	for _, l := range em.start {
		if l["message"] == msg {
			return l
		}
	}
	t.Fatalf("no %q log line before ready: %v", msg, em.start)
	return nil
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
