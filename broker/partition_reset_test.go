package broker

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/internal/natstest"
)

// devicesByPartition names one device per partition of an n-partition topic.
func devicesByPartition(n int) []string {
	out := make([]string, n)
	found := 0
	for i := 0; found < n; i++ {
		dn := fmt.Sprintf("dev%d", i)
		if p := DevicePartition(dn, n); out[p] == "" {
			out[p] = dn
			found++
		}
	}
	return out
}

// sent is a message a test published, as a member received it.
type sent struct {
	seq     uint64
	part    int32
	product string
	payload string
}

// consumeAll joins group id, takes exactly n deliveries, acknowledges
// them, checks nothing more comes, and leaves.
func consumeAll(t *testing.T, b *Broker, id string, n int) []sent {
	t.Helper()
	m, in := join(t, b, id, 1000)
	var out []sent
	for range n {
		d := in.next(t)
		out = append(out, sent{seq: d.Token, part: DevicePartition(d.Message.DeviceName, DefaultPartitions),
			product: d.Message.ProductKey, payload: string(d.Message.Payload)})
		m.Settle(d.Token, Ack)
	}
	select {
	case d := <-in:
		t.Fatalf("after %v: unexpected delivery %s (seq %d)", payloads(out), d.Message.Payload, d.Token)
	case <-time.After(300 * time.Millisecond):
	}
	m.Leave()
	return out
}

func publishTo(t *testing.T, b *Broker, pk string, devs []string, round string) {
	t.Helper()
	var msgs []DeviceMessage
	for p, dn := range devs {
		msgs = append(msgs, DeviceMessage{ProductKey: pk, DeviceName: dn, Payload: []byte(fmt.Sprintf("%s-p%d-%s", pk, p, round))})
	}
	if _, err := b.Publish(ctxT(t), msgs...); err != nil {
		t.Fatal(err)
	}
}

func payloads(ss []sent) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.payload
	}
	return out
}

