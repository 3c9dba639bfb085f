// Package natstest starts NATS JetStream clusters in a test's process, on
// loopback ports, for the tests of the packages that run on one.
package natstest

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// FreePorts picks n free TCP ports on 127.0.0.1. The nodes of a cluster
// must know each other's route ports before any starts; the ports are
// released for them just before they start.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	lns := make([]net.Listener, n)
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i], ports[i] = ln, ln.Addr().(*net.TCPAddr).Port
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// RoutesTo lists nats-route URLs of ports on 127.0.0.1.
func RoutesTo(ports []int) []string {
	out := make([]string, len(ports))
	for i, p := range ports {
		out[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", p)
	}
	return out
}

// Cluster starts n nats-server JetStream nodes (s0, s1, …) clustered over
// loopback, shut down with the test, and returns them with their client
// URLs once all accept connections.
func Cluster(t testing.TB, n int) ([]*server.Server, []string) {
	t.Helper()
	ports := FreePorts(t, n)
	routes := strings.Join(RoutesTo(ports), ",")
	base := t.TempDir()
	nss := make([]*server.Server, n)
	urls := make([]string, n)
	for i := range nss {
		ns, err := server.NewServer(&server.Options{ServerName: fmt.Sprintf("s%d", i), Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: filepath.Join(base, fmt.Sprintf("s%d", i)), NoSigs: true, NoLog: true,
			JetStreamLimits: server.JSLimitOpts{DefaultMaxConsumers: -1},
			Cluster:         server.ClusterOpts{Name: "ext", Host: "127.0.0.1", Port: ports[i]},
			Routes:          server.RoutesFromStr(routes)})
		if err != nil {
			t.Fatal(err)
		}
		go ns.Start()
		t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
		nss[i] = ns
	}
	for i, ns := range nss {
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatalf("nats-server s%d not ready", i)
		}
		urls[i] = ns.ClientURL()
	}
	return nss, urls
}

// Server starts one nats-server JetStream node on loopback, shut down with
// the test, and returns it once it accepts connections.
func Server(t testing.TB) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoSigs: true, NoLog: true, JetStreamLimits: server.JSLimitOpts{DefaultMaxConsumers: -1}})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return ns
}
