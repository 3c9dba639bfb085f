package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/internal/natstest"
)

var (
	freePorts = natstest.FreePorts
	routesTo  = natstest.RoutesTo
)

// openTogether opens one broker per config at the same time, as nodes
// started together do, and fails unless every one opens.
func openTogether(t *testing.T, cfgs []Config) []*Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bs := make([]*Broker, len(cfgs))
	errs := make([]error, len(cfgs))
	var wg sync.WaitGroup
	start := time.Now()
	for i, cfg := range cfgs {
		cfg.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).With().Int("node", i).Logger()
		wg.Go(func() { bs[i], errs[i] = Open(ctx, cfg) })
	}
	wg.Wait()
	t.Logf("%d brokers opened together in %v", len(cfgs), time.Since(start).Round(time.Millisecond))
	for i, b := range bs {
		if b != nil {
			t.Cleanup(func() { b.Close(context.Background()) })
		}
		if errs[i] != nil {
			t.Fatalf("broker %d: %v", i, errs[i])
		}
	}
	return bs
}

// embeddedCluster opens n brokers whose embedded servers form one JetStream
// cluster, routed to each other, with the given replicas.
func embeddedCluster(t *testing.T, n, replicas int) []*Broker {
	t.Helper()
	ports := freePorts(t, n)
	cfgs := make([]Config, n)
	for i := range cfgs {
		cfgs[i] = Config{DataDir: t.TempDir(), Replicas: replicas,
			ServerName: fmt.Sprintf("n%d", i), ClusterName: "test", ClusterListen: fmt.Sprintf("127.0.0.1:%d", ports[i]),
			Routes: routesTo(ports)}
	}
	return openTogether(t, cfgs)
}

// natsCluster starts n nats-server JetStream nodes in this process,
// clustered over loopback, and returns them with their client URLs.
func natsCluster(t *testing.T, n int) ([]*server.Server, []string) { return natstest.Cluster(t, n) }

// waitGroupSeen waits until b knows group id: KV reads on a replicated
// bucket may come from a replica a moment behind the leader.
func waitGroupSeen(t *testing.T, b *Broker, id string) {
	t.Helper()
	waitFor(t, func() bool { _, err := b.Group(ctxT(t), id); return err == nil })
}

// assetReplicas is the replica count of the stream and of group id's consumer.
func assetReplicas(t *testing.T, b *Broker, id string) (stream, consumer int) {
	t.Helper()
	si, err := b.e().stream.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	c, err := b.e().stream.Consumer(ctxT(t), consumerName(id))
	if err != nil {
		t.Fatal(err)
	}
	ci, err := c.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	consumer = ci.Config.Replicas
	if consumer == 0 { // inherits the stream's
		consumer = 1 + len(ci.Cluster.Replicas)
	}
	return si.Config.Replicas, consumer
}

// crossNodes checks, on brokers that share one JetStream, that a group made
// through the first is seen by all, and that a device message published
// through the first is delivered to and acknowledged by a member on the
// second, the backlog emptying as the last one sees it.
func crossNodes(t *testing.T, bs []*Broker) {
	t.Helper()
	ctx := ctxT(t)
	g, err := bs[0].CreateGroup(ctx, "cluster_wide")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs[1:] {
		waitGroupSeen(t, b, g.ID)
	}
	if err := bs[0].SetSubscription(ctx, "pkC", Subscription{Groups: []string{g.ID}}); err != nil {
		t.Fatal(err)
	}
	m, in := join(t, bs[1], g.ID, 10)
	ids := publish(t, bs[0], "pkC", 3)
	for _, id := range ids {
		d := in.next(t)
		if d.Message.MessageID != id || d.Message.ProductKey != "pkC" {
			t.Fatalf("got %s of %s, want %s", d.Message.MessageID, d.Message.ProductKey, id)
		}
		m.Settle(d.Token, Ack)
	}
	waitBacklog(t, bs[len(bs)-1], g.ID, 0)
}

