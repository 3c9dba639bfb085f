package kafka

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/amqpemu/amqpemu/broker"
)

// env is a broker and a Kafka listener on loopback.
type env struct {
	b    *broker.Broker
	s    *Server
	addr string
}

func start(t *testing.T) *env { t.Helper(); return startTB(t) }

func startB(b *testing.B) *env { return startTB(b) }

func startTB(t testing.TB, mod ...func(*Config)) *env {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := broker.Open(ctx, broker.Config{DataDir: t.TempDir(), Logger: log.Level(zerolog.WarnLevel)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Backend: b, Logger: log}
	for _, m := range mod {
		m(&cfg)
	}
	s := NewServer(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
		b.Close(ctx)
	})
	return &env{b: b, s: s, addr: ln.Addr().String()}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// publish sends n device messages of product pk from devices d0…d(devs-1).
func (e *env) publish(t *testing.T, pk string, n, devs int) {
	t.Helper()
	var msgs []broker.DeviceMessage
	for i := range n {
		msgs = append(msgs, broker.DeviceMessage{ProductKey: pk, DeviceName: fmt.Sprintf("d%d", i%devs), Payload: fmt.Appendf(nil, "m%d", i)})
	}
	if _, err := e.b.Publish(ctxT(t, 10*time.Second), msgs...); err != nil {
		t.Fatal(err)
	}
}

func (e *env) client(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.addr), kgo.RetryTimeout(5 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func groupOpts(group, topic string) []kgo.Opt {
	return []kgo.Opt{kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(2 * time.Second), kgo.HeartbeatInterval(200 * time.Millisecond), kgo.RebalanceTimeout(5 * time.Second),
		kgo.FetchMaxWait(500 * time.Millisecond)}
}

// consume polls until n records came or ctx ends.
func consume(t *testing.T, ctx context.Context, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("got %d records of %d: %v", len(out), n, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch error %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func TestGroupConsumesDeviceMessagesAndCommits(t *testing.T) {
	e := start(t)
	e.publish(t, "pkA", 30, 5)
	cl := e.client(t, groupOpts("g1", "pkA")...)
	ctx := ctxT(t, 30*time.Second)
	recs := consume(t, ctx, cl, 30)
	perDevice := map[string]int{}
	for _, r := range recs {
		if r.Topic != "pkA" {
			t.Fatalf("topic %q", r.Topic)
		}
		if want := broker.DevicePartition(string(r.Key), broker.DefaultPartitions); r.Partition != want {
			t.Fatalf("device %s in partition %d, want %d", r.Key, r.Partition, want)
		}
		var n int
		fmt.Sscanf(string(r.Value), "m%d", &n)
		if prev, ok := perDevice[string(r.Key)]; ok && n <= prev {
			t.Fatalf("device %s: m%d after m%d", r.Key, n, prev)
		}
		perDevice[string(r.Key)] = n
		if len(r.Headers) == 0 || r.Headers[0].Key != "topic" || string(r.Headers[0].Value) != "/pkA/"+string(r.Key)+"/user/update" {
			t.Fatalf("headers %v", r.Headers)
		}
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	offs, err := e.b.CommittedOffsets(ctx, "g1")
	if err != nil {
		t.Fatal(err)
	}
	last := map[int32]int64{}
	for _, r := range recs {
		last[r.Partition] = max(last[r.Partition], r.Offset+1)
	}
	for _, o := range offs {
		if o.Topic != "pkA" || last[o.Partition] != o.Offset {
			t.Fatalf("committed %+v, want %v", o, last)
		}
	}
	if len(offs) != len(last) {
		t.Fatalf("committed %v, want %v", offs, last)
	}
	// Messages published after the group consumed arrive by the long poll.
	e.publish(t, "pkA", 3, 3)
	if more := consume(t, ctx, cl, 3); len(more) != 3 {
		t.Fatalf("got %d", len(more))
	}
}

// killable dials connections the test can cut all at once, refusing new
// ones from then on: a client process that died.
type killable struct {
	mu    sync.Mutex
	dead  bool
	conns []net.Conn
}

func (k *killable) dial(ctx context.Context, network, host string) (net.Conn, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead {
		return nil, fmt.Errorf("killed")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		k.conns = append(k.conns, c)
	}
	return c, err
}

func (k *killable) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dead = true
	for _, c := range k.conns {
		c.Close()
	}
}

// assigned is what an OnPartitionsAssigned/Revoked pair says a member owns.
type assigned struct {
	mu  sync.Mutex
	now map[int32]bool
	ch  chan struct{}
}

func newAssigned() *assigned { return &assigned{now: map[int32]bool{}, ch: make(chan struct{}, 100)} }

func (a *assigned) opts() []kgo.Opt {
	return []kgo.Opt{
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			a.mu.Lock()
			for _, ps := range m {
				for _, p := range ps {
					a.now[p] = true
				}
			}
			a.mu.Unlock()
			a.ch <- struct{}{}
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			a.mu.Lock()
			for _, ps := range m {
				for _, p := range ps {
					delete(a.now, p)
				}
			}
			a.mu.Unlock()
			a.ch <- struct{}{}
		}),
	}
}

func (a *assigned) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.now)
}

// waitFor waits until the member owns want partitions, polling it so that
// its callbacks run.
func (a *assigned) waitFor(t *testing.T, ctx context.Context, cl *kgo.Client, want int) {
	t.Helper()
	for a.count() != want {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			t.Fatalf("member owns %d partitions, want %d", a.count(), want)
		}
	}
}

