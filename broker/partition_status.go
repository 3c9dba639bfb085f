package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

// GroupPartition is an IoT group's position in one partition of a topic:
// Offset is where it resumes there (the next message it gets from that
// partition has this offset or a later one), Pending how many of the
// partition's messages at or after it the group has still to get.
type GroupPartition struct {
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
	Pending   int   `json:"pending"`
}

// GroupPartitions tells group ref's position and backlog in each partition
// of topic, reading the topic's messages from the lowest position on (at
// most maxProgressScan). The position is the consumer's ack floor + 1 (a
// message after it acknowledged out of order counts as pending), or what a
// per-partition reset not yet done set.
func (b *Broker) GroupPartitions(ctx context.Context, ref, topic string) ([]GroupPartition, error) {
	g, err := b.Group(ctx, ref)
	if err != nil {
		return nil, err
	}
	t, err := b.groupTopic(ctx, topic)
	if err != nil {
		return nil, err
	}
	name := consumerName(g.ID)
	c, err := b.e().stream.Consumer(ctx, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrGroupNotFound, g.ID)
	}
	if err != nil {
		return nil, b.unavailable(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil, b.unavailable(err)
	}
	bd, err := b.Bounds(ctx)
	if err != nil {
		return nil, err
	}
	rule, err := b.peekRule(ctx, name)
	if err != nil {
		return nil, err
	}
	base := max(int64(info.AckFloor.Stream)+1, bd.Start)
	out := make([]GroupPartition, t.Partitions)
	low := bd.End
	for p := range out {
		pos := base
		if rule != nil && rule.Topic == t.Name {
			if f, ok := rule.Floors[int32(p)]; ok {
				pos = max(pos, int64(f))
			} else {
				pos = max(pos, int64(rule.Rest))
			}
		} else if rule != nil {
			pos = max(pos, int64(rule.Rest))
		}
		out[p] = GroupPartition{Partition: int32(p), Offset: pos}
		low = min(low, pos)
	}
	filters := info.Config.FilterSubjects
	if info.Config.FilterSubject != "" {
		filters = append(filters, info.Config.FilterSubject)
	}
	_, err = b.scan(ctx, topicFilter(t.Name), uint64(low), maxProgressScan, func(m storedMsg) bool {
		p := partitionOfSubject(m.subject, t.Partitions)
		if p < 0 || int(p) >= t.Partitions || int64(m.seq) < out[p].Offset || !matchesAny(m.subject, filters) {
			return true
		}
		out[p].Pending++
		return true
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// matchesAny reports whether subject is one a consumer with filters gets.
func matchesAny(subject string, filters []string) bool {
	for _, f := range filters {
		if server.SubjectMatchesFilter(subject, f) {
			return true
		}
	}
	return false
}

// peekRule reads consumer name's skip rule, or nil, leaving it in place.
func (b *Broker) peekRule(ctx context.Context, name string) (*skipRule, error) {
	kv, err := b.skipRulesKV(ctx)
	if err != nil {
		return nil, err
	}
	en, err := kv.Get(ctx, kvToken(name))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, b.unavailable(err)
	}
	r := &skipRule{}
	if err := json.Unmarshal(en.Value(), r); err != nil {
		b.log.Warn().Err(err).Str("consumer", name).Msg("ignoring a corrupt skip rule")
		return nil, nil
	}
	r.token, r.rev = subjectToken(r.Topic), en.Revision()
	return r, nil
}
