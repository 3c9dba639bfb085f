package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Kafka consumer groups keep their positions as committed offsets, one KV
// entry per group, topic and partition (bucket amqpemu_kafka_offsets, key
// <group>.<topic>.<partition>, '.' and '=' escaped). A committed offset is
// the next offset the group consumes, as in Kafka. The groups themselves
// (their remark, whether a client made them) are in amqpemu_kafka_groups.
// Membership (who is joined, generations) is the Kafka listener's.

// KafkaGroup is a Kafka consumer group.
type KafkaGroup struct {
	Name      string    `json:"name"`
	Remark    string    `json:"remark,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	Auto      bool      `json:"auto,omitempty"` // made by a client joining or committing
}

// CommittedOffset is a group's position in one partition.
type CommittedOffset struct {
	Topic     string    `json:"topic"`
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	Metadata  string    `json:"metadata,omitempty"`
	Time      time.Time `json:"time"`
}

// CreateKafkaGroup makes group name.
func (b *Broker) CreateKafkaGroup(ctx context.Context, name, remark string) (KafkaGroup, error) {
	return b.createKafkaGroup(ctx, name, remark, false)
}

func (b *Broker) createKafkaGroup(ctx context.Context, name, remark string, auto bool) (KafkaGroup, error) {
	if err := CheckKafkaName("group", name); err != nil {
		return KafkaGroup{}, err
	}
	kv, err := b.kafkaKV(ctx, kafkaGroupsBucket)
	if err != nil {
		return KafkaGroup{}, err
	}
	g := KafkaGroup{Name: name, Remark: remark, CreatedAt: time.Now().UTC(), Auto: auto}
	data, _ := json.Marshal(g)
	if _, err := kv.Create(ctx, kvToken(name), data); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return KafkaGroup{}, fmt.Errorf("%w: %q", ErrKafkaGroupExists, name)
		}
		return KafkaGroup{}, b.unavailable(err)
	}
	return g, nil
}

// KafkaGroup reads group name.
func (b *Broker) KafkaGroup(ctx context.Context, name string) (KafkaGroup, error) {
	if err := CheckKafkaName("group", name); err != nil {
		return KafkaGroup{}, err
	}
	kv, err := b.kafkaKV(ctx, kafkaGroupsBucket)
	if err != nil {
		return KafkaGroup{}, err
	}
	e, err := kv.Get(ctx, kvToken(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return KafkaGroup{}, fmt.Errorf("%w: %q", ErrKafkaGroupUnknown, name)
	}
	if err != nil {
		return KafkaGroup{}, b.unavailable(err)
	}
	var g KafkaGroup
	if err := json.Unmarshal(e.Value(), &g); err != nil {
		return KafkaGroup{}, fmt.Errorf("group %q: %w", name, err)
	}
	return g, nil
}

// EnsureKafkaGroup reads group name, making it if need be (a client joined).
func (b *Broker) EnsureKafkaGroup(ctx context.Context, name string) (KafkaGroup, error) {
	g, err := b.KafkaGroup(ctx, name)
	if !errors.Is(err, ErrKafkaGroupUnknown) {
		return g, err
	}
	g, err = b.createKafkaGroup(ctx, name, "", true)
	if errors.Is(err, ErrKafkaGroupExists) {
		return b.KafkaGroup(ctx, name)
	}
	return g, err
}

// KafkaGroups lists the Kafka groups by name.
func (b *Broker) KafkaGroups(ctx context.Context) ([]KafkaGroup, error) {
	kv, err := b.kafkaKV(ctx, kafkaGroupsBucket)
	if err != nil {
		return nil, err
	}
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, b.unavailable(err)
	}
	var out []KafkaGroup
	for k := range lister.Keys() {
		if g, err := b.KafkaGroup(ctx, kvUntoken(k)); err == nil {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(x, y KafkaGroup) int { return strings.Compare(x.Name, y.Name) })
	return out, nil
}

// DeleteKafkaGroup removes group name and its committed offsets.
func (b *Broker) DeleteKafkaGroup(ctx context.Context, name string) error {
	if _, err := b.KafkaGroup(ctx, name); err != nil {
		return err
	}
	offs, err := b.CommittedOffsets(ctx, name)
	if err != nil {
		return err
	}
	okv, err := b.kafkaKV(ctx, kafkaOffsetsBucket)
	if err != nil {
		return err
	}
	for _, o := range offs {
		if err := okv.Purge(ctx, offsetKey(name, o.Topic, o.Partition)); err != nil {
			return b.unavailable(err)
		}
	}
	gkv, err := b.kafkaKV(ctx, kafkaGroupsBucket)
	if err != nil {
		return err
	}
	return b.unavailable(gkv.Purge(ctx, kvToken(name)))
}

func offsetKey(group, topic string, p int32) string {
	return kvToken(group) + "." + kvToken(topic) + "." + strconv.Itoa(int(p))
}

// CommitOffsets stores a group's positions (the group is made if need be).
func (b *Broker) CommitOffsets(ctx context.Context, group string, offs []CommittedOffset) error {
	if _, err := b.EnsureKafkaGroup(ctx, group); err != nil {
		return err
	}
	for _, o := range offs {
		if err := CheckKafkaName("topic", o.Topic); err != nil {
			return err
		}
		if o.Partition < 0 || o.Partition >= MaxPartitions {
			return fmt.Errorf("%w: partition %d", ErrPartitionNotFound, o.Partition)
		}
	}
	kv, err := b.kafkaKV(ctx, kafkaOffsetsBucket)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	for _, o := range offs {
		if o.Time.IsZero() {
			o.Time = now
		}
		data, _ := json.Marshal(o)
		if _, err := kv.Put(ctx, offsetKey(group, o.Topic, o.Partition), data); err != nil {
			return b.unavailable(err)
		}
	}
	return nil
}

// CommittedOffsets answers every committed position of group, by topic
// and partition.
func (b *Broker) CommittedOffsets(ctx context.Context, group string) ([]CommittedOffset, error) {
	if err := CheckKafkaName("group", group); err != nil {
		return nil, err
	}
	kv, err := b.kafkaKV(ctx, kafkaOffsetsBucket)
	if err != nil {
		return nil, err
	}
	lister, err := kv.ListKeysFiltered(ctx, kvToken(group)+".>")
	if err != nil {
		return nil, b.unavailable(err)
	}
	var out []CommittedOffset
	for k := range lister.Keys() {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, b.unavailable(err)
		}
		var o CommittedOffset
		if json.Unmarshal(e.Value(), &o) == nil {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(x, y CommittedOffset) int {
		if c := strings.Compare(x.Topic, y.Topic); c != 0 {
			return c
		}
		return int(x.Partition - y.Partition)
	})
	return out, nil
}

// OffsetReset is where ResetKafkaGroup moves a group: to Earliest, Latest,
// a Time (each for every partition), or per-partition Offsets (one topic).
type OffsetReset struct {
	Topic    string // "": every topic the group has committed offsets in
	Earliest bool
	Latest   bool
	Time     time.Time
	Offsets  map[int32]int64
}

// ResetKafkaGroup moves group's committed offsets. It does not check for
// joined members: the Kafka listener (which knows them) and the control
// plane refuse a reset of an active group before calling it.
func (b *Broker) ResetKafkaGroup(ctx context.Context, group string, r OffsetReset) error {
	if _, err := b.KafkaGroup(ctx, group); err != nil {
		return err
	}
	topics, err := b.resetTopics(ctx, group, r)
	if err != nil {
		return err
	}
	var to int64
	switch {
	case r.Offsets != nil:
	case r.Earliest, r.Latest, !r.Time.IsZero():
		seq, err := b.sequenceAt(ctx, Position{Earliest: r.Earliest, Latest: r.Latest, Time: r.Time})
		if err != nil {
			return b.unavailable(err)
		}
		to = int64(seq)
	default:
		return fmt.Errorf("%w: a reset needs earliest, latest, a time or offsets", ErrInvalidArgument)
	}
	var offs []CommittedOffset
	for _, t := range topics {
		if r.Offsets != nil {
			for p, o := range r.Offsets {
				if err := checkPartition(t, p); err != nil {
					return err
				}
				if o < 0 {
					return fmt.Errorf("%w: offset %d of partition %d", ErrInvalidArgument, o, p)
				}
				offs = append(offs, CommittedOffset{Topic: t.Name, Partition: p, Offset: o})
			}
			continue
		}
		for p := int32(0); p < int32(t.Partitions); p++ {
			offs = append(offs, CommittedOffset{Topic: t.Name, Partition: p, Offset: to})
		}
	}
	return b.CommitOffsets(ctx, group, offs)
}

// resetTopics are the topics a reset applies to.
func (b *Broker) resetTopics(ctx context.Context, group string, r OffsetReset) ([]KafkaTopic, error) {
	if r.Topic != "" {
		t, err := b.Topic(ctx, r.Topic)
		if err != nil {
			return nil, err
		}
		return []KafkaTopic{t}, nil
	}
	if r.Offsets != nil {
		return nil, fmt.Errorf("%w: per-partition offsets need a topic", ErrInvalidArgument)
	}
	offs, err := b.CommittedOffsets(ctx, group)
	if err != nil {
		return nil, err
	}
	var out []KafkaTopic
	seen := map[string]bool{}
	for _, o := range offs {
		if seen[o.Topic] {
			continue
		}
		seen[o.Topic] = true
		t, err := b.Topic(ctx, o.Topic)
		if errors.Is(err, ErrTopicNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}
