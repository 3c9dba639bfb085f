package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLogShardAppendReadRestart(t *testing.T) {
	dir := t.TempDir()
	b := openBroker(t, dir)
	ctx := ctxT(t)
	s := LogShard{Project: "proj-1", Logstore: "access_log", ID: 1}
	if err := b.CreateLogShard(ctx, s, time.Hour); err != nil {
		t.Fatal(err)
	}
	r, err := b.LogRange(ctx, s)
	if err != nil || r.First != r.Next {
		t.Fatalf("empty shard: range %+v, %v", r, err)
	}
	empty := r.Next
	var seqs []uint64
	for i := range 3 {
		seq, err := b.AppendLog(ctx, s, []byte(fmt.Sprintf("group %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	if seqs[0] != empty || seqs[1] != seqs[0]+1 || seqs[2] != seqs[1]+1 {
		t.Fatalf("sequences %v from an empty shard at %d: want consecutive from it", seqs, empty)
	}
	b.Close(context.Background())

	b = openBroker(t, dir)
	got, err := b.ReadLogs(ctx, s, 0, 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || string(got[0].Data) != "group 0" || string(got[2].Data) != "group 2" || got[1].Seq != seqs[1] {
		t.Fatalf("after restart read %+v", got)
	}
	if more, _ := b.ReadLogs(ctx, s, seqs[1], 1, 1<<20); len(more) != 1 || more[0].Seq != seqs[1] {
		t.Fatalf("read 1 from %d: %+v", seqs[1], more)
	}
	if none, _ := b.ReadLogs(ctx, s, seqs[2]+1, 10, 1<<20); len(none) != 0 {
		t.Fatalf("read past the end: %+v", none)
	}
	// maxBytes stops before a record that does not fit, but always gives one.
	if cut, _ := b.ReadLogs(ctx, s, 0, 10, 8); len(cut) != 1 {
		t.Fatalf("maxBytes 8 read %d records, want 1", len(cut))
	}
	r, _ = b.LogRange(ctx, s)
	if r.First != seqs[0] || r.Next != seqs[2]+1 {
		t.Fatalf("range %+v, want %d..%d", r, seqs[0], seqs[2]+1)
	}
	if seq, err := b.LogSeqAt(ctx, s, got[1].Time); err != nil || seq > seqs[1] {
		t.Fatalf("LogSeqAt(time of %d) = %d, %v", seqs[1], seq, err)
	}
	if seq, err := b.LogSeqAt(ctx, s, time.Now().Add(time.Hour)); err != nil || seq != r.Next {
		t.Fatalf("LogSeqAt(future) = %d, %v; want %d", seq, err, r.Next)
	}
	if seq, err := b.LogSeqAt(ctx, s, time.Unix(0, 0)); err != nil || seq != seqs[0] {
		t.Fatalf("LogSeqAt(1970) = %d, %v; want %d", seq, err, seqs[0])
	}
	if err := b.DeleteLogShard(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := b.LogRange(ctx, s); !errors.Is(err, ErrLogShardNotFound) {
		t.Fatalf("range of a deleted shard: %v", err)
	}
	if _, err := b.AppendLog(ctx, s, []byte("x")); !errors.Is(err, ErrLogShardNotFound) {
		t.Fatalf("append to a deleted shard: %v", err)
	}
	if _, err := b.ReadLogs(ctx, s, 0, 10, 1<<20); !errors.Is(err, ErrLogShardNotFound) {
		t.Fatalf("read of a deleted shard: %v", err)
	}
	if _, err := b.LogSeqAt(ctx, s, time.Now()); !errors.Is(err, ErrLogShardNotFound) {
		t.Fatalf("seek in a deleted shard: %v", err)
	}
	if err := b.DeleteLogShard(ctx, s); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestLogShardNamesChecked(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	for _, s := range []LogShard{
		{Project: "Upper", Logstore: "ls", ID: 0},
		{Project: "under_score", Logstore: "ls", ID: 0}, // would make stream names ambiguous
		{Project: "p", Logstore: "dot.ted", ID: 0},
		{Project: "p", Logstore: "wild*", ID: 0},
		{Project: "p", Logstore: "", ID: 0},
		{Project: strings.Repeat("p", 64), Logstore: "ls", ID: 0},
		{Project: "p", Logstore: "ls", ID: -1},
		{Project: "p", Logstore: "ls", ID: MaxLogShards},
	} {
		if err := b.CreateLogShard(ctx, s, 0); !errors.Is(err, ErrInvalidName) {
			t.Errorf("CreateLogShard(%+v) = %v, want ErrInvalidName", s, err)
		}
		if _, err := b.AppendLog(ctx, s, nil); !errors.Is(err, ErrInvalidName) {
			t.Errorf("AppendLog(%+v) = %v, want ErrInvalidName", s, err)
		}
	}
}

func TestLogShardRecordSizeBounded(t *testing.T) {
	b := openBroker(t, t.TempDir())
	ctx := ctxT(t)
	s := LogShard{Project: "p1", Logstore: "ls1", ID: 0}
	if err := b.CreateLogShard(ctx, s, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AppendLog(ctx, s, make([]byte, b.MaxLogRecord()+1)); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("over-size record: %v", err)
	}
	if _, err := b.AppendLog(ctx, s, make([]byte, b.MaxLogRecord())); err != nil {
		t.Fatalf("record of the maximum size: %v", err)
	}
}

// BenchmarkReadLogs reads 1000 records of 512 bytes, as a PullLogs of the
// consumer library's default count does.
func BenchmarkReadLogs(b *testing.B) {
	br := openBrokerB(b)
	ctx := context.Background()
	s := LogShard{Project: "bench", Logstore: "ls", ID: 0}
	if err := br.CreateLogShard(ctx, s, 0); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 512)
	for range 1000 {
		if _, err := br.AppendLog(ctx, s, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		recs, err := br.ReadLogs(ctx, s, 1, 1000, 16<<20)
		if err != nil || len(recs) != 1000 {
			b.Fatalf("%d records, %v", len(recs), err)
		}
	}
}

func openBrokerB(b *testing.B) *Broker {
	b.Helper()
	br, err := Open(context.Background(), Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { br.Close(context.Background()) })
	return br
}
