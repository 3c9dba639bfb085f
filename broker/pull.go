package broker

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Pulling: each dispatcher keeps one subscription on an inbox of the engine
// connection and asks JetStream (the pull consumer's MSG.NEXT API) for as
// many messages as its members have credit for. JetStream delivers them to
// the inbox, where the subscription's callback dispatches them: no fetch
// goroutine, channel or timer per message, as nats.go's Fetch has.

// fetchWait is how long one pull request waits for messages; it is also
// how long a stopping dispatcher may take to notice.
const fetchWait = time.Second

// maxFetch caps one pull request, as RabbitMQ caps queue credit.
const maxFetch = 256

// askFloor is the least top-up asked for while requests are outstanding,
// so credit trickling in does not become a request per message.
const askFloor = 16

// statusGrace is how long after a request expires its status may take to
// arrive before the dispatcher counts the request as over anyway.
const statusGrace = time.Second

// fetched is a message JetStream delivered and the metadata of its reply
// subject.
type fetched struct {
	msg  *nats.Msg
	meta ackMeta
}

// puller is the dispatcher's subscription, owned by run, and what its
// callback gathers.
type puller struct {
	sub    *nats.Subscription // on the engine connection g.eng
	inbox  string
	gather gatherer
}

// asked is the state of the dispatcher's pull requests, guarded by its mu.
type asked struct {
	outstanding int       // asked of JetStream, neither delivered nor expired
	lastAsk     time.Time // when the last request went out
	pause       time.Time // no request before this (after a refusal)

	// A drain probe: a no-wait request for what JetStream has at once.
	// It is answered on the inbox, after what JetStream sent before it:
	// 404 No Messages, or a message with nothing pending behind it, says
	// that everything available has come, and drains may end.
	probeWant int       // to ask for
	probeSent time.Time // zero when no probe is out

	// On a shared engine each request has a reply subject, inbox.<id>,
	// and a subscription of its own (JetStream delivers a message with its
	// stream subject, so only the subscription tells which request it
	// answers): live holds the requests still waiting (see toAskShared).
	live   map[string]*waiting
	nextID uint64
}

// waiting is a request still waiting, on a shared engine.
type waiting struct {
	left int // messages it may still bring
	sub  *nats.Subscription
}

// run asks JetStream for as many messages as the members have credit for;
// the subscription's callback (onMsg) dispatches what arrives.
func (g *dispatcher) run() {
	defer close(g.done)
	defer g.unsubscribe()
	idle := time.NewTimer(time.Hour)
	defer idle.Stop()
	for g.ctx.Err() == nil {
		if err := g.refresh(); err != nil {
			g.log.Warn().Err(err).Msg("pull failed")
			g.sleep(100 * time.Millisecond)
			continue
		}
		g.servePending()
		if n := g.toProbe(); n > 0 {
			if err := g.ask(n, true); err != nil && g.ctx.Err() == nil {
				g.log.Warn().Err(err).Msg("drain probe failed")
				g.probeAnswered()
			}
			continue
		}
		n, parts, wait := g.toAsk()
		if n > 0 {
			if unasked, err := g.askInParts(n, parts); err != nil && g.ctx.Err() == nil {
				g.log.Warn().Err(err).Msg("pull request failed")
				g.forget(unasked)
				g.sleep(100 * time.Millisecond)
			}
			continue
		}
		idle.Reset(wait)
		select {
		case <-g.wake:
		case <-idle.C:
		case <-g.ctx.Done():
		}
		idle.Stop()
	}
}

func (g *dispatcher) sleep(d time.Duration) {
	select {
	case <-time.After(d):
	case <-g.ctx.Done():
	}
}

// toAsk is how many messages to ask for now (0: none) and in how many
// requests, and otherwise how long to wait before looking again if
// nothing wakes the dispatcher.
func (g *dispatcher) toAsk() (int, int, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if g.outstanding > 0 && now.Sub(g.lastAsk) > fetchWait+statusGrace {
		g.outstanding = 0 // their statuses were lost (a dropped connection): the requests are over
		g.dropRequests()
	}
	if !g.probeSent.IsZero() && now.Sub(g.probeSent) > statusGrace {
		g.probeSent = time.Time{} // its answer was lost
		g.poke()
	}
	if now.Before(g.pause) {
		return 0, 0, g.pause.Sub(now)
	}
	missing := g.credit - len(g.pending) - g.outstanding
	if g.b.shared() {
		return g.toAskShared(now, missing)
	}
	if missing <= 0 || (g.outstanding > 0 && missing < askFloor) {
		return 0, 0, g.askAgainIn(now)
	}
	n := min(missing, maxFetch)
	g.outstanding += n
	g.lastAsk = now
	return n, 1, 0
}

