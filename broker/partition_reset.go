package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Per-partition resets of the IoT consumer groups (those AMQP and STOMP
// clients consume). A group keeps its one durable consumer, whose position
// is one stream sequence; a per-partition reset is a rewind with floors:
//
//   - the group must have no online client, on any node (ErrGroupActive);
//   - with F the consumer's ack floor and L the stream's last sequence, a
//     skip rule is stored for the group: {topic, partitions, floors
//     {p: offset}, rest: F+1, upTo: L};
//   - the consumer is reset to the lowest of the floors and F+1;
//   - the dispatcher acknowledges at once, without delivering or counting
//     it as consumed, each message with a sequence up to upTo that is in a
//     floored partition of the topic below its floor, or in no floored
//     partition below rest. What follows upTo is never skipped.
//
// So partition p resumes at its floor, and every other partition (and
// product) where the group was. The dispatcher loads the rule when the
// group gets its first member on that node (it cannot change while the
// group has members); the rule is dropped once the consumer's ack floor
// passes upTo. A whole-group Reset or Clear drops it too.
//
// On a shared engine a dispatcher holding a rule watches its key, so that
// a whole-group Reset made on another node ends it there too (as soon as
// the watch tells: a message or two may still be judged by it). A client
// joining on another node while a per-partition reset is made may start
// with the rule that was there before: a reset under live consumers is
// racy, which is why it is refused while the group has any.
const skipRulesBucket = "amqpemu_skip_rules"

// ErrGroupActive refuses a per-partition reset while the group has online
// clients.
var ErrGroupActive = errors.New("consumer group has online clients")

// PartitionPosition is where ResetPartitions moves one partition: to
// Offset (a stream sequence, the Kafka offset; one below the log start is
// the log start) or, when Position is set, to the earliest message, past
// the latest one, or to the first one stored at or after a time.
type PartitionPosition struct {
	Partition int32
	Offset    int64
	Position
}

// skipRule is what a per-partition reset leaves for the dispatcher.
type skipRule struct {
	Topic      string           `json:"topic"`
	Partitions int              `json:"partitions"`
	Floors     map[int32]uint64 `json:"floors"`
	Rest       uint64           `json:"rest"`
	UpTo       uint64           `json:"upTo"`
	At         time.Time        `json:"at"`

	token string // subjectToken(Topic), the subject's third token
	rev   uint64 // the KV revision it was read at
}

// skips reports whether the message at seq with subject is to be skipped.
func (r *skipRule) skips(subject string, seq uint64) bool {
	if seq > r.UpTo {
		return false
	}
	if r.inTopic(subject) {
		if f, ok := r.Floors[partitionOfSubject(subject, r.Partitions)]; ok {
			return seq < f
		}
	}
	return seq < r.Rest
}

// inTopic reports whether subject (dev.<kind>.<pk>.<dn>) is of the rule's topic.
func (r *skipRule) inTopic(subject string) bool {
	_, rest, _ := strings.Cut(subject, ".")
	_, rest, _ = strings.Cut(rest, ".")
	tok, _, _ := strings.Cut(rest, ".")
	return tok == r.token
}

func (b *Broker) skipRulesKV(ctx context.Context) (jetstream.KeyValue, error) {
	return b.kafkaKV(ctx, skipRulesBucket)
}

// ResetPartitions moves group ref's position in some partitions of topic
// (a product key: its device messages), leaving the other partitions and
// topics where they are. It is refused with ErrGroupActive while the group
// has online clients.
func (b *Broker) ResetPartitions(ctx context.Context, ref, topic string, parts []PartitionPosition) error {
	g, err := b.Group(ctx, ref)
	if err != nil {
		return err
	}
	t, err := b.groupTopic(ctx, topic)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		return fmt.Errorf("%w: a per-partition reset needs at least one partition", ErrInvalidArgument)
	}
	e := b.e()
	sinfo, err := e.stream.Info(ctx)
	if err != nil {
		return b.unavailable(err)
	}
	first, last := max(sinfo.State.FirstSeq, 1), sinfo.State.LastSeq
	floors := make(map[int32]uint64, len(parts))
	for _, pp := range parts {
		if err := checkPartition(t, pp.Partition); err != nil {
			return err
		}
		if _, dup := floors[pp.Partition]; dup {
			return fmt.Errorf("%w: partition %d is given twice", ErrInvalidArgument, pp.Partition)
		}
		seq, err := b.partitionSeq(ctx, pp, first, last)
		if err != nil {
			return err
		}
		floors[pp.Partition] = seq
	}
	if err := b.checkIdle(ctx, g.ID); err != nil {
		return err
	}
	name := consumerName(g.ID)
	c, err := e.stream.Consumer(ctx, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("%w: %q", ErrGroupNotFound, g.ID)
	}
	if err != nil {
		return b.unavailable(err)
	}
	cinfo, err := c.Info(ctx)
	if err != nil {
		return b.unavailable(err)
	}
	rule := &skipRule{Topic: t.Name, Partitions: t.Partitions, Floors: floors,
		Rest: max(cinfo.AckFloor.Stream+1, first), UpTo: last, At: time.Now().UTC()}
	start := rule.Rest
	for _, f := range floors {
		start = min(start, f)
	}
	start = max(start, first)
	kv, err := b.skipRulesKV(ctx)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(rule)
	rev, err := kv.Put(ctx, kvToken(name), data)
	if err != nil {
		return b.unavailable(fmt.Errorf("storing the reset of group %s: %w", g.ID, err))
	}
	rule.token, rule.rev = subjectToken(rule.Topic), rev
	if d := b.live(name); d != nil {
		// What the dispatcher holds was delivered from the old position
		// and is forgotten, not handed back: the reset ends those
		// deliveries, and a nak processed after it would make JetStream
		// deliver the message's new delivery twice.
		d.mu.Lock()
		clear(d.pending)
		d.pending = nil
		d.mu.Unlock()
		d.setRule(rule)
	}
	if _, err := e.js.ResetConsumerToSequence(ctx, streamName, name, start); err != nil {
		return fmt.Errorf("resetting group %s: %w", g.ID, err)
	}
	return nil
}

