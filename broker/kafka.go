package broker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Kafka topics and partitions over the one stream.
//
// A topic is named after a product (device messages of product pk are in
// topic pk) or is a Kafka-only topic made by CreateTopic or a producer. Its
// partition count is fixed when it is made: DefaultPartitions for a
// product topic made on first use.
//
// A partition is a slice of the stream's subjects, and the subject layout
// of device messages is unchanged (dev.<kind>.<pk>.<dn>, devs.…): a device
// message belongs to partition fnv1a32(device name) mod partitions, so a
// device's messages stay in one partition and in order. Records a Kafka
// producer sends are stored under kafka.r.<topic>.<partition>, in the
// partition the producer chose (they reach Kafka consumers only, not the
// IoT consumer groups). Every subject of topic T therefore matches the one
// filter *.*.<T>.*, whatever its root.
//
// A Kafka offset is the stream sequence of the message: it increases
// within a partition but has gaps (the other partitions' and topics'
// messages), as on a compacted Kafka topic; clients accept gaps. Every
// partition's log start offset is the stream's first sequence and its
// high watermark the stream's last sequence + 1. Nothing is renumbered, so
// every node sharing the engine agrees on offsets, and data stored by older
// versions reads as it is.
const (
	DefaultPartitions = 4
	MaxPartitions     = 128
	kafkaRoot         = "kafka"

	kafkaTopicsBucket  = "amqpemu_kafka_topics"
	kafkaOffsetsBucket = "amqpemu_kafka_offsets"
	kafkaGroupsBucket  = "amqpemu_kafka_groups"

	hdrKafkaKey     = "Amqpemu-Kafka-Key"
	hdrKafkaHeaders = "Amqpemu-Kafka-Headers"
	hdrKafkaTime    = "Amqpemu-Kafka-Time"

	maxKafkaName = 64
)

// Kafka errors.
var (
	ErrTopicNotFound     = errors.New("unknown topic")
	ErrTopicExists       = errors.New("topic already exists")
	ErrPartitionNotFound = errors.New("unknown partition")
	ErrOffsetOutOfRange  = errors.New("offset out of range")
	ErrKafkaGroupExists  = errors.New("kafka consumer group already exists")
	ErrKafkaGroupUnknown = errors.New("kafka consumer group not found")
)

