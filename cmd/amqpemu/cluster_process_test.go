package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"

	"github.com/amqpemu/amqpemu/internal/natstest"
)

// ledger is what a test published (accepted by the HTTP API) and what
// its receivers got, to count the lost.
type ledger struct {
	tag      string
	n        int
	sent     map[string]bool
	received map[string]int
	retries  int // publishes and attaches the engine's absence made a client repeat
}

func newLedger(tag string) *ledger {
	return &ledger{tag: tag, sent: map[string]bool{}, received: map[string]int{}}
}

// publish sends n device messages through em's HTTP API; they count as
// sent once it answers 202.
func (l *ledger) publish(t *testing.T, em *emulator, n int) {
	t.Helper()
	msgs := make([]map[string]string, n)
	bodies := make([]string, n)
	for i := range msgs {
		bodies[i] = fmt.Sprintf("%s-%d", l.tag, l.n)
		l.n++
		msgs[i] = map[string]string{"productKey": "pkK", "deviceName": "d1", "payload": bodies[i]}
	}
	// A 503 (the engine away for a moment, as during an election) is for
	// the client to send again, as a device's client would.
	deadline := time.Now().Add(15 * time.Second)
	for {
		code := restJSON(t, "POST", em.http, "/api/v1/messages", msgs, nil)
		if code == http.StatusAccepted {
			break
		}
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("publishing through %s: %d", em.http, code)
		}
		l.retries++
		t.Logf("publishing through %s: 503, sending again", em.http)
		time.Sleep(200 * time.Millisecond) // as a client backs off
	}
	for _, b := range bodies {
		l.sent[b] = true
	}
}

// missing counts the sent messages not received yet.
func (l *ledger) missing() int {
	n := 0
	for b := range l.sent {
		if l.received[b] == 0 {
			n++
		}
	}
	return n
}

// take records a received message; it reports whether it is the test's.
func (l *ledger) take(m *goamqp.Message) bool {
	body := string(m.GetData())
	if !strings.HasPrefix(body, l.tag+"-") {
		return false
	}
	l.received[body]++
	return true
}

// drain receives from DEFAULT_GROUP on em, accepting each message, until
// nothing sent is missing. It attaches again when em says the engine is
// away (a JetStream election after a node left), as a client reconnects.
func (l *ledger) drain(t *testing.T, em *emulator) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		err := l.receive(t, ctx, em)
		if err == nil {
			return
		}
		if !strings.Contains(err.Error(), "engine unavailable") || ctx.Err() != nil {
			t.Fatalf("receiving on %s with %d of %d missing: %v", em.addr, l.missing(), len(l.sent), err)
		}
		l.retries++
		t.Logf("receiving on %s: %v; attaching again", em.addr, err)
		time.Sleep(200 * time.Millisecond) // as a client backs off
	}
}