// askAgainIn is how long to wait, having nothing to ask, before looking
// again if nothing wakes the dispatcher. g.mu is held.
func (g *dispatcher) askAgainIn(now time.Time) time.Duration {
	switch {
	case !g.probeSent.IsZero():
		return g.probeSent.Add(statusGrace).Sub(now)
	case g.outstanding > 0:
		return g.lastAsk.Add(fetchWait + statusGrace).Sub(now)
	}
	return time.Hour
}

// sharedAsk is, when other nodes pull from the same consumer, the size
// of a dispatcher's requests.
const sharedAsk = 64

// toAskShared is toAsk when other nodes pull from the same consumer.
// JetStream serves the waiting requests in turn, a message each: with one
// request waiting per member with credit, of one size on every node, each
// node's share follows its members', so a message goes to a member chosen
// at random among all the cluster's. g.mu is held.
func (g *dispatcher) toAskShared(now time.Time, room int) (int, int, time.Duration) {
	want := g.withCredit() - len(g.live)
	if room <= 0 || want <= 0 {
		return 0, 0, g.askAgainIn(now)
	}
	n := min(room, want*sharedAsk)
	g.outstanding += n
	g.lastAsk = now
	return n, min(want, n), 0
}

// withCredit is how many members have credit. g.mu is held.
func (g *dispatcher) withCredit() int {
	k := 0
	for _, m := range g.members {
		if m.credit > 0 {
			k++
		}
	}
	return k
}

// forget takes back n asked messages whose request did not go out.
func (g *dispatcher) forget(n int) {
	g.mu.Lock()
	g.outstanding = max(0, g.outstanding-n)
	g.mu.Unlock()
}

// askInParts asks for n messages in parts requests of near equal size;
// on an error it returns how many were not asked for.
func (g *dispatcher) askInParts(n, parts int) (int, error) {
	left := n
	for i := range parts {
		size := n / parts
		if i < n%parts {
			size++
		}
		if err := g.ask(size, false); err != nil {
			return left, err
		}
		left -= size
	}
	return 0, nil
}

// ask sends a pull request for n messages: one that waits up to fetchWait
// for them, or with noWait one answered at once.
func (g *dispatcher) ask(n int, noWait bool) (err error) {
	reply := g.p.inbox
	if g.b.shared() && !noWait { // a drain probe uses the inbox
		id, err := g.request(n)
		if err != nil {
			return err
		}
		reply += "." + id
		defer func() {
			if err != nil {
				g.mu.Lock()
				g.endRequest(id)
				g.mu.Unlock()
			}
		}()
	}
	body := make([]byte, 0, 48)
	body = append(body, `{"batch":`...)
	body = strconv.AppendInt(body, int64(n), 10)
	if noWait {
		body = append(body, `,"no_wait":true}`...)
	} else {
		body = append(body, `,"expires":`...)
		body = strconv.AppendInt(body, int64(fetchWait), 10)
		body = append(body, '}')
	}
	return g.eng.nc.PublishRequest(g.nextSubject, reply, body)
}

