package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Position is where Reset moves a group: Earliest, Latest or a time.
type Position struct {
	Earliest bool
	Latest   bool
	Time     time.Time
}

// Clear drops group ref's backlog: what was not delivered and what was
// delivered but not settled. Other groups are untouched.
func (b *Broker) Clear(ctx context.Context, ref string) error {
	return b.Reset(ctx, ref, Position{Latest: true})
}

// Reset moves group ref's position (ref is its id or name); messages from
// there on are delivered again.
func (b *Broker) Reset(ctx context.Context, ref string, p Position) error {
	g, err := b.Group(ctx, ref)
	if err != nil {
		return err
	}
	id := g.ID
	seq, err := b.sequenceAt(ctx, p)
	if err != nil {
		return err
	}
	name := consumerName(id)
	// A per-partition reset's floors belong to the old position too.
	if err := b.dropRule(ctx, name); err != nil {
		return err
	}
	// Messages the dispatcher holds belong to the old position.
	b.dropHeld(name)
	_, err = settled(b, ctx, func(ctx context.Context) (*jetstream.ConsumerResetResponse, error) {
		return b.e().js.ResetConsumerToSequence(ctx, streamName, name, seq)
	})
	if err != nil {
		return fmt.Errorf("resetting group %s: %w", id, err)
	}
	return nil
}

// sequenceAt resolves a position to the first stream sequence it delivers.
func (b *Broker) sequenceAt(ctx context.Context, p Position) (uint64, error) {
	info, err := settled(b, ctx, func(ctx context.Context) (*jetstream.StreamInfo, error) { return b.e().stream.Info(ctx) })
	if err != nil {
		return 0, fmt.Errorf("reading the stream's bounds: %w", err)
	}
	last := info.State.LastSeq
	switch {
	case p.Earliest:
		return max(info.State.FirstSeq, 1), nil
	case p.Latest:
		return last + 1, nil
	case !p.Time.IsZero():
		return b.firstSeqSince(ctx, p.Time, last)
	}
	return 0, fmt.Errorf("%w: a reset needs earliest, latest or a time", ErrInvalidArgument)
}

// firstSeqSince asks the stream for its first message at or after t
// ($JS.API.STREAM.MSG.GET with start_time; nats.go has no helper for it).
func (b *Broker) firstSeqSince(ctx context.Context, t time.Time, last uint64) (uint64, error) {
	req, _ := json.Marshal(map[string]string{"start_time": t.UTC().Format(time.RFC3339Nano)})
	resp, err := settled(b, ctx, func(ctx context.Context) (*nats.Msg, error) {
		return b.e().nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+streamName, req)
	})
	if err != nil {
		return 0, fmt.Errorf("finding the first message since %v: %w", t, err)
	}
	var r struct {
		Message *struct {
			Seq uint64 `json:"seq"`
		} `json:"message"`
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return 0, err
	}
	if r.Message == nil {
		return last + 1, nil // nothing that recent: start after the end
	}
	return r.Message.Seq, nil
}

// dropHeld hands back the messages a dispatcher pulled but has not delivered.
func (b *Broker) dropHeld(name string) {
	g := b.live(name)
	if g == nil {
		return
	}
	g.mu.Lock()
	held := g.pending
	g.pending = nil
	g.mu.Unlock()
	g.giveBack(held...)
}

// Backlog is a group's accumulation: messages not yet delivered plus
// messages delivered and not yet settled. It takes the group's id only:
// it is read for every group at each scrape, straight from the consumer.
func (b *Broker) Backlog(ctx context.Context, id string) (int, error) {
	if b.isClosed() {
		return 0, ErrClosed
	}
	if err := checkGroupID(id); err != nil {
		return 0, err
	}
	c, err := b.e().stream.Consumer(ctx, consumerName(id))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, fmt.Errorf("%w: %q", ErrGroupNotFound, id)
	}
	if err != nil {
		return 0, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, err
	}
	return int(info.NumPending) + info.NumAckPending, nil
}