func TestResetPartitions(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	g, err := b.CreateGroup(ctx, "part_group")
	if err != nil {
		t.Fatal(err)
	}
	for _, pk := range []string{"pkp", "pko"} {
		if err := b.SetSubscription(ctx, pk, Subscription{Groups: []string{g.ID}}); err != nil {
			t.Fatal(err)
		}
	}
	devs := devicesByPartition(DefaultPartitions)
	for _, r := range []string{"a", "b", "c"} {
		publishTo(t, b, "pkp", devs, r)
	}
	publishTo(t, b, "pko", devs[:1], "a")
	first := consumeAll(t, b, g.ID, 3*DefaultPartitions+1)
	waitBacklog(t, b, g.ID, 0)

	// Rewind partition 1 to its second message: exactly its messages from
	// there come again, nothing of the other partitions or products.
	var p1 []sent
	for _, s := range first {
		if s.product == "pkp" && s.part == 1 {
			p1 = append(p1, s)
		}
	}
	if err := b.ResetPartitions(ctx, g.Name, "pkp", []PartitionPosition{{Partition: 1, Offset: int64(p1[1].seq)}}); err != nil {
		t.Fatal(err)
	}
	if got, want := payloads(consumeAll(t, b, g.ID, 2)), payloads(p1[1:]); !slices.Equal(got, want) {
		t.Fatalf("after rewinding partition 1: got %v, want %v", got, want)
	}
	waitBacklog(t, b, g.ID, 0)
	// The rule is done (the ack floor passed it): the next member's load drops it.
	if r, err := b.loadRule(ctx, consumerName(g.ID)); err != nil || r != nil {
		t.Fatalf("rule after the rewind was consumed: %+v, %v", r, err)
	}

	// Skip forward: partition 2 to its second new message, partition 3
	// to latest; the others and the other product are delivered.
	publishTo(t, b, "pkp", devs, "d")
	publishTo(t, b, "pkp", devs, "e")
	publishTo(t, b, "pko", devs, "b")
	waitBacklog(t, b, g.ID, 3*DefaultPartitions)
	seqs := map[string]uint64{}
	pm, err := b.Peek(ctx, g.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pm {
		seqs[string(p.Payload)] = p.Seq
	}
	e2, ok := seqs["pkp-p2-e"]
	if !ok {
		t.Fatalf("peek did not show pkp-p2-e: %v", seqs)
	}
	err = b.ResetPartitions(ctx, g.ID, "pkp", []PartitionPosition{
		{Partition: 2, Offset: int64(e2)},
		{Partition: 3, Position: Position{Latest: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	gp, err := b.GroupPartitions(ctx, g.ID, "pkp")
	if err != nil {
		t.Fatal(err)
	}
	bd, _ := b.Bounds(ctx)
	pending := []int{2, 2, 1, 0}
	if len(gp) != DefaultPartitions || gp[2].Offset != int64(e2) || gp[3].Offset != bd.End || gp[0].Offset != int64(seqs["pkp-p0-d"]) {
		t.Errorf("partitions after the reset: %+v (p0-d at %d, p2-e at %d, end %d)", gp, seqs["pkp-p0-d"], e2, bd.End)
	}
	for p, n := range pending {
		if gp[p].Pending != n {
			t.Errorf("partition %d: %d pending, want %d", p, gp[p].Pending, n)
		}
	}
	got := payloads(consumeAll(t, b, g.ID, 9))
	slices.Sort(got)
	want := []string{"pko-p0-b", "pko-p1-b", "pko-p2-b", "pko-p3-b", "pkp-p0-d", "pkp-p0-e", "pkp-p1-d", "pkp-p1-e", "pkp-p2-e"}
	if !slices.Equal(got, want) {
		t.Fatalf("after skipping partitions 2 and 3: got %v, want %v", got, want)
	}
	waitBacklog(t, b, g.ID, 0)
	if gp, err = b.GroupPartitions(ctx, g.Name, "pkp"); err != nil {
		t.Fatal(err)
	}
	for _, p := range gp {
		if p.Pending != 0 {
			t.Errorf("after consuming: %+v", gp)
		}
	}
	if _, err := b.GroupPartitions(ctx, g.ID, "nosuchpk"); !errors.Is(err, ErrTopicNotFound) {
		t.Errorf("partitions of an unknown topic: %v", err)
	}

	// A whole-group reset drops a rule not yet done.
	publishTo(t, b, "pkp", devs, "f")
	waitBacklog(t, b, g.ID, DefaultPartitions)
	if err := b.ResetPartitions(ctx, g.ID, "pkp", []PartitionPosition{{Partition: 0, Position: Position{Latest: true}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Reset(ctx, g.ID, Position{Earliest: true}); err != nil {
		t.Fatal(err)
	}
	if r, err := b.loadRule(ctx, consumerName(g.ID)); err != nil || r != nil {
		t.Fatalf("rule after a whole-group reset: %+v, %v", r, err)
	}
	waitBacklog(t, b, g.ID, 6*DefaultPartitions+DefaultPartitions+1)
}

func TestResetPartitionsRefused(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	g, err := b.CreateGroup(ctx, "refused_group")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetSubscription(ctx, "pkr", Subscription{Groups: []string{g.ID}}); err != nil {
		t.Fatal(err)
	}
	publishTo(t, b, "pkr", devicesByPartition(DefaultPartitions), "a")
	waitBacklog(t, b, g.ID, DefaultPartitions)
	end, err := b.Bounds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ok := []PartitionPosition{{Partition: 0, Offset: 1}}
	tests := []struct {
		name  string
		topic string
		parts []PartitionPosition
		want  error
	}{
		{"unknown topic", "nosuchpk", ok, ErrTopicNotFound},
		{"bad topic name", "a b", ok, ErrInvalidName},
		{"no partitions", "pkr", nil, ErrInvalidArgument},
		{"partition out of range", "pkr", []PartitionPosition{{Partition: DefaultPartitions}}, ErrPartitionNotFound},
		{"negative partition", "pkr", []PartitionPosition{{Partition: -1}}, ErrPartitionNotFound},
		{"negative offset", "pkr", []PartitionPosition{{Partition: 0, Offset: -1}}, ErrInvalidArgument},
		{"offset past the end", "pkr", []PartitionPosition{{Partition: 0, Offset: end.End + 1}}, ErrOffsetOutOfRange},
		{"partition twice", "pkr", []PartitionPosition{{Partition: 1}, {Partition: 1, Offset: 2}}, ErrInvalidArgument},
		{"offset and earliest", "pkr", []PartitionPosition{{Partition: 0, Offset: 2, Position: Position{Earliest: true}}}, ErrInvalidArgument},
		{"earliest and latest", "pkr", []PartitionPosition{{Partition: 0, Position: Position{Earliest: true, Latest: true}}}, ErrInvalidArgument},
	}
	for _, tt := range tests {
		if err := b.ResetPartitions(ctx, g.ID, tt.topic, tt.parts); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if err := b.ResetPartitions(ctx, "nosuchgroup", "pkr", ok); !errors.Is(err, ErrGroupNotFound) {
		t.Errorf("unknown group: %v", err)
	}
	// The offset at the end is latest, and allowed.
	if err := b.ResetPartitions(ctx, g.ID, "pkr", []PartitionPosition{{Partition: 0, Offset: end.End}}); err != nil {
		t.Errorf("offset at the end: %v", err)
	}

	m, _ := join(t, b, g.ID, 0)
	if err := b.ResetPartitions(ctx, g.ID, "pkr", ok); !errors.Is(err, ErrGroupActive) {
		t.Fatalf("with a member online: %v, want ErrGroupActive", err)
	}
	m.Leave()
	if err := b.ResetPartitions(ctx, g.ID, "pkr", ok); err != nil {
		t.Fatalf("after the member left: %v", err)
	}
}

// TestResetPartitionsShared: two nodes on one engine. A client online on
// the other node refuses the reset; a node whose member loaded a rule
// drops it when a whole-group reset is made on the other node.
func TestResetPartitionsShared(t *testing.T) {
	ns := natstest.Server(t)
	bs := openTogether(t, []Config{{NATSURLs: []string{ns.ClientURL()}}, {NATSURLs: []string{ns.ClientURL()}}})
	a, b := bs[0], bs[1]
	ctx := ctxT(t)
	g, err := a.CreateGroup(ctx, "shared_group")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetSubscription(ctx, "pks", Subscription{Groups: []string{g.ID}}); err != nil {
		t.Fatal(err)
	}
	waitGroupSeen(t, b, g.ID)
	devs := devicesByPartition(DefaultPartitions)
	publishTo(t, a, "pks", devs, "a")
	publishTo(t, a, "pks", devs, "b")
	consumeAll(t, a, g.ID, 2*DefaultPartitions)
	waitBacklog(t, a, g.ID, 0)

	// A client on node b refuses a reset made on node a.
	mb, _ := join(t, b, g.ID, 0)
	if err := a.ResetPartitions(ctx, g.ID, "pks", []PartitionPosition{{Partition: 0, Position: Position{Earliest: true}}}); !errors.Is(err, ErrGroupActive) {
		t.Fatalf("with a client on the other node: %v, want ErrGroupActive", err)
	}
	mb.Leave()

	// Partition 0 from the start, on a; b's next member loads the rule.
	if err := a.ResetPartitions(ctx, g.ID, "pks", []PartitionPosition{{Partition: 0, Position: Position{Earliest: true}}}); err != nil {
		t.Fatal(err)
	}
	// In any order: what node a's requests still brought after its member
	// left went back to the engine, and is redelivered after the rest.
	got := payloads(consumeAll(t, b, g.ID, 2))
	slices.Sort(got)
	if !slices.Equal(got, []string{"pks-p0-a", "pks-p0-b"}) {
		t.Fatalf("on node b after the reset of partition 0: %v", got)
	}

	// Again, and a whole-group reset to earliest on a while b's member is
	// online: b drops the rule and its member gets everything.
	if err := a.ResetPartitions(ctx, g.ID, "pks", []PartitionPosition{{Partition: 0, Position: Position{Earliest: true}}}); err != nil {
		t.Fatal(err)
	}
	m, in := join(t, b, g.ID, 0)
	d := b.live(consumerName(g.ID))
	d.mu.Lock()
	loaded := d.rule != nil
	d.mu.Unlock()
	if !loaded {
		t.Fatal("node b's member did not load the rule")
	}
	if err := a.Reset(ctx, g.ID, Position{Earliest: true}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		d.mu.Lock()
		r := d.rule
		d.mu.Unlock()
		if r == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node b kept the rule after a whole-group reset on node a")
		}
		time.Sleep(10 * time.Millisecond)
	}
	m.Credit(100)
	// Each at least once: a message node a handed back around a reset can
	// come twice (at least once).
	seen := map[string]bool{}
	for len(seen) < 2*DefaultPartitions {
		d := in.next(t)
		seen[string(d.Message.Payload)] = true
		m.Settle(d.Token, Ack)
	}
	got = slices.Sorted(maps.Keys(seen))
	if want := []string{"pks-p0-a", "pks-p0-b", "pks-p1-a", "pks-p1-b", "pks-p2-a", "pks-p2-b", "pks-p3-a", "pks-p3-b"}; !slices.Equal(got, want) {
		t.Fatalf("after the whole-group reset: %v", got)
	}
}