// request names a new request for n messages, subscribes to its reply
// subject, and counts it as waiting.
func (g *dispatcher) request(n int) (string, error) {
	g.mu.Lock()
	g.nextID++
	id := strconv.FormatUint(g.nextID, 36)
	g.mu.Unlock()
	sub, err := subscribe(g.eng.nc, g.p.inbox+"."+id, func(m *nats.Msg) { g.onMsgOf(id, m) })
	if err != nil {
		return "", err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.live == nil {
		g.live = make(map[string]*waiting)
	}
	g.live[id] = &waiting{left: n, sub: sub}
	return id, nil
}

// got counts a message of request id; the request ends with its last one,
// and the dispatcher may ask for another.
func (g *dispatcher) got(id string) {
	g.mu.Lock()
	w := g.live[id]
	done := w != nil && w.left <= 1
	if done {
		g.endRequest(id)
	} else if w != nil {
		w.left--
	}
	g.mu.Unlock()
	if done {
		g.poke()
	}
}

// endRequest forgets a request, ended or void. g.mu is held.
func (g *dispatcher) endRequest(id string) {
	if w := g.live[id]; w != nil {
		w.sub.Unsubscribe()
		delete(g.live, id)
	}
}

// dropRequests forgets every request. g.mu is held.
func (g *dispatcher) dropRequests() {
	for id := range g.live {
		g.endRequest(id)
	}
}

// probe asks for a drain probe of up to n messages. g.mu is held.
func (g *dispatcher) probe(n int) {
	if n > 0 && g.probeSent.IsZero() {
		g.probeWant = max(g.probeWant, n)
	}
}

// probing reports whether a drain probe is wanted or out. g.mu is held.
func (g *dispatcher) probing() bool { return g.probeWant > 0 || !g.probeSent.IsZero() }

// toProbe is the size of the drain probe to send now, if any. The probe
// is not counted as outstanding (its answer does not say how much of it
// came): what it brings beyond the credit waits in pending.
func (g *dispatcher) toProbe() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := min(g.probeWant, maxFetch)
	if n == 0 || !g.probeSent.IsZero() {
		return 0
	}
	g.probeWant = 0
	g.probeSent = time.Now()
	return n
}

// probeSettle is how long a drain probe's "no messages" waits for the
// messages of earlier requests: nats-server answers a no-wait request at
// once, and that answer can overtake messages it had already handed to an
// outstanding request (seen under the race detector: a drain ended with
// nothing delivered while three messages were on their way).
const probeSettle = 25 * time.Millisecond

// noMessages takes a probe's 404: the drain may end once what earlier
// requests were given has had time to arrive.
func (g *dispatcher) noMessages() {
	g.mu.Lock()
	inFlight, sent := g.outstanding > 0, g.probeSent
	g.mu.Unlock()
	if !inFlight {
		g.probeAnswered()
		return
	}
	time.AfterFunc(probeSettle, func() {
		g.mu.Lock()
		same := g.probeSent.Equal(sent) // not a later probe's
		g.mu.Unlock()
		if same {
			g.probeAnswered()
		}
	})
}

// probeAnswered ends the probe out, if any: drains may end.
func (g *dispatcher) probeAnswered() {
	g.mu.Lock()
	out := !g.probeSent.IsZero()
	g.probeSent = time.Time{}
	g.mu.Unlock()
	if out {
		g.poke()
	}
}

// refresh subscribes on the current engine connection: at the start, and
// after the old connection was lost. Messages members hold from the old
// one are redelivered by JetStream after the ack timeout unless their acks,
// sent on the new connection, reach it first.
func (g *dispatcher) refresh() error {
	e := g.b.e()
	if e == g.eng && g.p.sub != nil {
		return nil
	}
	g.unsubscribe()
	inbox := e.nc.NewInbox()
	sub, err := subscribe(e.nc, inbox, g.onMsg)
	if err != nil {
		return fmt.Errorf("consumer %s: subscribing to its inbox: %w", g.name, err)
	}
	g.mu.Lock()
	g.outstanding = 0
	g.probeSent = time.Time{}
	g.dropRequests()
	g.mu.Unlock()
	g.eng, g.p.sub, g.p.inbox = e, sub, inbox
	return nil
}

// subscribe subscribes cb to subject. What arrives is bounded by what was
// asked for (credit), not by nats.go's default limits, which large
// messages would exceed.
func subscribe(nc *nats.Conn, subject string, cb nats.MsgHandler) (*nats.Subscription, error) {
	sub, err := nc.Subscribe(subject, cb)
	if err != nil {
		return nil, err
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		sub.Unsubscribe()
		return nil, err
	}
	return sub, nil
}

func (g *dispatcher) unsubscribe() {
	if g.p.sub != nil {
		g.p.sub.Unsubscribe()
		g.p.sub = nil
	}
}

