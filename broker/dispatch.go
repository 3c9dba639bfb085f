package broker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// MemberInfo describes an online client of a group.
type MemberInfo struct {
	ClientID string
	Address  string // ip:port
}

// Delivery is one message handed to a member.
type Delivery struct {
	Token       uint64 // give it back to Settle
	Message     DeviceMessage
	Raw         []byte // generic queues: the message exactly as it was sent
	Redelivered bool
}

// Receiver takes a member's deliveries. Deliver must not block; it returns
// false when the member is gone (the message then goes to another member).
type Receiver interface {
	Deliver(d Delivery) bool
}

// DrainReceiver is a Receiver whose front end drains (AMQP): Member.Drain
// ends with a call to Drained, after every delivery made before it.
type DrainReceiver interface {
	Receiver
	Drained()
}

// BatchReceiver is a Receiver that also takes several deliveries at once:
// what the dispatcher holds for it arrives together, so a front end can
// write a backlog out in a few syscalls instead of one per message.
type BatchReceiver interface {
	Receiver
	DeliverBatch(ds []Delivery) bool
}

// Outcome is how a member settled a delivery.
type Outcome uint8

const (
	Ack     Outcome = iota // processed: acknowledged to JetStream
	Requeue                // released: redelivered at once, to any member
	Drop                   // rejected: never redelivered
)