// receive attaches one receiver on em and takes messages until nothing
// sent is missing or the link fails.
func (l *ledger) receive(t *testing.T, ctx context.Context, em *emulator) error {
	rcv, err := amqpSession(t, ctx, em.addr).NewReceiver(ctx, "DEFAULT_GROUP", &goamqp.ReceiverOptions{Credit: 50})
	if err != nil {
		return err
	}
	defer rcv.Close(context.Background())
	for l.missing() > 0 {
		m, err := rcv.Receive(ctx, nil)
		if err != nil {
			return err
		}
		l.take(m)
		if err := rcv.AcceptMessage(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// An amqpemu node is killed (SIGKILL) while its client holds unsettled
// messages: they are redelivered to a client of the other node after the
// ack timeout, and the dead node's client no longer counts.
func TestClusterNodeKilledRedelivers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	_, urls := natstest.Cluster(t, 3)
	bin := buildBinary(t)
	flags := []string{"--nats-url", strings.Join(urls, ","), "--replicas", "3", "--ack-timeout", "3s", "--member-ttl", "3s"}
	wa := launchEmulator(t, bin, t.TempDir(), nil, append(flags, "--server-name", "node-a")...)
	wb := launchEmulator(t, bin, t.TempDir(), nil, append(flags, "--server-name", "node-b")...)
	a, b := wa(t), wb(t)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const n = 20
	holder, err := amqpSession(t, ctx, a.addr).NewReceiver(ctx, "DEFAULT_GROUP", &goamqp.ReceiverOptions{Credit: n})
	if err != nil {
		t.Fatal(err)
	}
	waitClients(t, b, []string{"node-a"})
	l := newLedger(fmt.Sprintf("kill%d", time.Now().UnixNano()%1e9))
	l.publish(t, b, n)
	for held := 0; held < n; { // received on a, never settled
		m, err := holder.Receive(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if l.take(m) {
			held++
		}
	}
	clear(l.received)

	killed := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.cmd.Wait()
	waitClients(t, b, nil) // the dead node does not answer for its client
	l.drain(t, b)
	t.Logf("%d messages unsettled on the killed node redelivered on the other %v after the kill (ack timeout 3s)",
		n, time.Since(killed).Round(100*time.Millisecond))
}

// waitClients waits until the status of DEFAULT_GROUP through em lists
// clients on exactly the given nodes.
func waitClients(t *testing.T, em *emulator, nodes []string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st struct{ Clients []struct{ Node string } }
		restJSON(t, "GET", em.http, "/api/v1/groups/DEFAULT_GROUP/status", nil, &st)
		var got []string
		for _, c := range st.Clients {
			got = append(got, c.Node)
		}
		if fmt.Sprint(got) == fmt.Sprint(nodes) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("clients of DEFAULT_GROUP through %s are on %v, want %v", em.http, got, nodes)
		}
		time.Sleep(100 * time.Millisecond) // polling a status
	}
}

// Three self-clustered amqpemu nodes (Replicas 3) are restarted one at a
// time, with messages published and consumed through the others while
// each is down and through it once it is back: none is lost.
func TestClusterRollingRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	const nodes = 3
	ports := natstest.FreePorts(t, nodes)
	routes := strings.Join(natstest.RoutesTo(ports), ",")
	bin := buildBinary(t)
	dirs := make([]string, nodes)
	args := make([][]string, nodes)
	waits := make([]func(*testing.T) *emulator, nodes)
	for i := range nodes {
		dirs[i] = t.TempDir()
		args[i] = []string{"--server-name", fmt.Sprint("n", i), "--cluster-listen", fmt.Sprintf("127.0.0.1:%d", ports[i]),
			"--routes", routes, "--replicas", "3", "--ack-timeout", "5s"}
		waits[i] = launchEmulator(t, bin, dirs[i], nil, args[i]...)
	}
	ems := make([]*emulator, nodes)
	for i, wait := range waits {
		ems[i] = wait(t)
	}
	l := newLedger(fmt.Sprintf("roll%d", time.Now().UnixNano()%1e9))
	for i := range nodes {
		next, other := ems[(i+1)%nodes], ems[(i+2)%nodes]
		l.publish(t, next, 30)
		start := time.Now()
		if err := ems[i].cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		ems[i].cmd.Wait()
		l.publish(t, other, 30) // while node i is down
		l.drain(t, next)
		ems[i] = launchEmulator(t, bin, dirs[i], nil, args[i]...)(t)
		t.Logf("node n%d restarted in %v; meanwhile %d messages went through the others", i, time.Since(start).Round(100*time.Millisecond), 30)
		l.publish(t, ems[i], 30)
		l.drain(t, ems[i])
	}
	dups := 0
	for _, c := range l.received {
		dups += c - 1
	}
	t.Logf("rolling restart of %d nodes: %d sent, %d received, %d duplicates, lost %d, %d publishes or attaches repeated",
		nodes, len(l.sent), len(l.received), dups, l.missing(), l.retries)
}
