package broker

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Peeked is a message of a group's backlog, read without consuming it.
type Peeked struct {
	DeviceMessage
	Seq uint64 // the message's stream sequence
	// Delivered says the message is with a client of the group and not yet
	// settled (as far as this node's dispatcher knows).
	Delivered bool
}

// Peek bounds: how many messages one call returns.
const (
	DefaultPeek = 10
	MaxPeek     = 100
)

// Peek returns the next n messages (1..MaxPeek; 0 means DefaultPeek) of
// group ref's backlog, oldest first, without consuming them: it only reads
// the consumer's info and the stream, so the group's position, deliveries
// and accumulation are as they were.
//
// The backlog starts after the consumer's ack floor. The stream is read
// forward from there with $JS.API.STREAM.MSG.GET and next_by_subj, once per
// filter subject of the consumer, merging the answers by sequence: every
// request returns a message of the group, so the cost is about n plus the
// number of filters, whatever else the stream holds. Between the ack floor
// and the consumer's last delivered sequence lie messages delivered and not
// settled (backlog; Delivered when a client of this node holds them) and
// messages settled out of order (not backlog). JetStream does not list which
// are which, so this node's dispatcher decides: a message there that it
// neither holds nor has with a client is taken as settled, unless the
// consumer counts more messages pending acknowledgement than the dispatcher
// knows of (another node's clients, or a message handed back and not yet
// redelivered), in which case it is shown. At most maxPeekLookups(n)
// requests are made; a call that reaches the bound returns what it has.
func (b *Broker) Peek(ctx context.Context, ref string, n int) ([]Peeked, error) {
	if n == 0 {
		n = DefaultPeek
	}
	if n < 1 || n > MaxPeek {
		return nil, fmt.Errorf("%w: a peek takes 1 to %d messages, not %d", ErrInvalidArgument, MaxPeek, n)
	}
	if b.isClosed() {
		return nil, ErrClosed
	}
	g, err := b.Group(ctx, ref)
	if err != nil {
		return nil, err
	}
	e := b.e()
	name := consumerName(g.ID)
	c, err := e.stream.Consumer(ctx, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrGroupNotFound, ref)
	}
	if err != nil {
		return nil, b.unavailable(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil, b.unavailable(err)
	}
	filters := info.Config.FilterSubjects
	if len(filters) == 0 {
		filters = []string{info.Config.FilterSubject} // "" reads every subject
	}
	known := b.unsettled(name)
	r := peekReader{e: e, filters: filters, budget: maxPeekLookups(n) + len(filters)}
	out := make([]Peeked, 0, n)
	from := info.AckFloor.Stream + 1
	// Unknown messages in flight are shown only if JetStream has some the
	// dispatcher does not know of.
	showUnknown := info.NumAckPending > known.count()
	for len(out) < n {
		raw, err := r.next(ctx, from)
		if err != nil {
			return nil, b.unavailable(fmt.Errorf("peeking at group %s: %w", g.ID, err))
		}
		if raw == nil {
			break
		}
		from = raw.Sequence + 1
		p := Peeked{Seq: raw.Sequence}
		if raw.Sequence <= info.Delivered.Stream {
			state, ok := known[raw.Sequence]
			if !ok && !showUnknown {
				continue // settled out of order
			}
			p.Delivered = state == withClient
		}
		msg := &nats.Msg{Subject: raw.Subject, Header: raw.Header, Data: raw.Data}
		p.DeviceMessage = b.fromNATS(msg, ackMeta{StreamSeq: raw.Sequence, Stored: raw.Time})
		out = append(out, p)
	}
	return out, nil
}

// maxPeekLookups bounds the stream requests of a peek at n messages
// (beyond one per filter): room for n messages and for as many messages
// settled out of order as are commonly in flight.
func maxPeekLookups(n int) int { return 10*n + 1000 }

// peekReader reads a stream forward through several filter subjects, one
// message-get request per filter at a time, merged by sequence.
type peekReader struct {
	e       *engine
	filters []string
	heads   []*jetstream.RawStreamMsg // per filter, the next message at or after its from; nil: none
	from    []uint64                  // per filter, where heads[i] was read from (0: not read)
	budget  int                       // requests left
}

// next returns the first message at or after seq on any filter, or nil when
// there is none (or the request budget is spent).
func (r *peekReader) next(ctx context.Context, seq uint64) (*jetstream.RawStreamMsg, error) {
	if r.heads == nil {
		r.heads = make([]*jetstream.RawStreamMsg, len(r.filters))
		r.from = make([]uint64, len(r.filters))
	}
	var best *jetstream.RawStreamMsg
	for i, f := range r.filters {
		stale := r.from[i] == 0 || (r.heads[i] != nil && r.heads[i].Sequence < seq)
		if stale {
			if r.budget <= 0 {
				return nil, nil
			}
			r.budget--
			m, err := r.e.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(f))
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				m, err = nil, nil
			}
			if err != nil {
				return nil, err
			}
			r.heads[i], r.from[i] = m, seq
		}
		if h := r.heads[i]; h != nil && (best == nil || h.Sequence < best.Sequence) {
			best = h
		}
	}
	return best, nil
}

// unsettledState is where this node's dispatcher has a message JetStream
// delivered to it.
type unsettledState uint8

const (
	heldBack   unsettledState = iota + 1 // pulled, waiting for a member with credit
	withClient                           // delivered to a member, not settled
)

type unsettledSet map[uint64]unsettledState

func (s unsettledSet) count() int { return len(s) }

// unsettled lists, by stream sequence, the messages consumer name's
// dispatcher on this node holds or has with its members.
func (b *Broker) unsettled(name string) unsettledSet {
	out := unsettledSet{}
	g := b.live(name)
	if g == nil {
		return out
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, f := range g.pending {
		out[f.meta.StreamSeq] = heldBack
	}
	for _, m := range g.members {
		for _, f := range m.inflight {
			if meta, ok := parseAckReply(f.msg.Reply); ok {
				out[meta.StreamSeq] = withClient
			}
		}
	}
	return out
}