// groupTopic is the topic a group's per-partition reset names: a topic
// made already, or a product with a subscription or stored messages (its
// topic is then made, as on first use by a Kafka client).
func (b *Broker) groupTopic(ctx context.Context, name string) (KafkaTopic, error) {
	t, err := b.Topic(ctx, name)
	if !errors.Is(err, ErrTopicNotFound) {
		return t, err
	}
	_, subscribed := b.subCache.all()[name]
	if !subscribed {
		found := false
		if _, err := b.scan(ctx, topicFilter(name), 1, 1, func(storedMsg) bool { found = true; return false }); err != nil {
			return KafkaTopic{}, err
		}
		if !found {
			return KafkaTopic{}, err
		}
	}
	return b.EnsureTopic(ctx, name)
}

// partitionSeq resolves one partition's new position to a stream sequence.
func (b *Broker) partitionSeq(ctx context.Context, pp PartitionPosition, first, last uint64) (uint64, error) {
	p := pp.Position
	set := 0
	for _, on := range []bool{p.Earliest, p.Latest, !p.Time.IsZero()} {
		if on {
			set++
		}
	}
	switch {
	case set > 1 || (set == 1 && pp.Offset != 0):
		return 0, fmt.Errorf("%w: partition %d: give one of an offset, earliest, latest or a time", ErrInvalidArgument, pp.Partition)
	case p.Earliest:
		return first, nil
	case p.Latest:
		return last + 1, nil
	case !p.Time.IsZero():
		seq, err := b.firstSeqSince(ctx, p.Time, last)
		if err != nil {
			return 0, b.unavailable(err)
		}
		return max(seq, first), nil
	case pp.Offset < 0:
		return 0, fmt.Errorf("%w: partition %d: offset %d is negative", ErrInvalidArgument, pp.Partition, pp.Offset)
	case uint64(pp.Offset) > last+1:
		return 0, fmt.Errorf("%w: partition %d: offset %d is past the end (%d)", ErrOffsetOutOfRange, pp.Partition, pp.Offset, last+1)
	}
	return max(uint64(pp.Offset), first), nil
}

// checkIdle refuses with ErrGroupActive while group id has online
// clients: on this node, or (on a shared engine) on any.
func (b *Broker) checkIdle(ctx context.Context, id string) error {
	n := len(b.Members(id))
	if n == 0 && b.shared() {
		held, err := b.slotHolders(ctx, consumerName(id))
		if err != nil {
			return b.unavailable(fmt.Errorf("reading the member slots: %w", err))
		}
		n = len(held)
	}
	if n > 0 {
		return fmt.Errorf("%w: group %s has %d; a per-partition reset needs them all gone", ErrGroupActive, id, n)
	}
	return nil
}

// loadRule reads consumer name's skip rule, or nil. A rule the consumer's
// ack floor has passed is dropped instead.
func (b *Broker) loadRule(ctx context.Context, name string) (*skipRule, error) {
	r, err := b.peekRule(ctx, name)
	if r == nil || err != nil {
		return nil, err
	}
	if done, err := b.ruleDone(ctx, name, r); err == nil && done {
		return nil, nil
	}
	return r, nil // not done, or not known to be: checked again later
}