// KafkaTopic is a topic with its fixed partition count.
type KafkaTopic struct {
	Name       string    `json:"name"`
	Partitions int       `json:"partitions"`
	Remark     string    `json:"remark,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	Auto       bool      `json:"auto,omitempty"` // made on first use
}

// KafkaRecord is one record of a partition.
type KafkaRecord struct {
	Offset    int64
	Partition int32
	Key       []byte
	Value     []byte
	Headers   []KafkaHeader
	Time      time.Time
}

// KafkaHeader is a record header.
type KafkaHeader struct {
	Key   string `json:"k"`
	Value []byte `json:"v"`
}

// CheckKafkaName validates a topic or Kafka group name: 1–64 letters,
// digits, '_', '-' or '.' (a product key is a valid topic name).
func CheckKafkaName(what, name string) error {
	if reason := badChars(name, maxKafkaName, func(r rune) bool { return isIDChar(r) || r == '.' }); reason != "" {
		return fmt.Errorf("%w: %s %s %s; use letters, digits, '_', '-' or '.'", ErrInvalidName, what, quote(name), reason)
	}
	return nil
}

// kvToken escapes a name into one KV key token ('.' separates tokens).
var kvToken = strings.NewReplacer("=", "=3d", ".", "=2e").Replace

var kvUntoken = strings.NewReplacer("=3d", "=", "=2e", ".").Replace

func (b *Broker) kafkaKV(ctx context.Context, bucket string) (jetstream.KeyValue, error) {
	if b.isClosed() {
		return nil, ErrClosed
	}
	kv, err := b.e().stateKV(ctx, bucket)
	if err != nil {
		return nil, b.unavailable(fmt.Errorf("opening bucket %s: %w", bucket, err))
	}
	return kv, nil
}

// CreateTopic makes topic name with partitions partitions (0: the default).
func (b *Broker) CreateTopic(ctx context.Context, name string, partitions int, remark string) (KafkaTopic, error) {
	return b.createTopic(ctx, name, partitions, remark, false)
}

func (b *Broker) createTopic(ctx context.Context, name string, partitions int, remark string, auto bool) (KafkaTopic, error) {
	if err := CheckKafkaName("topic", name); err != nil {
		return KafkaTopic{}, err
	}
	if partitions == 0 {
		partitions = DefaultPartitions
	}
	if partitions < 1 || partitions > MaxPartitions {
		return KafkaTopic{}, fmt.Errorf("%w: %d partitions (1 to %d)", ErrInvalidArgument, partitions, MaxPartitions)
	}
	kv, err := b.kafkaKV(ctx, kafkaTopicsBucket)
	if err != nil {
		return KafkaTopic{}, err
	}
	t := KafkaTopic{Name: name, Partitions: partitions, Remark: remark, CreatedAt: time.Now().UTC(), Auto: auto}
	data, _ := json.Marshal(t)
	if _, err := kv.Create(ctx, kvToken(name), data); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return KafkaTopic{}, fmt.Errorf("%w: %q", ErrTopicExists, name)
		}
		return KafkaTopic{}, b.unavailable(err)
	}
	return t, nil
}

// Topic reads topic name.
func (b *Broker) Topic(ctx context.Context, name string) (KafkaTopic, error) {
	if err := CheckKafkaName("topic", name); err != nil {
		return KafkaTopic{}, err
	}
	kv, err := b.kafkaKV(ctx, kafkaTopicsBucket)
	if err != nil {
		return KafkaTopic{}, err
	}
	e, err := kv.Get(ctx, kvToken(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return KafkaTopic{}, fmt.Errorf("%w: %q", ErrTopicNotFound, name)
	}
	if err != nil {
		return KafkaTopic{}, b.unavailable(err)
	}
	var t KafkaTopic
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return KafkaTopic{}, fmt.Errorf("topic %q: %w", name, err)
	}
	return t, nil
}

// EnsureTopic reads topic name, making it with the default partition count
// if it does not exist (product topics, and topics a producer names).
func (b *Broker) EnsureTopic(ctx context.Context, name string) (KafkaTopic, error) {
	t, err := b.Topic(ctx, name)
	if !errors.Is(err, ErrTopicNotFound) {
		return t, err
	}
	t, err = b.createTopic(ctx, name, 0, "", true)
	if errors.Is(err, ErrTopicExists) { // made by another caller meanwhile
		return b.Topic(ctx, name)
	}
	return t, err
}

// Topics lists the topics by name: those made, and a product topic for
// every product with a subscription (made on the way).
func (b *Broker) Topics(ctx context.Context) ([]KafkaTopic, error) {
	for pk := range b.subCache.all() {
		if CheckKafkaName("topic", pk) == nil {
			if _, err := b.EnsureTopic(ctx, pk); err != nil {
				return nil, err
			}
		}
	}
	kv, err := b.kafkaKV(ctx, kafkaTopicsBucket)
	if err != nil {
		return nil, err
	}
	var out []KafkaTopic
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, b.unavailable(err)
	}
	for k := range lister.Keys() {
		if t, err := b.Topic(ctx, kvUntoken(k)); err == nil {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(x, y KafkaTopic) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// topicFilter matches every message of topic (see the package comment above).
func topicFilter(topic string) string { return "*.*." + subjectToken(topic) + ".*" }

func kafkaSubject(topic string, partition int32) string {
	return kafkaRoot + ".r." + subjectToken(topic) + "." + strconv.Itoa(int(partition))
}

// DevicePartition is the partition of topic with n partitions holding the
// messages of device dn.
func DevicePartition(dn string, n int) int32 {
	h := fnv.New32a()
	h.Write([]byte(dn))
	return int32(h.Sum32() % uint32(n))
}

// partitionOfSubject is the partition of a stored message's subject.
func partitionOfSubject(subject string, n int) int32 {
	root, rest, _ := strings.Cut(subject, ".")
	i := strings.LastIndexByte(rest, '.')
	last := rest[i+1:]
	if root == kafkaRoot {
		p, err := strconv.Atoi(last)
		if err != nil {
			return -1
		}
		return int32(p)
	}
	return DevicePartition(unescapeToken(last), n)
}

// checkPartition refuses a partition topic t does not have.
func checkPartition(t KafkaTopic, p int32) error {
	if p < 0 || int(p) >= t.Partitions {
		return fmt.Errorf("%w: %d of topic %q (%d partitions)", ErrPartitionNotFound, p, t.Name, t.Partitions)
	}
	return nil
}

// Produce stores records in partition of topic (made on first use) and
// answers the offset of the first.
func (b *Broker) Produce(ctx context.Context, topic string, partition int32, recs []KafkaRecord) (int64, error) {
	t, err := b.EnsureTopic(ctx, topic)
	if err != nil {
		return 0, err
	}
	if err := checkPartition(t, partition); err != nil {
		return 0, err
	}
	for i, r := range recs {
		if err := b.checkSize(len(r.Value) + len(r.Key)); err != nil {
			return 0, fmt.Errorf("record %d: %w", i, err)
		}
	}
	e := b.e()
	subject := kafkaSubject(topic, partition)
	futures := make([]jetstream.PubAckFuture, 0, len(recs))
	for _, r := range recs {
		msg := nats.NewMsg(subject)
		msg.Data = r.Value
		if r.Key != nil {
			msg.Header.Set(hdrKafkaKey, base64.StdEncoding.EncodeToString(r.Key))
		}
		if len(r.Headers) > 0 {
			h, _ := json.Marshal(r.Headers)
			msg.Header.Set(hdrKafkaHeaders, base64.StdEncoding.EncodeToString(h))
		}
		if !r.Time.IsZero() {
			msg.Header.Set(hdrKafkaTime, strconv.FormatInt(r.Time.UnixMilli(), 10))
		}
		f, err := e.js.PublishMsgAsync(msg, jetstream.WithStallWait(stallWait))
		if err != nil {
			return 0, b.unavailable(err)
		}
		futures = append(futures, f)
	}
	var base int64 = -1
	for _, f := range futures {
		select {
		case ack := <-f.Ok():
			if base < 0 {
				base = int64(ack.Sequence)
			}
		case err := <-f.Err():
			return 0, b.unavailable(fmt.Errorf("record not stored: %w", err))
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	b.ingested(len(recs))
	return base, nil
}

// PartitionBounds are a partition's log start offset and high watermark.
type PartitionBounds struct {
	Start, End int64 // End is the offset the next message will have at the least
}

// Bounds answers the offsets every partition lies between (see above).
func (b *Broker) Bounds(ctx context.Context) (PartitionBounds, error) {
	if b.isClosed() {
		return PartitionBounds{}, ErrClosed
	}
	info, err := b.e().stream.Info(ctx)
	if err != nil {
		return PartitionBounds{}, b.unavailable(err)
	}
	return PartitionBounds{Start: int64(max(info.State.FirstSeq, 1)), End: int64(info.State.LastSeq + 1)}, nil
}

// OffsetForTime is the first offset at or after t of every partition (the
// first stream sequence stored then), or the high watermark.
func (b *Broker) OffsetForTime(ctx context.Context, t time.Time) (int64, error) {
	bd, err := b.Bounds(ctx)
	if err != nil {
		return 0, err
	}
	seq, err := b.firstSeqSince(ctx, t, uint64(bd.End-1))
	if err != nil {
		return 0, b.unavailable(err)
	}
	return int64(seq), nil
}

// maxScan bounds how many messages of other partitions one Read steps over.
const maxScan = 4096

// ReadRequest asks Read for a partition's records from Offset on.
type ReadRequest struct {
	Topic      string
	Partition  int32
	Offset     int64
	MaxRecords int // default 500
	MaxBytes   int // of values and keys; at least one record is answered
}

// ReadResult is what Read found.
type ReadResult struct {
	Records []KafkaRecord
	// Bounds are the partition's: End is the global one unless the read
	// reached the end of the topic (see Read).
	Bounds PartitionBounds
}

// Read answers the records of a partition at or after an offset, in order.
// An offset below the log start reads from the start; one above the high
// watermark is ErrOffsetOutOfRange.
func (b *Broker) Read(ctx context.Context, r ReadRequest) (ReadResult, error) {
	t, err := b.Topic(ctx, r.Topic)
	if err != nil {
		return ReadResult{}, err
	}
	if err := checkPartition(t, r.Partition); err != nil {
		return ReadResult{}, err
	}
	bd, err := b.Bounds(ctx)
	if err != nil {
		return ReadResult{}, err
	}
	res := ReadResult{Bounds: bd}
	if r.Offset > bd.End {
		return res, fmt.Errorf("%w: %d is past %d", ErrOffsetOutOfRange, r.Offset, bd.End)
	}
	if r.MaxRecords <= 0 {
		r.MaxRecords = 500
	}
	seq := uint64(max(r.Offset, bd.Start))
	key := scanKey{r.Topic, r.Partition, seq}
	if skip, ok := b.skips().get(key); ok {
		seq = skip
	}
	size, scanned := 0, 0
	atEnd, err := b.scan(ctx, topicFilter(r.Topic), seq, maxScan, func(m storedMsg) bool {
		scanned++
		seq = m.seq + 1
		if partitionOfSubject(m.subject, t.Partitions) != r.Partition {
			return true
		}
		rec := b.recordOf(m, r.Partition)
		size += len(rec.Value) + len(rec.Key)
		res.Records = append(res.Records, rec)
		return len(res.Records) < r.MaxRecords && (r.MaxBytes <= 0 || size < r.MaxBytes)
	})
	if err != nil {
		return res, err
	}
	if len(res.Records) == 0 && seq > key.seq {
		b.skips().put(key, seq) // the next read at key.seq starts here
	}
	if atEnd {
		// Nothing more in this partition: its high watermark is just past
		// its last record (or the offset read from, if there was none), so
		// that a consumer that read it all is at the end (librdkafka's
		// end-of-partition, lag 0) although other partitions' messages
		// have later sequences.
		res.Bounds.End = int64(max(key.seq, uint64(bd.Start)))
		if n := len(res.Records); n > 0 {
			res.Bounds.End = res.Records[n-1].Offset + 1
		}
	}
	return res, nil
}

// recordOf turns a stored message into a record.
func (b *Broker) recordOf(m storedMsg, p int32) KafkaRecord {
	rec := KafkaRecord{Offset: int64(m.seq), Partition: p, Value: m.data, Time: m.time}
	h := m.header
	if strings.HasPrefix(m.subject, kafkaRoot+".") {
		if k := h.Get(hdrKafkaKey); k != "" {
			rec.Key, _ = base64.StdEncoding.DecodeString(k)
		}
		if hs := h.Get(hdrKafkaHeaders); hs != "" {
			if raw, err := base64.StdEncoding.DecodeString(hs); err == nil {
				_ = json.Unmarshal(raw, &rec.Headers)
			}
		}
		if ts := h.Get(hdrKafkaTime); ts != "" {
			if ms, err := strconv.ParseInt(ts, 10, 64); err == nil {
				rec.Time = time.UnixMilli(ms)
			}
		}
		return rec
	}
	dm := b.fromNATS(&nats.Msg{Subject: m.subject, Header: m.header, Data: m.data}, ackMeta{StreamSeq: m.seq, Stored: m.time})
	rec.Key = []byte(dm.DeviceName)
	rec.Time = dm.GenerateTime
	rec.Headers = []KafkaHeader{
		{Key: "topic", Value: []byte(dm.Topic)},
		{Key: "messageId", Value: []byte(dm.MessageID)},
		{Key: "productKey", Value: []byte(dm.ProductKey)},
		{Key: "deviceName", Value: []byte(dm.DeviceName)},
		{Key: "kind", Value: []byte(dm.Kind)},
	}
	return rec
}

// PartitionProgress is a partition seen from a group's position: Lag
// records at or after it, End just past the partition's last record (the
// position itself when nothing follows it), LastTime the last record's time.
type PartitionProgress struct {
	Lag      int64
	End      int64
	LastTime time.Time
}

// maxProgressScan bounds the messages Progress reads for one topic.
const maxProgressScan = 1_000_000

// Progress tells, per partition of topic, how far the group positions
// from[p] are behind (a partition without a position counts from the log
// start), by reading the topic's messages from the lowest position on.
func (b *Broker) Progress(ctx context.Context, topic string, from map[int32]int64) (map[int32]PartitionProgress, error) {
	t, err := b.Topic(ctx, topic)
	if err != nil {
		return nil, err
	}
	bd, err := b.Bounds(ctx)
	if err != nil {
		return nil, err
	}
	pos := func(p int32) int64 {
		if o, ok := from[p]; ok {
			return max(o, bd.Start)
		}
		return bd.Start
	}
	out := make(map[int32]PartitionProgress, t.Partitions)
	low := bd.End
	for p := int32(0); p < int32(t.Partitions); p++ {
		low = min(low, pos(p))
		out[p] = PartitionProgress{End: pos(p)}
	}
	_, err = b.scan(ctx, topicFilter(topic), uint64(low), maxProgressScan, func(m storedMsg) bool {
		p := partitionOfSubject(m.subject, t.Partitions)
		if p < 0 || int(p) >= t.Partitions || int64(m.seq) < pos(p) {
			return true
		}
		pp := out[p]
		pp.Lag++
		pp.End, pp.LastTime = int64(m.seq)+1, m.time
		out[p] = pp
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// NotifyTopics closes arrived when a message of one of topics is stored
// (it is a core NATS subscription on their subjects); stop ends the watch.
func (b *Broker) NotifyTopics(topics ...string) (arrived <-chan struct{}, stop func(), err error) {
	if b.isClosed() {
		return nil, nil, ErrClosed
	}
	ch := make(chan struct{})
	var once sync.Once
	fire := func(*nats.Msg) { once.Do(func() { close(ch) }) }
	var subs []*nats.Subscription
	stop = func() {
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
	}
	for _, t := range topics {
		if err := CheckKafkaName("topic", t); err != nil {
			continue
		}
		sub, err := b.e().nc.Subscribe(topicFilter(t), fire)
		if err != nil {
			stop()
			return nil, nil, b.unavailable(err)
		}
		subs = append(subs, sub)
	}
	return ch, stop, nil
}

// scanKey is a read position Read stepped over without finding a record.
type scanKey struct {
	topic     string
	partition int32
	seq       uint64
}

// skipCache remembers, for an empty read, where the scan ended, so that a
// consumer polling an empty partition of a busy topic does not scan the
// same messages of other partitions again and again.
type skipCache struct {
	mu sync.Mutex
	m  map[scanKey]uint64
}

func (b *Broker) skips() *skipCache { return &b.kafkaSkips }

func (c *skipCache) get(k scanKey) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[k]
	return s, ok
}

func (c *skipCache) put(k scanKey, s uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[scanKey]uint64{}
	}
	c.m[k] = s
}
