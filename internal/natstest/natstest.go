// Package natstest starts NATS JetStream clusters in a test's process, on
// loopback ports, for the tests of the packages that run on one.
package natstest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// FreePorts picks n distinct free TCP ports on 127.0.0.1. The nodes of a
// cluster must know each other's route ports before any starts, so the
// ports are free when picked, not held. They are picked below Linux's
// ephemeral range (32768–60999): a port there may be handed by the kernel
// to another test's listener on :0, or to the local end of an outgoing
// connection, between the pick and the node's start.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	const low, high = 20000, 32768
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries == 1000 {
			t.Fatalf("no %d free ports on 127.0.0.1 in %d–%d after %d tries", n, low, high-1, tries)
		}
		p := low + rand.IntN(high-low)
		if slices.Contains(ports, p) {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue // in use
		}
		ln.Close()
		ports = append(ports, p)
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