// Three brokers, each an embedded clustered JetStream node routed to the
// others, start together with Replicas 3 and act as one emulator.
func TestEmbeddedCluster(t *testing.T) {
	bs := embeddedCluster(t, 3, 3)
	// DEFAULT_GROUP was created once, whoever won: one record, one id base.
	for i, b := range bs {
		if b.e().idBase != bs[0].e().idBase {
			t.Fatalf("node %d has message id base %d, node 0 %d", i, b.e().idBase, bs[0].e().idBase)
		}
	}
	crossNodes(t, bs)
	if s, c := assetReplicas(t, bs[2], DefaultGroupID); s != 3 || c != 3 {
		t.Fatalf("stream R%d, DEFAULT_GROUP's consumer R%d; want R3", s, c)
	}
	for _, bucket := range []string{groupsBucket, subsBucket} {
		kv, err := bs[1].e().js.KeyValue(ctxT(t), bucket)
		if err != nil {
			t.Fatal(err)
		}
		st, err := kv.Status(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if c := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config; c.Replicas != 3 || c.AllowDirect {
			t.Fatalf("bucket %s: R%d, direct gets %v; want R3 read through its leader", bucket, c.Replicas, c.AllowDirect)
		}
	}
	// A state bucket made later gets the replicas too.
	sb := bs[2].StateBucket("later")
	if err := sb.Put(ctxT(t), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	si, err := bs[0].e().js.Stream(ctxT(t), "KV_"+stateBucketPrefix+"later")
	if err != nil {
		t.Fatal(err)
	}
	if r := si.CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("state bucket R%d, want R3", r)
	}
}

// Two brokers on an external three-node NATS cluster, each given the URLs
// of all three, start together with Replicas 3 and share groups.
func TestExternalCluster(t *testing.T) {
	_, urls := natsCluster(t, 3)
	bs := openTogether(t, []Config{{NATSURLs: urls, Replicas: 3}, {NATSURLs: urls, Replicas: 3}})
	crossNodes(t, bs)
	if s, c := assetReplicas(t, bs[1], DefaultGroupID); s != 3 || c != 3 {
		t.Fatalf("stream R%d, DEFAULT_GROUP's consumer R%d; want R3", s, c)
	}
}

// Node loss: on an external three-node cluster with Replicas 3, the leader
// of the stream is shut down while a broker publishes; a member on another
// broker keeps consuming, and receives every message whose publish was
// acknowledged (lost = 0; duplicates are allowed: at least once).
func TestClusterNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("node loss: an election and a reconnect")
	}
	const total, batch, killAt = 300, 10, 100
	nss, urls := natsCluster(t, 3)
	bs := openTogether(t, []Config{{NATSURLs: urls, Replicas: 3, AckTimeout: 3 * time.Second},
		{NATSURLs: urls, Replicas: 3, AckTimeout: 3 * time.Second}})
	pub, sub := bs[0], bs[1]
	m, in := join(t, sub, DefaultGroupID, 50)

	si, err := pub.e().stream.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var victim *server.Server
	for _, ns := range nss {
		if ns.Name() == si.Cluster.Leader {
			victim = ns
		}
	}
	if victim == nil {
		t.Fatalf("stream leader %q is none of the servers", si.Cluster.Leader)
	}

	conns := fmt.Sprintf("publisher on %s, member's broker on %s", pub.e().nc.ConnectedServerName(), sub.e().nc.ConnectedServerName())
	acked := make(map[string]bool)
	failed := 0
	pubDone := make(chan struct{})
	go func() { // the publisher: batches until total are acknowledged or time is up
		defer close(pubDone)
		deadline := time.Now().Add(60 * time.Second)
		killed := false
		for len(acked) < total && time.Now().Before(deadline) {
			if !killed && len(acked) >= killAt {
				victim.Shutdown() // mid-traffic: graceful, as a stopped container is
				killed = true
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			msgs := make([]DeviceMessage, batch)
			for i := range msgs {
				msgs[i] = DeviceMessage{ProductKey: "pkL", DeviceName: "d", Payload: []byte("x")}
			}
			ids, err := pub.Publish(ctx, msgs...)
			cancel()
			if err != nil {
				failed++ // not acknowledged: may or may not be stored, need not arrive
				continue
			}
			for _, id := range ids {
				acked[id] = true
			}
		}
	}()

	received := make(map[string]int)
	lost := func() int { // only once pubDone: acked is the publisher's until then
		n := 0
		for id := range acked {
			if received[id] == 0 {
				n++
			}
		}
		return n
	}
	deadline := time.NewTimer(90 * time.Second)
	defer deadline.Stop()
	published := false
	for !published || lost() > 0 {
		select {
		case d := <-in:
			received[d.Message.MessageID]++
			m.Settle(d.Token, Ack)
			m.Credit(1) // as a STOMP client's ack makes room for one more
		case <-pubDone:
			published, pubDone = true, nil
		case <-deadline.C:
			if !published {
				t.Fatal("the publisher did not finish within 90s")
			}
			t.Fatalf("lost %d of %d acknowledged messages (received %d distinct)", lost(), len(acked), len(received))
		}
	}
	dups := 0
	for _, n := range received {
		dups += n - 1
	}
	t.Logf("killed %s (stream leader; %s) after %d acked; acked %d, failed batches %d, received %d distinct, %d duplicates, lost %d",
		victim.Name(), conns, killAt, len(acked), failed, len(received), dups, lost())
	if len(acked) < total {
		t.Errorf("only %d of %d publishes acknowledged within the time", len(acked), total)
	}
}