// ruleDone reports whether the consumer's ack floor passed the rule's
// upTo, and if so deletes the rule (unless a newer one replaced it).
func (b *Broker) ruleDone(ctx context.Context, name string, r *skipRule) (bool, error) {
	c, err := b.e().stream.Consumer(ctx, name)
	if err != nil {
		return false, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return false, err
	}
	if info.AckFloor.Stream < r.UpTo {
		return false, nil
	}
	kv, err := b.skipRulesKV(ctx)
	if err != nil {
		return false, err
	}
	err = kv.Delete(ctx, kvToken(name), jetstream.LastRevision(r.rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return false, err
	}
	return true, nil
}

// dropRule deletes consumer name's skip rule, stored and loaded: a
// whole-group reset replaces what it said.
func (b *Broker) dropRule(ctx context.Context, name string) error {
	if d := b.live(name); d != nil {
		d.setRule(nil)
	}
	kv, err := b.skipRulesKV(ctx)
	if err != nil {
		return err
	}
	if _, err := kv.Get(ctx, kvToken(name)); errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err := kv.Purge(ctx, kvToken(name)); err != nil {
		return b.unavailable(fmt.Errorf("dropping the per-partition reset of %s: %w", name, err))
	}
	return nil
}

// ruleCheckEvery bounds how often a dispatcher asks whether its rule is done.
const ruleCheckEvery = 5 * time.Second

// setRule installs (or, nil, removes) the dispatcher's skip rule; what
// waits for a member is checked against it at once.
func (g *dispatcher) setRule(r *skipRule) {
	g.mu.Lock()
	if g.rule != r && g.unwatch != nil {
		g.unwatch()
		g.unwatch = nil
	}
	if r != nil && g.rule != r && g.b.shared() {
		ctx, cancel := context.WithCancel(g.ctx)
		g.unwatch = cancel
		go g.watchRule(ctx, r)
	}
	g.rule = r
	var skipped []fetched
	if r != nil {
		g.pending, skipped = r.filter(g.pending)
	}
	g.mu.Unlock()
	for _, f := range skipped {
		g.tell(f.msg, Ack)
	}
}

// filter splits msgs, in place, into those to deliver and those to skip;
// past says whether one of them follows the rule's upTo.
func (r *skipRule) filter(msgs []fetched) (kept, skipped []fetched) {
	kept = msgs[:0]
	for _, f := range msgs {
		if r.skips(f.msg.Subject, f.meta.StreamSeq) {
			skipped = append(skipped, f)
		} else {
			kept = append(kept, f)
		}
	}
	clear(msgs[len(kept):])
	return kept, skipped
}

// skipFrom takes the messages g's rule skips out of msgs. g.mu is held;
// the caller acknowledges what it returns as skipped.
func (g *dispatcher) skipFrom(msgs []fetched) (kept, skipped []fetched) {
	r := g.rule
	if r == nil {
		return msgs, nil
	}
	kept, skipped = r.filter(msgs)
	if n := len(kept); n > 0 && kept[n-1].meta.StreamSeq > r.UpTo && time.Since(g.ruleChecked) > ruleCheckEvery {
		g.ruleChecked = time.Now()
		go g.checkRule(r)
	}
	return kept, skipped
}

// watchRule drops rule r when its key changes (another node's whole-group
// reset deleted it) until ctx ends.
func (g *dispatcher) watchRule(ctx context.Context, r *skipRule) {
	gone := func() {
		g.mu.Lock()
		if g.rule == r {
			g.rule = nil
		}
		g.mu.Unlock()
	}
	kv, err := g.b.skipRulesKV(ctx)
	if err != nil {
		return
	}
	w, err := kv.Watch(ctx, kvToken(g.name), jetstream.UpdatesOnly())
	if err != nil {
		g.log.Warn().Err(err).Msg("not watching the group's per-partition reset rule")
		return
	}
	defer w.Stop()
	// A change between loading the rule and starting the watch.
	if en, err := kv.Get(ctx, kvToken(g.name)); errors.Is(err, jetstream.ErrKeyNotFound) || (err == nil && en.Revision() != r.rev) {
		gone()
		return
	}
	for {
		select {
		case en, ok := <-w.Updates():
			if !ok {
				return
			}
			if en != nil && en.Revision() != r.rev {
				gone()
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// checkRule removes rule r once the consumer's ack floor passed its upTo.
func (g *dispatcher) checkRule(r *skipRule) {
	ctx, cancel := context.WithTimeout(g.ctx, 5*time.Second)
	defer cancel()
	done, err := g.b.ruleDone(ctx, g.name, r)
	if err != nil || !done {
		return
	}
	g.setRuleIf(r, nil)
}

// setRuleIf replaces the rule with to if it is still r.
func (g *dispatcher) setRuleIf(r, to *skipRule) {
	g.mu.Lock()
	same := g.rule == r
	g.mu.Unlock()
	if same {
		g.setRule(to)
	}
}

// loadRuleOnFirst loads the group's rule when g has no member yet.
func (g *dispatcher) loadRuleOnFirst(ctx context.Context) error {
	g.mu.Lock()
	first := len(g.members) == 0
	g.mu.Unlock()
	if !first {
		return nil
	}
	r, err := g.b.loadRule(ctx, g.name)
	if err != nil {
		return err
	}
	g.setRule(r)
	return nil
}
