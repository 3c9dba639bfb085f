package broker

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// readAll reads every record of a partition from offset on.
func readAll(t *testing.T, b *Broker, topic string, p int32, from int64) []KafkaRecord {
	t.Helper()
	var out []KafkaRecord
	for {
		r, err := b.Read(ctxT(t), ReadRequest{Topic: topic, Partition: p, Offset: from})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Records) == 0 {
			return out
		}
		out = append(out, r.Records...)
		from = r.Records[len(r.Records)-1].Offset + 1
	}
}

func TestKafkaDeviceMessagesByPartition(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	var msgs []DeviceMessage
	for i := range 40 {
		msgs = append(msgs, DeviceMessage{ProductKey: "pk1", DeviceName: fmt.Sprintf("d%d.x", i%7), Payload: fmt.Appendf(nil, "m%d", i)})
	}
	if _, err := b.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	top, err := b.EnsureTopic(ctx, "pk1")
	if err != nil || top.Partitions != DefaultPartitions || !top.Auto {
		t.Fatalf("EnsureTopic = %+v, %v", top, err)
	}
	total := 0
	for p := range int32(top.Partitions) {
		recs := readAll(t, b, "pk1", p, 0)
		last := map[string]int{}
		for i, r := range recs {
			if i > 0 && r.Offset <= recs[i-1].Offset {
				t.Fatalf("partition %d: offsets not increasing", p)
			}
			if got := DevicePartition(string(r.Key), top.Partitions); got != p {
				t.Fatalf("device %s in partition %d, want %d", r.Key, p, got)
			}
			var n int
			fmt.Sscanf(string(r.Value), "m%d", &n)
			if prev, ok := last[string(r.Key)]; ok && n <= prev {
				t.Fatalf("device %s out of order", r.Key)
			}
			last[string(r.Key)] = n
		}
		total += len(recs)
	}
	if total != 40 {
		t.Fatalf("read %d records, want 40", total)
	}
	// Other products' messages are not in the topic.
	if _, err := b.Publish(ctx, DeviceMessage{ProductKey: "pk2", DeviceName: "d"}); err != nil {
		t.Fatal(err)
	}
	lag, err := b.Progress(ctx, "pk1", nil)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(0)
	for p, c := range lag {
		n += c.Lag
		if recs := readAll(t, b, "pk1", p, 0); len(recs) > 0 && c.End != recs[len(recs)-1].Offset+1 {
			t.Fatalf("partition %d: End %d, last record %d", p, c.End, recs[len(recs)-1].Offset)
		}
	}
	if n != 40 {
		t.Fatalf("Progress = %v, want 40 in all", lag)
	}
}