// A clustered node whose peers never come up has no meta leader: Open
// gives up when its context ends, saying why, and leaves nothing running.
func TestClusterNoQuorum(t *testing.T) {
	ports := freePorts(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := Open(ctx, Config{DataDir: t.TempDir(), Replicas: 3, ServerName: "alone",
		ClusterListen: fmt.Sprintf("127.0.0.1:%d", ports[0]), Routes: routesTo(ports),
		Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.Disabled)})
	if err == nil || !strings.Contains(err.Error(), "no meta leader") {
		t.Fatalf("Open of a lone node: %v", err)
	}
	if waited := time.Since(start); waited > 15*time.Second {
		t.Fatalf("Open took %v with a 3s context", waited)
	}
	t.Log(err)
}

// Clustering settings that cannot work are refused before anything starts.
func TestClusterConfigRefused(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{DataDir: "x", Replicas: 6}, "Replicas 6: want 1 to 5"},
		{Config{DataDir: "x", Replicas: 3}, "Replicas 3 needs a JetStream cluster"},
		{Config{DataDir: "x", Routes: []string{"nats-route://a:1"}}, "Routes need ClusterListen"},
		{Config{DataDir: "x", ClusterListen: "127.0.0.1:1"}, "needs a ServerName"},
		{Config{DataDir: "x", ServerName: "n", ClusterListen: "nope"}, "ClusterListen \"nope\""},
		{Config{DataDir: "x", ServerName: "n", ClusterListen: ":1", Routes: []string{"a:1"}}, "want nats-route://host:port"},
		{Config{NATSURLs: []string{"nats://a:1"}, ClusterListen: ":1"}, "with NATSURLs the cluster is the external one"},
	} {
		_, err := Open(ctxT(t), tc.cfg)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want ErrConfig with %q", tc.cfg, err, tc.want)
		}
	}
}

// Groups are created, subscribed, unsubscribed and some deleted while the
// leaders of the buckets and of the stream keep moving: each call waits out
// the election rather than failing with a timeout, and each group is stored
// once.
func TestGroupOpsThroughElections(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	bs := embeddedCluster(t, 3, 3)
	// Each call waits out elections for at most electionWait; twelve in a
	// row on a loaded machine need more than ctxT's 30 s in all.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // the leaders step down, one asset after the other
		assets := []string{"KV_" + groupsBucket, streamName, "KV_" + subsBucket}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
			subj := "$JS.API.STREAM.LEADER.STEPDOWN." + assets[i%len(assets)]
			if _, err := bs[i%len(bs)].e().nc.Request(subj, nil, 2*time.Second); err != nil {
				t.Logf("%s: %v", subj, err)
			}
		}
	})
	kept := 0
	start := time.Now()
	for i := range 12 {
		if err := groupOps(ctx, bs[i%len(bs)], i); err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("group %d: %v", i, err)
		}
		kept += i % 2
	}
	close(stop)
	wg.Wait()
	t.Logf("12 groups made and 6 deleted in %v", time.Since(start).Round(time.Millisecond))
	groups, err := bs[0].Groups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != kept+1 { // and DEFAULT_GROUP
		t.Fatalf("%d groups, want %d and DEFAULT_GROUP", len(groups), kept)
	}
}

// groupOps creates group i, subscribes it to a product and unsubscribes it,
// and deletes it when i is even.
func groupOps(ctx context.Context, b *Broker, i int) error {
	g, err := b.CreateGroup(ctx, fmt.Sprintf("moving_%d", i))
	if err != nil {
		return err
	}
	pk := fmt.Sprintf("pkMoving%d", i)
	if err := b.SetSubscription(ctx, pk, Subscription{Groups: []string{g.ID}}); err != nil {
		return err
	}
	if err := b.DeleteSubscription(ctx, pk); err != nil {
		return err
	}
	if i%2 == 0 {
		return b.DeleteGroup(ctx, g.ID)
	}
	return nil
}