// dispatcher hands one durable consumer's messages to its members.
// Lock order: Broker.mu before dispatcher.mu.
type dispatcher struct {
	b     *Broker
	name  string // the durable consumer
	label string // the group id or queue address, for the Observer
	log   zerolog.Logger
	// settleLog is log, sampled (settle.go).
	settleLog zerolog.Logger
	rng       *rand.Rand

	// nextSubject is where pull requests go: the consumer's MSG.NEXT API.
	nextSubject string
	// eng is the engine connection run subscribes on (pull.go); owned by run.
	eng *engine
	p   puller

	mu      sync.Mutex
	members []*Member
	credit  int       // sum of the members' credit
	pending []fetched // delivered by JetStream, waiting for a member with credit
	asked
	stopped  bool
	consumed consumption // acknowledged by any member, departed ones included
	// rule is a per-partition reset's skip rule (partition_reset.go), nil
	// almost always; ruleChecked is when it was last checked for done.
	rule        *skipRule
	ruleChecked time.Time
	unwatch     context.CancelFunc // ends the watch of rule's key, on a shared engine

	wake   chan struct{} // capacity 1: credit arrived
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// Member is one online client of a group.
type Member struct {
	g     *dispatcher
	Info  MemberInfo
	Since time.Time
	recv  Receiver

	// Guarded by g.mu. The broker alone owns the member's credit: front
	// ends say how far it may go (Flow, Credit) and the dispatcher
	// delivers up to that.
	limit      uint64 // deliveries it may have had in all, since it joined
	taken      uint64 // deliveries picked for it
	credit     int    // limit - taken, at least 0
	delivering int    // picked, not yet handed to its Receiver
	draining   bool   // Drain asked; Drained not yet called
	inflight   map[uint64]inflight
	gone       bool
	consumed   consumption

	slot string // its member slot on a shared engine (slots.go); set before it joins
}

// inflight is a message delivered to a member and not yet settled.
type inflight struct {
	msg     *nats.Msg
	backlog bool // counts as backlog consumption when acknowledged
}

// Join adds a member to group ref (its id or name). It is refused with ErrTooManyMembers when
// the group already has MaxMembers online clients.
func (b *Broker) Join(ctx context.Context, ref string, info MemberInfo, r Receiver) (*Member, error) {
	g, err := b.Group(ctx, ref)
	if err != nil {
		return nil, err
	}
	return b.join(ctx, consumerName(g.ID), g.ID, info, r, true)
}

// join adds a member to consumer name's dispatcher; with rules, the
// group's skip rule is loaded for its first member (partition_reset.go).
func (b *Broker) join(ctx context.Context, name, label string, info MemberInfo, r Receiver, rules bool) (*Member, error) {
	g, err := b.runtime(ctx, name, label)
	if err != nil {
		return nil, err
	}
	if rules {
		if err := g.loadRuleOnFirst(ctx); err != nil {
			return nil, err
		}
	}
	m := &Member{g: g, Info: info, Since: time.Now(), recv: r, inflight: make(map[uint64]inflight)}
	if b.shared() { // counted across the nodes
		if m.slot, err = b.claimSlot(ctx, name, info, m.Since); err != nil {
			return nil, err
		}
	}
	g.mu.Lock()
	if g.stopped || len(g.members) >= b.cfg.MaxMembers {
		full := !g.stopped
		g.mu.Unlock()
		m.releaseSlot()
		if full {
			return nil, fmt.Errorf("%w: %d online clients is the limit of a consumer group", ErrTooManyMembers, b.cfg.MaxMembers)
		}
		return nil, ErrClosed
	}
	g.members = append(g.members, m)
	g.mu.Unlock()
	return m, nil
}

// releaseSlot frees the member's slot, if it holds one.
func (m *Member) releaseSlot() {
	if m.slot != "" {
		m.g.b.releaseSlot(m.slot)
	}
}

// runtime returns the dispatcher of a consumer, starting it on first use.
func (b *Broker) runtime(ctx context.Context, name, label string) (*dispatcher, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	if g := b.runtimes[name]; g != nil {
		return g, nil
	}
	e := b.e()
	if _, err := e.stream.Consumer(ctx, name); err != nil {
		return nil, b.unavailable(fmt.Errorf("consumer %s: %w", name, err))
	}
	gctx, cancel := context.WithCancel(context.Background())
	log := b.log.With().Str("group", name).Logger()
	g := &dispatcher{
		b: b, name: name, label: label, log: log, settleLog: settleLog(log),
		nextSubject: "$JS.API.CONSUMER.MSG.NEXT." + streamName + "." + name,
		rng:         rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		wake:        make(chan struct{}, 1),
		ctx:         gctx, cancel: cancel, done: make(chan struct{}),
	}
	b.runtimes[name] = g
	go g.run()
	return g, nil
}

// live returns the running dispatcher of a consumer, or nil.
func (b *Broker) live(name string) *dispatcher {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.runtimes[name]
}

func (b *Broker) stopRuntime(name string) {
	b.mu.Lock()
	g := b.runtimes[name]
	delete(b.runtimes, name)
	b.mu.Unlock()
	if g != nil {
		g.stop()
	}
}

// dispatch gives each message to a random member with credit, keeping the
// rest pending.
func (g *dispatcher) dispatch(msgs []fetched) {
	g.mu.Lock()
	g.outstanding = max(0, g.outstanding-len(msgs))
	if g.stopped {
		g.mu.Unlock()
		g.giveBack(msgs...)
		return
	}
	msgs, skipped := g.skipFrom(msgs)
	shares, n := g.share(msgs)
	var orphans []fetched
	if len(g.members) == 0 && g.b.shared() {
		// Members on other nodes may be waiting: hand it back now
		// rather than keep it for a member that may never come here.
		orphans = msgs[n:]
	} else {
		g.pending = append(g.pending, msgs[n:]...)
	}
	// A request is used up: ask for more if the credit allows, rather
	// than when the next credit or the request's expiry wakes the loop.
	more := g.outstanding == 0 && g.credit > len(g.pending)
	g.mu.Unlock()
	for _, f := range skipped {
		g.tell(f.msg, Ack)
	}
	g.deliverShares(shares)
	g.giveBack(orphans...)
	if more {
		g.poke()
	}
}

// share gives the first messages of msgs, in order, to random members with
// credit, as long as one has some; it returns each member's share and how
// many were given. g.mu is held.
func (g *dispatcher) share(msgs []fetched) (map[*Member][]fetched, int) {
	var shares map[*Member][]fetched
	for i, msg := range msgs {
		m := g.pick()
		if m == nil {
			return shares, i
		}
		if shares == nil {
			shares = make(map[*Member][]fetched, len(g.members))
		}
		shares[m] = append(shares[m], msg)
	}
	return shares, len(msgs)
}

// deliverShares hands each member its share, in one call each, so a front
// end can write a backlog out in few syscalls.
func (g *dispatcher) deliverShares(shares map[*Member][]fetched) {
	for m, share := range shares {
		g.deliver(m, share)
	}
}

// servePending hands what waits for credit to the members that have some,
// then ends the drains that are complete. Run calls it when woken.
func (g *dispatcher) servePending() {
	g.mu.Lock()
	shares, n := g.share(g.pending)
	clear(g.pending[:n])
	g.pending = g.pending[n:]
	g.mu.Unlock()
	g.deliverShares(shares)
	g.endDrains()
}

// endDrains calls Drained for each draining member that has nothing more
// coming: no credit left, or nothing waiting and nothing on its way to it.
// Its remaining credit is void.
func (g *dispatcher) endDrains() {
	g.mu.Lock()
	var done []*Member
	for _, m := range g.members {
		if m.draining && m.delivering == 0 && (m.credit == 0 || (len(g.pending) == 0 && !g.probing())) {
			m.draining = false
			m.limit = m.taken
			m.setCredit(0)
			done = append(done, m)
		}
	}
	g.mu.Unlock()
	for _, m := range done {
		if dr, ok := m.recv.(DrainReceiver); ok {
			dr.Drained()
		}
	}
}

// pick chooses a member with credit at random. g.mu is held.
func (g *dispatcher) pick() *Member {
	n := 0
	var chosen *Member
	for _, m := range g.members {
		if m.credit > 0 {
			n++
			if g.rng.IntN(n) == 0 { // reservoir sampling: uniform among those with credit
				chosen = m
			}
		}
	}
	if chosen != nil {
		chosen.credit--
		chosen.taken++
		chosen.delivering++
		g.credit--
	}
	return chosen
}

// setCredit sets m's credit, keeping the group's sum. g.mu is held.
func (m *Member) setCredit(n int) {
	m.g.credit += n - m.credit
	m.credit = n
}

// deliver hands msgs to m, whose credit was already taken for them.
func (g *dispatcher) deliver(m *Member, msgs []fetched) {
	ds := make([]Delivery, len(msgs))
	held := make([]inflight, len(msgs))
	now := time.Now()
	for i, f := range msgs {
		redelivered := f.meta.Delivered > 1
		ds[i] = Delivery{Token: f.meta.StreamSeq, Redelivered: redelivered}
		held[i] = inflight{msg: f.msg, backlog: redelivered || now.Sub(f.meta.Stored) > backlogAge}
		if isQueueSubject(f.msg.Subject) {
			ds[i].Raw = f.msg.Data
		} else {
			ds[i].Message = g.b.fromNATS(f.msg, f.meta)
		}
	}
	if !g.hold(m, ds, held) {
		return
	}
	for _, d := range ds {
		g.observeDelivered(d.Redelivered)
	}
	ok := deliverAll(m.recv, ds)
	g.mu.Lock()
	m.delivering -= len(ds)
	drainWaits := m.draining && m.delivering == 0
	g.mu.Unlock()
	if !ok {
		m.Leave()
	} else if drainWaits {
		g.poke() // the drain may end now
	}
}

// hold records deliveries as m's in flight. If m left between being picked
// and now, its Leave has already handed back what it held: these go back too.
func (g *dispatcher) hold(m *Member, ds []Delivery, held []inflight) bool {
	g.mu.Lock()
	if m.gone {
		g.mu.Unlock()
		for _, f := range held {
			g.tell(f.msg, Requeue)
		}
		return false
	}
	for i, d := range ds {
		m.inflight[d.Token] = held[i]
	}
	g.mu.Unlock()
	return true
}

// deliverAll hands ds to r, in one call when r takes batches.
func deliverAll(r Receiver, ds []Delivery) bool {
	if br, ok := r.(BatchReceiver); ok {
		return br.DeliverBatch(ds)
	}
	for _, d := range ds {
		if !r.Deliver(d) {
			return false
		}
	}
	return true
}

// Flow sets how many deliveries the member may have had in all, counted
// from when it joined: what its front end has taken plus the room it has
// (for an AMQP link, the transfers it sent plus its usable credit). The
// dispatcher delivers up to it, from its own goroutine; a lower limit
// than before takes credit back. Flow ends a drain in progress.
func (m *Member) Flow(limit uint64) { m.flow(limit, false) }

// Drain is Flow for a drain: what is available now (waiting in the
// dispatcher, or in JetStream at once) is delivered up to the limit, then
// the rest of the credit is void and the DrainReceiver is told.
func (m *Member) Drain(limit uint64) { m.flow(limit, true) }

// Credit grants n more deliveries beyond the current limit, for front
// ends that count acknowledgements rather than deliveries (STOMP).
func (m *Member) Credit(n int) {
	if n <= 0 {
		return
	}
	m.g.mu.Lock()
	limit := m.limit + uint64(n)
	m.g.mu.Unlock()
	m.flow(limit, false)
}

func (m *Member) flow(limit uint64, drain bool) {
	g := m.g
	g.mu.Lock()
	if m.gone {
		g.mu.Unlock()
		return
	}
	m.limit = limit
	credit := 0
	if limit > m.taken {
		credit = int(min(limit-m.taken, maxCredit))
	}
	m.setCredit(credit)
	m.draining = drain
	if drain {
		g.probe(credit)
	}
	g.mu.Unlock()
	g.poke()
}

// maxCredit caps a member's credit: AMQP credit goes up to 2^32-1, more
// than the broker could hold.
const maxCredit = 1 << 30

// Settle reports the member's outcome for a delivery. Only Ack acknowledges
// the message to JetStream.
func (m *Member) Settle(token uint64, o Outcome) {
	g := m.g
	g.mu.Lock()
	f, ok := m.inflight[token]
	delete(m.inflight, token)
	if ok && o == Ack {
		now := time.Now()
		m.consumed.add(now, f.backlog)
		g.consumed.add(now, f.backlog)
	}
	g.mu.Unlock()
	if !ok {
		return // already handed back
	}
	g.observeSettled(o)
	g.tell(f.msg, o)
}

// Leave removes the member; its unsettled messages go back at once so other
// members get them.
func (m *Member) Leave() {
	g := m.g
	g.mu.Lock()
	if m.gone {
		g.mu.Unlock()
		return
	}
	m.gone = true
	m.draining = false
	m.setCredit(0)
	for i, x := range g.members {
		if x == m {
			g.members = append(g.members[:i], g.members[i+1:]...)
			break
		}
	}
	back := m.inflight
	m.inflight = nil
	var orphans []fetched
	if len(g.members) == 0 {
		// On a shared engine, what the requests still out bring until
		// they expire goes back as it comes (see dispatch). Dropping their
		// subscriptions instead would lose what is already on its way, for
		// an ack timeout.
		orphans, g.pending = g.pending, nil
	}
	g.mu.Unlock()
	for _, f := range back {
		g.tell(f.msg, Requeue)
	}
	g.giveBack(orphans...)
	m.releaseSlot()
}

// stop ends the dispatcher and hands back everything it holds.
func (g *dispatcher) stop() {
	g.mu.Lock()
	g.stopped = true
	members := append([]*Member(nil), g.members...)
	g.mu.Unlock()
	for _, m := range members {
		m.Leave()
	}
	g.cancel()
	<-g.done
	g.mu.Lock()
	pending := g.pending
	g.pending = nil
	g.mu.Unlock()
	g.giveBack(pending...)
}

// Members returns the group's online clients.
func (b *Broker) Members(id string) []MemberInfo {
	g := b.live(consumerName(id))
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]MemberInfo, len(g.members))
	for i, m := range g.members {
		out[i] = m.Info
	}
	return out
}
