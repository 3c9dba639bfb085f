package main

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
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

// /healthz fails while the engine is unreachable and recovers with it.
func TestHealthzFollowsEngine(t *testing.T) {
	store := t.TempDir()
	ns := startNATS(t, -1, store)
	_, port, _ := net.SplitHostPort(ns.Addr().String())
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir(), "--nats-url", ns.ClientURL())
	waitHealthz(t, em.http, http.StatusOK)

	ns.Shutdown()
	ns.WaitForShutdown()
	waitHealthz(t, em.http, http.StatusServiceUnavailable)
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