// onMsg takes what JetStream sends to the inbox: a message, or the status
// of a pull request. It runs on the subscription's goroutine, one at a time.
func (g *dispatcher) onMsg(msg *nats.Msg) { g.onMsgOf("", msg) }

// onMsgOf is onMsg for what answers request id ("": the inbox's).
func (g *dispatcher) onMsgOf(id string, msg *nats.Msg) {
	if msg.Reply == "" && len(msg.Data) == 0 && msg.Header.Get(statusHeader) != "" {
		g.p.gather.flush(g)
		g.onStatus(msg, id)
		return
	}
	meta, ok := parseAckReply(msg.Reply)
	if !ok {
		g.settleLog.Error().Str("subject", msg.Subject).Str("reply", msg.Reply).Msg("a message on the inbox that is not a JetStream delivery")
		return
	}
	if id != "" {
		g.got(id)
	}
	g.p.gather.add(g, fetched{msg: msg, meta: meta})
	if meta.Pending == 0 { // nothing more is available now: a probe has its answer
		g.p.gather.flush(g)
		g.probeAnswered()
	}
}

// Status lines nats-server sends to a pull request's inbox (headers).
const (
	statusHeader      = "Status"
	descriptionHeader = "Description"
	pendingMsgsHeader = "Nats-Pending-Messages"
	statusHeartbeat   = "100"
	statusNoMessages  = "404"
)

// onStatus accounts for a request that ended (expired, or refused): what
// it did not deliver is no longer outstanding.
func (g *dispatcher) onStatus(msg *nats.Msg, id string) {
	code := msg.Header.Get(statusHeader)
	switch code {
	case statusHeartbeat:
		return
	case statusNoMessages: // only a no-wait request, a drain probe, gets it
		g.noMessages()
		return
	}
	g.mu.Lock()
	g.endRequest(id)
	if left, err := strconv.Atoi(msg.Header.Get(pendingMsgsHeader)); err == nil {
		g.outstanding = max(0, g.outstanding-left)
	} else {
		// Leadership change, consumer deleted, or a refusal: every
		// request is void.
		g.outstanding = 0
		g.dropRequests()
	}
	refused := code != "408"
	if refused { // do not ask again at once
		g.pause = time.Now().Add(100 * time.Millisecond)
	}
	g.mu.Unlock()
	if refused {
		g.settleLog.Warn().Str("status", code).Str("description", msg.Header.Get(descriptionHeader)).Msg("pull request refused")
	}
	g.poke()
}

// poke wakes the dispatcher's loop.
func (g *dispatcher) poke() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// holdMax and holdWait bound how many messages, and for how long, the
// dispatcher gathers while a backlog streams in.
const (
	holdMax  = 64
	holdWait = time.Millisecond
)

// gatherer collects a backlog's messages as they arrive, so each member gets
// its share in one go and its connection writes them in one syscall; a
// message with nothing pending behind it (real-time traffic) goes out at
// once. The first message of a batch says how many follow.
type gatherer struct {
	mu    sync.Mutex
	held  []fetched
	want  int
	timer *time.Timer
}

func (t *gatherer) add(g *dispatcher, f fetched) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.held = append(t.held, f)
	if len(t.held) == 1 {
		t.want = min(holdMax, 1+int(min(f.meta.Pending, holdMax)))
		if t.want > 1 {
			t.arm(g)
		}
	}
	if len(t.held) >= t.want {
		t.flushLocked(g)
	}
}

// arm starts the timer that dispatches what is held if the rest is slow
// to come (JetStream stops at the consumer's ack-pending limit).
func (t *gatherer) arm(g *dispatcher) {
	if t.timer == nil {
		t.timer = time.AfterFunc(holdWait, func() { t.flush(g) })
		return
	}
	t.timer.Reset(holdWait)
}

func (t *gatherer) flush(g *dispatcher) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.flushLocked(g)
}

// flushLocked dispatches what is held. It runs with t.mu held, so batches
// are dispatched in the order they arrived.
func (t *gatherer) flushLocked(g *dispatcher) {
	if t.timer != nil {
		t.timer.Stop()
	}
	if len(t.held) == 0 {
		return
	}
	g.dispatch(t.held)
	clear(t.held)
	t.held = t.held[:0]
}
