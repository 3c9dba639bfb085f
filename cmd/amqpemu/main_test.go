package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"
)

// TestServeAndPublish builds amqpemu, runs `serve` on ports it picks,
// checks /healthz and /api/v1/info, ingests with `amqpemu publish`, receives
// the message over AMQP from DEFAULT_GROUP and stops the server with SIGTERM.
func TestServeAndPublish(t *testing.T) {
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir())

	resp, err := http.Get("http://" + em.http + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	var info struct {
		Version         string
		Listeners       map[string]string
		AccessKeySecret string // shown: it is the public development secret
	}
	resp, err = http.Get("http://" + em.http + "/api/v1/info")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if info.Listeners["amqp"] != em.addr || info.Listeners["http"] != em.http || info.AccessKeySecret != defaultAccessKeySecret {
		t.Fatalf("info %+v, want amqp %s and http %s", info, em.addr, em.http)
	}

	out, err := exec.Command(bin, "publish", "--server", "http://"+em.http, "--product", "pk1", "--device", "dev1",
		"--topic", "/pk1/dev1/user/temperature", `{"t":21.5}`).CombinedOutput()
	if err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	id := strings.TrimSpace(string(out))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := goamqp.Dial(ctx, "amqp://"+em.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := conn.NewSession(ctx, nil)
	rcv, err := sess.NewReceiver(ctx, "DEFAULT_GROUP", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rcv.Receive(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.GetData()) != `{"t":21.5}` || m.ApplicationProperties["messageId"] != id ||
		m.ApplicationProperties["topic"] != "/pk1/dev1/user/temperature" {
		t.Fatalf("received %q %v, published id %q", m.GetData(), m.ApplicationProperties, id)
	}
	rcv.AcceptMessage(ctx, m)
	// An AMQP sender's device message counts as ingested too.
	snd, err := sess.NewSender(ctx, "/pk1/dev1/user/temperature", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := snd.Send(ctx, goamqp.NewMessage([]byte(`{"t":22}`)), nil); err != nil {
		t.Fatal(err)
	}
	if m, err = rcv.Receive(ctx, nil); err != nil {
		t.Fatal(err)
	}
	rcv.AcceptMessage(ctx, m)
	waitMetrics(t, em.http,
		`amqpemu_messages_ingested_total 2`,
		`amqpemu_deliveries_total{group="DEFAULT_GROUP"} 2`,
		`amqpemu_acks_total{group="DEFAULT_GROUP"} 2`,
		`amqpemu_amqp_connections 1`,
		`amqpemu_group_online_clients{group="DEFAULT_GROUP"} 1`)
	readmeNamesEveryMetric(t, em.http)

	if err := em.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- em.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("did not exit after SIGTERM")
	}
	<-conn.Done() // the server closed the connection on its way out
}

func TestPublishReportsErrors(t *testing.T) {
	var out, errOut strings.Builder
	err := publish(context.Background(), []string{"--server", "http://127.0.0.1:1", "--product", "p", "--device", "d", "x"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "is the emulator running") {
		t.Fatalf("unreachable server: %v", err)
	}
	if err := publish(context.Background(), []string{"--product", "p", "x"}, &out, &errOut); err == nil {
		t.Fatal("missing --device accepted")
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--log-level", "loud"},
		{"serve", "--data", t.TempDir(), "--amqp", "off", "--amqps", "off", "--stomp", "off", "--stomps", "off", "--http", "off", "--mqtt", "off"},
		{"serve", "--data", t.TempDir(), "--amqp", "256.0.0.1:99999"},
		{"serve", "--data", t.TempDir(), "--kafka-advertised", "no-port"},
		{"frobnicate"},
	} {
		if err := run(context.Background(), args, nil, devNull(t)); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// waitMetrics polls /metrics until every line in want appears.
// readmeNamesEveryMetric: each amqpemu_* family the emulator exports is in
// the README's metrics table.
func readmeNamesEveryMetric(t *testing.T, addr string) {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (amqpemu_\w+)`).FindAllStringSubmatch(string(body), -1) {
		if !strings.Contains(string(readme), "`"+m[1]+"`") {
			t.Errorf("README.md does not document the metric %s", m[1])
		}
	}
}

func waitMetrics(t *testing.T, addr string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		missing := ""
		for _, w := range want {
			if !strings.Contains(string(body), "\n"+w+"\n") {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %q", missing)
		}
		time.Sleep(50 * time.Millisecond) // the ack reaches the counters asynchronously
	}
}
