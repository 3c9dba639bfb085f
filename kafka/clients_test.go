package kafka

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/amqpemu/amqpemu/broker"
)

// saramaHandler collects claimed messages and marks them consumed.
type saramaHandler struct{ got chan *sarama.ConsumerMessage }

func (saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		s.MarkMessage(m, "")
		select {
		case h.got <- m:
		case <-s.Context().Done():
			return nil
		}
	}
	return nil
}

func TestSaramaConsumerGroup(t *testing.T) {
	e := start(t)
	e.publish(t, "pkS", 15, 5)
	cfg := sarama.NewConfig() // its defaults, but for where a new group starts
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	g, err := sarama.NewConsumerGroup([]string{e.addr}, "gs", cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	h := saramaHandler{got: make(chan *sarama.ConsumerMessage, 100)}
	done := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{"pkS"}, h); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	seen := map[string]bool{}
	for len(seen) < 15 {
		select {
		case m := <-h.got:
			seen[string(m.Value)] = true
		case <-ctx.Done():
			t.Fatalf("sarama got %d of 15", len(seen))
		}
	}
	// Its automatic commits reach the store.
	for {
		offs, err := e.b.CommittedOffsets(ctx, "gs")
		if err != nil {
			t.Fatal(err)
		}
		lag, err := e.b.Progress(ctx, "pkS", fromCommitted(offs))
		if err != nil {
			t.Fatal(err)
		}
		if len(offs) > 0 && sum(lag) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("committed %v, lag %v", offs, lag)
		case <-time.After(50 * time.Millisecond): // polling the store, not synchronising
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestKcat(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed (apt-get install kcat)")
	}
	e := start(t)
	e.publish(t, "pkK", 6, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A balanced consumer in group gk, ending at the end of the partitions.
	out, err := exec.CommandContext(ctx, kcat, "-b", e.addr, "-G", "gk", "-o", "beginning", "-e", "-f", "%k=%s\n", "-X", "session.timeout.ms=6000", "pkK").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat -G: %v\n%s", err, out)
	}
	for _, want := range []string{"d0=m0", "d1=m1", "d2=m5"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("kcat -G output lacks %q:\n%s", want, out)
		}
	}
	// Produce with kcat (librdkafka's defaults), read back by partition.
	p := exec.CommandContext(ctx, kcat, "-b", e.addr, "-P", "-t", "kt", "-p", "1", "-K", ":")
	p.Stdin = strings.NewReader("a:1\nb:2\n")
	if out, err := p.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}
	out, err = exec.CommandContext(ctx, kcat, "-b", e.addr, "-C", "-t", "kt", "-p", "1", "-o", "beginning", "-e", "-f", "%k=%s@%p\n").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "a=1@1") || !strings.Contains(string(out), "b=2@1") {
		t.Fatalf("kcat -C: %v\n%s", err, out)
	}
	out, err = exec.CommandContext(ctx, kcat, "-b", e.addr, "-L").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `topic "kt" with 4 partitions`) {
		t.Fatalf("kcat -L: %v\n%s", err, out)
	}
}

func TestSaramaProducer(t *testing.T) {
	e := start(t)
	cfg := sarama.NewConfig()
	cfg.Producer.Return.Successes = true // a SyncProducer needs it
	cfg.Producer.Compression = sarama.CompressionSnappy
	p, err := sarama.NewSyncProducer([]string{e.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	part, off, err := p.SendMessage(&sarama.ProducerMessage{Topic: "sp", Key: sarama.StringEncoder("k"), Value: sarama.StringEncoder("v")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.b.Read(context.Background(), broker.ReadRequest{Topic: "sp", Partition: part, Offset: off})
	if err != nil || len(res.Records) != 1 || string(res.Records[0].Key) != "k" || string(res.Records[0].Value) != "v" || res.Records[0].Offset != off {
		t.Fatalf("read back %+v, %v", res.Records, err)
	}
}
