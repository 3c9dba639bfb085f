package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"
)

// TestServeBinary builds amqpemu, runs `serve` on a port it picks, reads the
// address from the log, round-trips a message with go-amqp and stops it with
// SIGTERM.
func TestServeBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "amqpemu")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--data", t.TempDir(), "--amqp", "127.0.0.1:0", "--amqps", "off", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Listener, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Listener == "amqp" {
				addr <- line.Addr
			}
		}
	}()
	var a string
	select {
	case a = <-addr:
	case <-time.After(10 * time.Second):
		t.Fatal("no listening line in the log")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := goamqp.Dial(ctx, "amqp://"+a, nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := conn.NewSession(ctx, nil)
	snd, err := sess.NewSender(ctx, "hello", nil)
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := sess.NewReceiver(ctx, "hello", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := snd.Send(ctx, goamqp.NewMessage([]byte("hi")), nil); err != nil {
		t.Fatal(err)
	}
	m, err := rcv.Receive(ctx, nil)
	if err != nil || string(m.GetData()) != "hi" {
		t.Fatalf("receive: %v %v", m, err)
	}
	rcv.AcceptMessage(ctx, m)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not exit after SIGTERM")
	}
	<-conn.Done() // the server closed the connection on its way out
}

func TestServeRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--log-level", "loud"},
		{"serve", "--data", t.TempDir(), "--amqp", "off", "--amqps", "off"},
		{"serve", "--data", t.TempDir(), "--amqp", "256.0.0.1:99999"},
		{"frobnicate"},
	} {
		if err := run(context.Background(), args, nil, devNull(t)); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