func TestTwoMembersShareAndRebalanceWhenOneDies(t *testing.T) {
	e := start(t)
	if _, err := e.b.CreateTopic(ctxT(t, 5*time.Second), "pkB", 4, ""); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 60*time.Second)
	a1, a2 := newAssigned(), newAssigned()
	k := &killable{}
	c1 := e.client(t, append(groupOpts("g2", "pkB"), a1.opts()...)...)
	a1.waitFor(t, ctx, c1, 4)
	c2 := e.client(t, append(append(groupOpts("g2", "pkB"), a2.opts()...), kgo.Dialer(k.dial))...)
	// Both poll until the partitions are split two and two.
	for a1.count() != 2 || a2.count() != 2 {
		for _, cl := range []*kgo.Client{c1, c2} {
			pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			cl.PollFetches(pctx)
			cancel()
		}
		if ctx.Err() != nil {
			t.Fatalf("split %d/%d", a1.count(), a2.count())
		}
	}
	if n := e.s.ActiveMembers("g2"); n != 2 {
		t.Fatalf("ActiveMembers = %d", n)
	}
	k.kill() // c2 dies without leaving: its session expires
	a1.waitFor(t, ctx, c1, 4)
	if n := e.s.ActiveMembers("g2"); n != 1 {
		t.Fatalf("ActiveMembers after the death = %d", n)
	}
	e.publish(t, "pkB", 20, 8)
	if got := consume(t, ctx, c1, 20); len(got) != 20 {
		t.Fatalf("survivor got %d", len(got))
	}
}

func TestResetAfterGroupEmptiesTakesEffectOnJoin(t *testing.T) {
	e := start(t)
	e.publish(t, "pkC", 12, 4)
	ctx := ctxT(t, 60*time.Second)
	cl := e.client(t, groupOpts("g3", "pkC")...)
	consume(t, ctx, cl, 12)
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	cl.Close() // leaves the group
	if n := e.s.ActiveMembers("g3"); n != 0 {
		t.Fatalf("members after close: %d", n)
	}
	if err := e.b.ResetKafkaGroup(ctx, "g3", broker.OffsetReset{Topic: "pkC", Earliest: true}); err != nil {
		t.Fatal(err)
	}
	cl2 := e.client(t, groupOpts("g3", "pkC")...)
	if got := consume(t, ctx, cl2, 12); len(got) != 12 {
		t.Fatalf("after the reset: %d records", len(got))
	}
}

func TestProduceCompressedKeepsPartition(t *testing.T) {
	e := start(t)
	ctx := ctxT(t, 60*time.Second)
	if _, err := e.b.CreateTopic(ctx, "orders", 3, ""); err != nil {
		t.Fatal(err)
	}
	codecs := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}
	want := 0
	for name, codec := range codecs {
		// The default producer is idempotent (InitProducerId); records
		// go to the partition chosen.
		p := e.client(t, kgo.ProducerBatchCompression(codec), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		var recs []*kgo.Record
		for i := range 10 {
			recs = append(recs, &kgo.Record{Topic: "orders", Partition: int32(i % 3), Key: []byte(name),
				Value: fmt.Appendf(nil, "%s-%d-%s", name, i, make([]byte, 200)), Headers: []kgo.RecordHeader{{Key: "c", Value: []byte(name)}}})
		}
		if err := p.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want += 10
	}
	cl := e.client(t, groupOpts("g4", "orders")...)
	got := consume(t, ctx, cl, want)
	for _, r := range got {
		var codec string
		var i int
		fmt.Sscanf(string(r.Value), "%s", &codec)
		if _, err := fmt.Sscanf(string(r.Value[len(r.Key):]), "-%d-", &i); err != nil {
			t.Fatalf("value %q: %v", r.Value[:20], err)
		}
		if r.Partition != int32(i%3) {
			t.Fatalf("%s record %d in partition %d", r.Key, i, r.Partition)
		}
		if len(r.Headers) != 1 || string(r.Headers[0].Value) != string(r.Key) {
			t.Fatalf("headers %v", r.Headers)
		}
	}
}

func TestMalformedRequestClosesOnlyThatConnection(t *testing.T) {
	e := start(t)
	cl := e.client(t)
	ctx := ctxT(t, 10*time.Second)
	if err := cl.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	for _, raw := range [][]byte{
		{0x7f, 0xff, 0xff, 0xff}, // a 2 GiB frame
		{0, 0, 0, 10, 0x00, 0x01, 0x00, 0x0d, 0, 0, 0, 1, 0xff, 0xff},                // Fetch v13: not served
		{0, 0, 0, 14, 0x00, 0x03, 0x00, 0x01, 0, 0, 0, 2, 0xff, 0xff, 0, 0, 0x10, 0}, // truncated Metadata
	} {
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(raw)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.Read(make([]byte, 1)); err == nil || n != 0 {
			t.Fatalf("% x: connection still open (%d, %v)", raw, n, err)
		}
		c.Close()
	}
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("the other client: %v", err)
	}
}

func fromCommitted(offs []broker.CommittedOffset) map[int32]int64 {
	m := map[int32]int64{}
	for _, o := range offs {
		m[o.Partition] = o.Offset
	}
	return m
}

func sum(m map[int32]broker.PartitionProgress) int64 {
	var n int64
	for _, v := range m {
		n += v.Lag
	}
	return n
}

func TestAdvertisedAddress(t *testing.T) {
	e := startTB(t, func(c *Config) { c.Advertised = "kafka.example:19092" })
	cl := e.client(t)
	mr := raw[*kmsg.MetadataResponse](t, cl, kmsg.NewPtrMetadataRequest())
	if len(mr.Brokers) != 1 || mr.Brokers[0].Host != "kafka.example" || mr.Brokers[0].Port != 19092 {
		t.Fatalf("brokers %+v", mr.Brokers)
	}
}
