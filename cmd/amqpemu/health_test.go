package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"
	"github.com/nats-io/nats-server/v2/server"

	"github.com/amqpemu/amqpemu/vendorauth"
)

func startNATS(t *testing.T, port int, dir string) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir,
		NoSigs: true, NoLog: true, JetStreamLimits: server.JSLimitOpts{DefaultMaxConsumers: -1}})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return ns
}

// waitHealthz polls /healthz until it answers want.
func waitHealthz(t *testing.T, addr string, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		got := 0
		if err == nil {
			got = resp.StatusCode
			resp.Body.Close()
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz answers %d (%v), want %d", got, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// healthExit runs `amqpemu health` against addr and returns its exit code.
func healthExit(t *testing.T, bin, addr string) int {
	t.Helper()
	out, err := exec.Command(bin, "health", "--server", "http://"+addr, "--timeout", "5s").CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		if strings.TrimSpace(string(out)) != "ok" {
			t.Errorf("amqpemu health exited 0 saying %q", out)
		}
		return 0
	case errors.As(err, &exit):
		if !strings.Contains(string(out), "/healthz") && !strings.Contains(string(out), "is the emulator running") {
			t.Errorf("amqpemu health exited %d without saying why: %q", exit.ExitCode(), out)
		}
		return exit.ExitCode()
	}
	t.Fatalf("amqpemu health: %v", err)
	return -1
}

// /healthz (and `amqpemu health`) fails while the engine is unreachable
// and recovers with it.
func TestHealthzFollowsEngine(t *testing.T) {
	store := t.TempDir()
	ns := startNATS(t, -1, store)
	_, port, _ := net.SplitHostPort(ns.Addr().String())
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir(), "--nats-url", ns.ClientURL())
	waitHealthz(t, em.http, http.StatusOK)
	if code := healthExit(t, bin, em.http); code != 0 {
		t.Errorf("amqpemu health on a ready emulator: exit %d", code)
	}

	ns.Shutdown()
	ns.WaitForShutdown()
	waitHealthz(t, em.http, http.StatusServiceUnavailable)
	if code := healthExit(t, bin, em.http); code != 1 {
		t.Errorf("amqpemu health with the engine down: exit %d, want 1", code)
	}
	if code := healthExit(t, bin, "127.0.0.1:1"); code != 1 {
		t.Errorf("amqpemu health with nothing listening: exit %d, want 1", code)
	}
	resp, err := http.Post("http://"+em.http+"/api/v1/messages", "application/json",
		strings.NewReader(`{"productKey":"pk","deviceName":"d","payload":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("publish with the engine down: %d, want 503", resp.StatusCode)
	}

	p, _ := strconv.Atoi(port)
	ns = startNATS(t, p, store) // same port and store: the engine comes back
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	waitHealthz(t, em.http, http.StatusOK)
	resp, err = http.Post("http://"+em.http+"/api/v1/messages", "application/json",
		strings.NewReader(`{"productKey":"pk","deviceName":"d","payload":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("publish after the engine came back: %d, want 202", resp.StatusCode)
	}
}

// The fault as a user met it: a long group id through the REST API, a
// receiver's source address and a signed user name's consumerGroupId once
// broke the engine connection until restart. Each is refused at its scope
// and the emulator keeps serving.
func TestLongNamesRefusedAtTheirScope(t *testing.T) {
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir(), "--access-key-id", "ak", "--access-key-secret", "sk")
	long := strings.Repeat("g", 5000)

	resp, err := http.Get("http://" + em.http + "/api/v1/groups/" + long)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET a group id of 5000 characters: %d, want 400", resp.StatusCode)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess := amqpSession(t, ctx, em.addr)
	if _, err := sess.NewReceiver(ctx, long, nil); err == nil {
		t.Error("a receiver on a 5000-character address was attached")
	}

	id := &vendorauth.Identity{AuthMode: "aksign", SignMethod: "hmacsha1", AccessKeyID: "ak", Timestamp: "1"}
	pass, _ := vendorauth.Sign(id, "sk")
	user := "c1|authMode=aksign,signMethod=hmacsha1,timestamp=1,authId=ak,consumerGroupId=" + long + "|"
	if c, err := goamqp.Dial(ctx, "amqp://"+em.addr, &goamqp.ConnOptions{SASLType: goamqp.SASLTypePlain(user, pass)}); err == nil {
		s, err := c.NewSession(ctx, nil)
		if err == nil {
			_, err = s.NewReceiver(ctx, "default", nil)
		}
		if err == nil {
			t.Error("a signed connection bound to a 5000-character group id attached a receiver")
		}
		c.Close()
	}

	// Everything still works.
	waitHealthz(t, em.http, http.StatusOK)
	out, err := exec.Command(bin, "publish", "--server", "http://"+em.http, "--product", "pk", "--device", "d", "still here").CombinedOutput()
	if err != nil {
		t.Fatalf("publish after the long names: %v\n%s", err, out)
	}
	rcv, err := sess.NewReceiver(ctx, "DEFAULT_GROUP", nil)
	if err != nil {
		t.Fatalf("attach after the long names: %v", err)
	}
	m, err := rcv.Receive(ctx, nil)
	if err != nil || string(m.GetData()) != "still here" {
		t.Fatalf("receive after the long names: %v %v", m, err)
	}
	rcv.AcceptMessage(ctx, m)
}