func TestKafkaProduceKeepsPartition(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	if _, err := b.CreateTopic(ctx, "orders", 3, "r"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateTopic(ctx, "orders", 3, ""); !errors.Is(err, ErrTopicExists) {
		t.Fatalf("second CreateTopic: %v", err)
	}
	base, err := b.Produce(ctx, "orders", 2, []KafkaRecord{{Key: []byte("k"), Value: []byte("v1"), Headers: []KafkaHeader{{Key: "h", Value: []byte{0, 1}}}}, {Value: []byte("v2")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Produce(ctx, "orders", 3, nil); !errors.Is(err, ErrPartitionNotFound) {
		t.Fatalf("partition 3: %v", err)
	}
	recs := readAll(t, b, "orders", 2, base)
	if len(recs) != 2 || string(recs[0].Key) != "k" || recs[1].Key != nil || string(recs[0].Headers[0].Value) != "\x00\x01" {
		t.Fatalf("records = %+v", recs)
	}
	if got := readAll(t, b, "orders", 0, 0); len(got) != 0 {
		t.Fatalf("partition 0 has %d", len(got))
	}
	bd, _ := b.Bounds(ctx)
	if _, err := b.Read(ctx, ReadRequest{Topic: "orders", Partition: 0, Offset: bd.End + 1}); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("past the end: %v", err)
	}
}

func TestKafkaResets(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	if _, err := b.CreateTopic(ctx, "t1", 2, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateKafkaGroup(ctx, "g1", ""); err != nil {
		t.Fatal(err)
	}
	first, _ := b.Produce(ctx, "t1", 0, []KafkaRecord{{Value: []byte("a")}})
	mid := time.Now()
	// A timestamp reset lands at the first message stored at or after it.
	second, _ := b.Produce(ctx, "t1", 1, []KafkaRecord{{Value: []byte("b")}})
	bd, _ := b.Bounds(ctx)
	cases := []struct {
		name    string
		r       OffsetReset
		want    map[int32]int64
		wantErr error
	}{
		{"earliest one topic", OffsetReset{Topic: "t1", Earliest: true}, map[int32]int64{0: first, 1: first}, nil},
		{"latest all", OffsetReset{Latest: true}, map[int32]int64{0: bd.End, 1: bd.End}, nil},
		{"time", OffsetReset{Topic: "t1", Time: mid}, map[int32]int64{0: second, 1: second}, nil},
		{"offsets", OffsetReset{Topic: "t1", Offsets: map[int32]int64{1: 5}}, map[int32]int64{0: second, 1: 5}, nil},
		{"offsets without topic", OffsetReset{Offsets: map[int32]int64{0: 1}}, nil, ErrInvalidArgument},
		{"bad partition", OffsetReset{Topic: "t1", Offsets: map[int32]int64{2: 1}}, nil, ErrPartitionNotFound},
		{"no topic", OffsetReset{Topic: "nope", Latest: true}, nil, ErrTopicNotFound},
		{"nothing", OffsetReset{Topic: "t1"}, nil, ErrInvalidArgument},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := b.ResetKafkaGroup(ctx, "g1", c.r)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err = %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			offs, err := b.CommittedOffsets(ctx, "g1")
			if err != nil {
				t.Fatal(err)
			}
			got := map[int32]int64{}
			for _, o := range offs {
				got[o.Partition] = o.Offset
			}
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("offsets = %v, want %v", got, c.want)
			}
		})
	}
	if err := b.ResetKafkaGroup(ctx, "nope", OffsetReset{Latest: true}); !errors.Is(err, ErrKafkaGroupUnknown) {
		t.Fatalf("unknown group: %v", err)
	}
	if err := b.DeleteKafkaGroup(ctx, "g1"); err != nil {
		t.Fatal(err)
	}
	if offs, _ := b.CommittedOffsets(ctx, "g1"); len(offs) != 0 {
		t.Fatalf("offsets after delete: %v", offs)
	}
	for _, bad := range []string{"", "a b", "a*", "a>", string(make([]byte, 65))} {
		if _, err := b.CreateTopic(ctx, bad, 1, ""); !errors.Is(err, ErrInvalidName) {
			t.Fatalf("topic %q: %v", bad, err)
		}
		if _, err := b.CreateKafkaGroup(ctx, bad, ""); !errors.Is(err, ErrInvalidName) {
			t.Fatalf("group %q: %v", bad, err)
		}
	}
}

// TestScanDirectMatchesOneByOne: batched direct gets and single message
// gets read the same messages of a filter, in order, and both say where
// the end is.
func TestScanDirectMatchesOneByOne(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	var msgs []DeviceMessage
	for i := range 700 { // over two batches
		msgs = append(msgs, DeviceMessage{ProductKey: []string{"pa", "pb"}[i%2], DeviceName: fmt.Sprintf("d%d", i%9), Payload: fmt.Appendf(nil, "%d", i)})
	}
	if _, err := b.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{10, 256, 350, 1000} {
		var direct, single []uint64
		endD, err := b.scan(ctx, topicFilter("pa"), 5, limit, func(m storedMsg) bool { direct = append(direct, m.seq); return true })
		if err != nil {
			t.Fatal(err)
		}
		endS, err := b.scanOneByOne(ctx, topicFilter("pa"), 5, limit, func(m storedMsg) bool { single = append(single, m.seq); return true })
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(direct) != fmt.Sprint(single) || endD != endS || (len(direct) < limit) != endD {
			t.Fatalf("limit %d: direct %d messages (end %v), one by one %d (end %v)", limit, len(direct), endD, len(single), endS)
		}
	}
}
