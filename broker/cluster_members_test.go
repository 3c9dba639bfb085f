package broker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clusterPair opens two brokers on an external three-node NATS cluster,
// Replicas 3, as two amqpemu nodes behind one engine.
func clusterPair(t *testing.T, mod func(*Config)) []*Broker {
	t.Helper()
	_, urls := natsCluster(t, 3)
	cfgs := []Config{{NATSURLs: urls, Replicas: 3, ServerName: "a"}, {NATSURLs: urls, Replicas: 3, ServerName: "b"}}
	for i := range cfgs {
		if mod != nil {
			mod(&cfgs[i])
		}
	}
	bs := openTogether(t, cfgs)
	waitFor(t, func() bool { return len(bs[0].Nodes()) == 2 && len(bs[1].Nodes()) == 2 })
	return bs
}

// joinAs joins group id on b as client, with credit, leaving at cleanup.
func joinAs(t *testing.T, b *Broker, id, client string, credit int) (*Member, inbox, error) {
	t.Helper()
	in := make(inbox, 10000)
	m, err := b.Join(ctxT(t), id, MemberInfo{ClientID: client, Address: "127.0.0.1:1"}, in)
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(m.Leave)
	m.Credit(credit)
	return m, in, nil
}

// The limit of online clients holds across nodes: of 2×40 clients joining
// one group at once on two nodes, exactly MaxMembers (64) get in, the rest
// are refused with ErrTooManyMembers; one leaving on one node makes room
// for one on the other.
func TestClusterMemberLimitRace(t *testing.T) {
	bs := clusterPair(t, nil)
	const perNode = 40
	var admitted atomic.Int32
	var mu sync.Mutex
	var members []*Member
	var wg sync.WaitGroup
	errs := make(chan error, 2*perNode)
	for _, b := range bs {
		for i := range perNode {
			wg.Go(func() {
				m, _, err := joinAs(t, b, DefaultGroupID, fmt.Sprintf("%s-%d", b.Node(), i), 1)
				if err != nil {
					errs <- err
					return
				}
				admitted.Add(1)
				mu.Lock()
				members = append(members, m)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrTooManyMembers) {
			t.Fatalf("a join failed otherwise: %v", err)
		}
	}
	if n := admitted.Load(); n != 64 {
		t.Fatalf("%d clients admitted across two nodes, want 64", n)
	}
	var onA int
	for _, m := range members {
		if m.g.b == bs[0] {
			onA++
		}
	}
	t.Logf("admitted 64 of %d: %d on node a, %d on node b", 2*perNode, onA, 64-onA)
	for _, b := range bs {
		if _, _, err := joinAs(t, b, DefaultGroupID, "65th", 1); !errors.Is(err, ErrTooManyMembers) {
			t.Fatalf("65th client on node %s: %v, want ErrTooManyMembers", b.Node(), err)
		}
	}
	// One leaves on a, and one joins on b.
	var leaver *Member
	for _, m := range members {
		if m.g.b == bs[0] {
			leaver = m
			break
		}
	}
	if leaver == nil {
		t.Fatal("no member on node a")
	}
	leaver.Leave()
	if _, _, err := joinAs(t, bs[1], DefaultGroupID, "after-leave", 1); err != nil {
		t.Fatalf("joining after one left: %v", err)
	}
}

// A node that dies keeps its slots only until the member TTL frees them.
func TestClusterSlotsFreedWhenNodeDies(t *testing.T) {
	bs := clusterPair(t, func(c *Config) { c.MaxMembers = 2; c.MemberTTL = 2 * time.Second })
	for i := range 2 {
		if _, _, err := joinAs(t, bs[0], DefaultGroupID, fmt.Sprint("a", i), 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := joinAs(t, bs[1], DefaultGroupID, "b0", 1); !errors.Is(err, ErrTooManyMembers) {
		t.Fatalf("third client while two are online: %v", err)
	}
	start := time.Now()
	crash(bs[0])
	for attempt := 1; ; attempt++ {
		began := time.Now()
		_, _, err := joinAs(t, bs[1], DefaultGroupID, "b0", 1)
		if err == nil {
			break
		}
		if took := time.Since(began); took > time.Second {
			t.Logf("join attempt %d took %v: %v", attempt, took.Round(time.Millisecond), err)
		}
		if !errors.Is(err, ErrTooManyMembers) || time.Since(start) > 20*time.Second {
			t.Fatalf("join attempt %d, %v after node a died: %v", attempt, time.Since(start).Round(time.Millisecond), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("a dead node's slots were free again after %v (member TTL 2s)", time.Since(start).Round(100*time.Millisecond))
	waitFor(t, func() bool { return len(bs[1].Nodes()) == 1 })
}

// crash stops b as a killed process would: nothing is handed back, no
// slot released, no record removed; the engine connection just goes.
func crash(b *Broker) {
	b.mu.Lock()
	b.closed = true
	rts := make([]*dispatcher, 0, len(b.runtimes))
	for _, g := range b.runtimes {
		rts = append(rts, g)
	}
	b.mu.Unlock()
	close(b.quit)
	b.e().nc.Close()
	for _, g := range rts {
		g.cancel()
		<-g.done
	}
	<-b.keepDone
	<-b.superDone
	<-b.acksDone
}

// Whichever node is asked, a group's status is the cluster's: the clients
// of both nodes, each with its node, and the consumption of both.
func TestClusterStatusAggregated(t *testing.T) {
	bs := clusterPair(t, nil)
	ma, ina, err := joinAs(t, bs[0], DefaultGroupID, "on-a", 100)
	if err != nil {
		t.Fatal(err)
	}
	mb, inb, err := joinAs(t, bs[1], DefaultGroupID, "on-b", 100)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, bs[0], "pkS", 40)
	got := 0
	deadline := time.After(20 * time.Second)
	for got < 40 {
		select {
		case d := <-ina:
			ma.Settle(d.Token, Ack)
		case d := <-inb:
			mb.Settle(d.Token, Ack)
		case <-deadline:
			t.Fatalf("%d of 40 delivered", got)
		}
		got++
	}
	waitBacklog(t, bs[1], DefaultGroupID, 0)
	for _, b := range bs {
		st, err := b.GroupStats(ctxT(t), DefaultGroupID)
		if err != nil {
			t.Fatal(err)
		}
		var who []string
		for _, c := range st.Clients {
			who = append(who, c.ClientID+"@"+c.Node)
		}
		slices.Sort(who)
		if !slices.Equal(who, []string{"on-a@a", "on-b@b"}) {
			t.Fatalf("status from node %s: clients %v", b.Node(), who)
		}
		if st.RealtimeRate+st.BacklogRate != 40 || st.LastConsumedAt.IsZero() {
			t.Fatalf("status from node %s: realtime %d + backlog %d, want 40 in all; last consumed %v",
				b.Node(), st.RealtimeRate, st.BacklogRate, st.LastConsumedAt)
		}
	}
}

// Each message goes to a member chosen at random among all the cluster's:
// with one member on node a and three on node b, each gets about a quarter,
// not node a's member half.
func TestClusterSpreadOverMembers(t *testing.T) {
	bs := clusterPair(t, nil)
	type member struct {
		m  *Member
		in inbox
		n  int
	}
	var ms []*member
	for i, b := range []*Broker{bs[0], bs[1], bs[1], bs[1]} {
		// Credit for every message: the choice is never narrowed by a
		// member that has none left (how fast each acks).
		m, in, err := joinAs(t, b, DefaultGroupID, fmt.Sprint("m", i), 2000)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, &member{m: m, in: in})
	}
	take := func(x *member, d Delivery) {
		x.n++
		x.m.Settle(d.Token, Ack)
	}
	// Real-time traffic, ten messages at a time, each ten delivered
	// before the next: the members' requests wait when messages arrive.
	// (Draining a backlog, the split across nodes also follows how soon
	// each asks again: within ±30% of even in our runs.)
	const total, burst = 2000, 10
	deadline := time.After(60 * time.Second)
	for sent := 0; sent < total; sent += burst {
		publish(t, bs[0], "pkR", burst)
		for range burst {
			select {
			case d := <-ms[0].in:
				take(ms[0], d)
			case d := <-ms[1].in:
				take(ms[1], d)
			case d := <-ms[2].in:
				take(ms[2], d)
			case d := <-ms[3].in:
				take(ms[3], d)
			case <-deadline:
				t.Fatalf("%d of %d sent, not all delivered", sent+burst, total)
			}
		}
	}
	// Binomial(total, 1/4): a member's count is within 5 standard
	// deviations of total/4 but for a chance of about 1e-6.
	sd := math.Sqrt(total * 0.25 * 0.75)
	var counts []int
	for _, x := range ms {
		counts = append(counts, x.n)
	}
	t.Logf("member on a: %d; members on b: %v (expected %d ± %.0f each)", counts[0], counts[1:], total/4, 5*sd)
	for i, n := range counts {
		if math.Abs(float64(n)-total/4) > 5*sd {
			t.Errorf("member %d got %d of %d, want %d ± %.0f", i, n, total, total/4, 5*sd)
		}
	}
}

// A node whose last member left keeps nothing: what its requests still
// bring goes back at once, to the members on the other node, not after
// the ack timeout.
func TestClusterLastMemberLeavesNothingStranded(t *testing.T) {
	bs := clusterPair(t, nil) // ack timeout 30 s
	ma, _, err := joinAs(t, bs[0], DefaultGroupID, "leaves", 100)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { // its requests are out
		g := bs[0].live(consumerName(DefaultGroupID))
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.live) > 0
	})
	ma.Leave()
	mb, inb, err := joinAs(t, bs[1], DefaultGroupID, "stays", 100)
	if err != nil {
		t.Fatal(err)
	}
	ids := publish(t, bs[0], "pkL", 20)
	got := map[string]bool{}
	deadline := time.After(5 * time.Second)
	for len(got) < len(ids) {
		select {
		case d := <-inb:
			got[d.Message.MessageID] = true
			mb.Settle(d.Token, Ack)
		case <-deadline:
			t.Fatalf("%d of %d reached the member on the other node within 5s", len(got), len(ids))
		}
	}
}

// A node whose JetStream cluster lost its quorum cannot renew its slots:
// it stops reporting itself healthy within the member TTL, although its
// connection to a surviving NATS server is up.
func TestClusterHealthyNeedsQuorum(t *testing.T) {
	nss, urls := natsCluster(t, 3)
	bs := openTogether(t, []Config{{NATSURLs: urls[:1], Replicas: 3, MemberTTL: 1500 * time.Millisecond}})
	if !bs[0].Healthy() {
		t.Fatal("not healthy at the start")
	}
	nss[1].Shutdown()
	nss[2].Shutdown()
	start := time.Now()
	waitFor(t, func() bool { return !bs[0].Healthy() })
	t.Logf("unhealthy %v after losing the quorum (member TTL 1.5s); connected: %v", time.Since(start).Round(100*time.Millisecond), bs[0].connected())
}

// Listing a group's slots ends even when slots expire while it runs. A
// watch started just before its keys' TTL ends has counted them but never
// gets them, and nats.go's watcher then never says its listing is done
// (readKeys). Two listers list back to back while two slots expire, round
// after round; each listing must end, well within its deadline.
func TestSlotListingsEndWhileSlotsExpire(t *testing.T) {
	_, urls := natsCluster(t, 3)
	b := openTogether(t, []Config{{NATSURLs: urls[:1], MemberTTL: 300 * time.Millisecond}})[0]
	const rounds = 12
	var listings, slow atomic.Int32
	for round := range rounds {
		for i := range 2 {
			if _, err := b.e().members.Put(ctxT(t), slotPrefix("zz")+fmt.Sprint(i), []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
		}
		var gone atomic.Bool
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for !gone.Load() && !t.Failed() {
					ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
					began := time.Now()
					held, err := b.slotHolders(ctx, "zz")
					cancel()
					if err != nil {
						t.Errorf("round %d: listing the slots: %v after %v", round, err, time.Since(began).Round(time.Millisecond))
						return
					}
					listings.Add(1)
					if time.Since(began) > 400*time.Millisecond {
						slow.Add(1)
					}
					if len(held) == 0 {
						gone.Store(true)
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
	}
	t.Logf("%d listings across %d expiries; %d took over 400 ms (stalled, started again)", listings.Load(), rounds, slow.Load())
}
