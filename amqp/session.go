package amqp

import (
	"fmt"
	"math"

	"github.com/amqpemu/amqpemu/amqp/frames"
)

// minSessionWindow is the least incoming window we grant, in transfer
// frames (§2.5.6).
const minSessionWindow = 5000

// sessionWindowFor is the incoming window of a session: at least
// minSessionWindow, and room for two messages of maxMessage bytes cut into
// the smallest frames a peer may use (512 bytes, a transfer performative
// of up to 64 bytes in each), so a sender that honours the window can
// always finish a delivery.
func sessionWindowFor(maxMessage uint64) uint32 {
	const perFrame = frames.MinMaxFrameSize - 64
	return uint32(min(max(minSessionWindow, 2*(maxMessage/perFrame+1)), math.MaxInt32))
}

// serialLess reports a < b in RFC 1982 serial-number arithmetic (§2.1 of the
// types part: sequence numbers wrap at 2^32).
func serialLess(a, b uint32) bool { return a != b && int32(b-a) > 0 }

// outDelivery is an unsettled delivery the server sent.
type outDelivery struct {
	link     *link
	id       uint64 // the backend's id
	reported bool   // the outcome went to the backend
}

// session is one session; all its state is owned by the connection's goroutine.
type session struct {
	c       *conn
	channel uint16 // ours, equal to the peer's

	// Incoming transfers (client → server), counted in frames. The window
	// is what the peer holds: frames of deliveries still being reassembled
	// (held) use it up until the delivery completes; the rest is granted
	// again as frames are consumed, once half the window is used.
	nextIncomingID uint32
	incomingWindow uint32 // what the peer may still send, as we last told it
	window         uint32 // the full window: held + incomingWindow never exceed it but to unblock
	held           uint32 // frames of incomplete deliveries on this session's links

	// Outgoing transfers (server → client).
	nextOutgoingID       uint32
	outgoingWindow       uint32
	remoteIncomingWindow uint32

	handleMax      uint32
	links          map[uint32]*link // by handle (the peer's, which we reuse as ours)
	nextDeliveryID uint32
	unsettled      map[uint32]outDelivery // our unsettled deliveries by delivery-id
	pendingDisp    pendingDisposition     // outcomes for the client's deliveries not yet sent
	ending         bool                   // we sent end and await the peer's
}

func newSession(c *conn, ch uint16, b *frames.Begin) *session {
	seq := c.cfg.initialSeq
	return &session{
		c:                    c,
		channel:              ch,
		nextIncomingID:       b.NextOutgoingID,
		incomingWindow:       sessionWindowFor(c.cfg.MaxMessageSize),
		window:               sessionWindowFor(c.cfg.MaxMessageSize),
		nextOutgoingID:       seq,
		outgoingWindow:       math.MaxUint32,
		remoteIncomingWindow: b.IncomingWindow,
		handleMax:            min(c.cfg.HandleMax, b.HandleMax),
		links:                make(map[uint32]*link),
		nextDeliveryID:       c.cfg.initialDeliveryID,
		unsettled:            make(map[uint32]outDelivery),
	}
}

func sessionError(cond frames.ErrCond, format string, args ...any) *frames.Error {
	return &frames.Error{Condition: cond, Description: fmt.Sprintf(format, args...)}
}

// handle acts on a frame for this session. Session errors end the session;
// only connection errors are returned.
func (s *session) handle(body frames.Body, payload []byte) error {
	if s.ending {
		if _, ok := body.(*frames.End); ok {
			delete(s.c.sessions, s.channel)
		}
		return nil // §2.7.8: ignore everything until the peer's end
	}
	if h, ok := handleOf(body); ok && h > s.handleMax {
		// §2.7.2: a handle outside the supported range is a framing error.
		return connError(frames.ErrCondFramingError, "handle %d exceeds handle-max %d (channel %d)", h, s.handleMax, s.channel)
	}
	var err *frames.Error
	switch b := body.(type) {
	case *frames.Attach:
		err = s.attach(b)
	case *frames.Flow:
		err = s.flow(b)
	case *frames.Transfer:
		err = s.transfer(b, payload)
	case *frames.Disposition:
		err = s.disposition(b)
	case *frames.Detach:
		err = s.detach(b)
	case *frames.End:
		s.peerEnded(b)
	default:
		return connError(frames.ErrCondFramingError, "unexpected %v", body)
	}
	if err != nil {
		s.end(err)
	}
	return nil
}

// handleOf returns the link handle a frame names, if any.
func handleOf(body frames.Body) (uint32, bool) {
	switch b := body.(type) {
	case *frames.Attach:
		return b.Handle, true
	case *frames.Flow:
		if b.Handle != nil {
			return *b.Handle, true
		}
	case *frames.Transfer:
		return b.Handle, true
	case *frames.Detach:
		return b.Handle, true
	}
	return 0, false
}

// end ends the session with an error and waits for the peer's end.
func (s *session) end(e *frames.Error) {
	s.c.cfg.Observer.ProtocolError(string(e.Condition))
	s.c.log.Info().Uint16("channel", s.channel).Str("condition", string(e.Condition)).Str("description", e.Description).Msg("session ended with error")
	s.closeLinks()
	s.ending = true
	s.c.send(s.channel, &frames.End{Error: e})
}

func (s *session) peerEnded(e *frames.End) {
	if e.Error != nil {
		s.c.log.Info().Uint16("channel", s.channel).Str("condition", string(e.Error.Condition)).Msg("client ended session with error")
	}
	s.closeLinks()
	delete(s.c.sessions, s.channel)
	s.c.send(s.channel, &frames.End{})
}

// closeLinks releases every link's backend side.
func (s *session) closeLinks() {
	for h, l := range s.links {
		l.release()
		delete(s.links, h)
		s.c.linkCount--
	}
	clear(s.unsettled)
}

// flow applies the peer's session and link flow state (§2.5.6, §2.6.7).
func (s *session) flow(f *frames.Flow) *frames.Error {
	next := s.c.cfg.initialSeq
	if f.NextIncomingID != nil {
		next = *f.NextIncomingID
	}
	// remote-incoming-window = next-incoming-id(flow) + incoming-window(flow) - next-outgoing-id(own)
	s.remoteIncomingWindow = next + f.IncomingWindow - s.nextOutgoingID
	if f.Handle == nil {
		if f.Echo {
			s.sendFlow(nil)
		}
		s.wakeLinks()
		return nil
	}
	l := s.links[*f.Handle]
	if l == nil {
		return sessionError(frames.ErrCondUnattachedHandle, "flow for handle %d, which is not attached", *f.Handle)
	}
	l.flow(f)
	s.wakeLinks()
	return nil
}

// wakeLinks puts the session's sending links with queued messages back on the
// pump's list once the window is open.
func (s *session) wakeLinks() {
	if s.remoteIncomingWindow == 0 {
		return
	}
	for _, l := range s.links {
		if l.sending() && len(l.queue) > 0 {
			s.c.markReady(l)
		}
	}
}

// sendFlow sends the session's flow state, with l's link state when l is
// set. The incoming window it names is all the room there is: a flow sent
// for a link's sake grants the session's window as well.
func (s *session) sendFlow(l *link) {
	if room := s.room(); room > s.incomingWindow {
		s.incomingWindow = room
	}
	f := &frames.Flow{
		NextIncomingID: &s.nextIncomingID,
		IncomingWindow: s.incomingWindow,
		NextOutgoingID: s.nextOutgoingID,
		OutgoingWindow: s.outgoingWindow,
	}
	if l != nil {
		l.fillFlow(f)
	}
	s.c.send(s.channel, f)
}

// room is how many transfer frames the peer may have in flight now: the
// window less the frames held by incomplete deliveries.
func (s *session) room() uint32 {
	if s.held >= s.window {
		return 0
	}
	return s.window - s.held
}

// transfer takes one incoming transfer frame.
func (s *session) transfer(t *frames.Transfer, payload []byte) *frames.Error {
	if s.incomingWindow == 0 {
		// §2.5.6: the peer sent more than the window we granted it.
		return sessionError(frames.ErrCondWindowViolation,
			"transfer beyond the incoming window: %d transfer frames granted and not yet consumed (next-incoming-id %d)", s.window, s.nextIncomingID)
	}
	s.incomingWindow--
	s.nextIncomingID++
	l := s.links[t.Handle]
	if l == nil {
		return sessionError(frames.ErrCondUnattachedHandle, "transfer on handle %d, which is not attached", t.Handle)
	}
	s.held++
	l.receive(t, payload)
	s.grant()
	return nil
}

// consumed gives back the window that n frames held.
func (s *session) consumed(n uint32) { s.held -= min(n, s.held) }

// grant widens the peer's window once it has used half of it and frames
// were consumed. When incomplete deliveries of several links fill the whole
// window, none can finish: then the window grows by half rather than
// deadlock (a single delivery always fits; see sessionWindowFor).
func (s *session) grant() {
	if s.ending || s.incomingWindow >= s.window/2 {
		return
	}
	if room := s.room(); room > s.incomingWindow {
		s.sendFlow(nil)
		return
	}
	if s.incomingWindow == 0 && s.partialDeliveries() > 1 {
		s.incomingWindow = s.window / 2
		s.sendFlow(nil)
	}
}

// partialDeliveries counts the links in the middle of receiving a delivery.
func (s *session) partialDeliveries() int {
	n := 0
	for _, l := range s.links {
		if l.asmActive {
			n++
		}
	}
	return n
}

// disposition applies the peer's settlement of a range of deliveries.
func (s *session) disposition(d *frames.Disposition) *frames.Error {
	if d.Role == frames.RoleSender {
		return nil // the client settles its own deliveries (receiver settle mode second): nothing kept
	}
	first, last := d.First, d.LastID()
	if serialLess(last, first) {
		return sessionError(frames.ErrCondInvalidField, "disposition range %d..%d is reversed", first, last)
	}
	o, terminal := outcomeOf(d.State)
	batch := settleBatch{}
	released := settleBatch{}
	visit := func(id uint32, od outDelivery) {
		if terminal && !od.reported {
			batch.add(od.link, od.id)
			od.reported = true
		}
		if d.Settled && !od.reported {
			// Settled with no outcome: nothing was acknowledged, so the
			// message goes back to the queue rather than being lost.
			released.add(od.link, od.id)
		}
		if d.Settled || (terminal && od.link.rcvSettleMode == frames.RcvSecond) {
			delete(s.unsettled, id)
		} else {
			s.unsettled[id] = od
		}
	}
	if span := uint64(last-first) + 1; span <= uint64(len(s.unsettled)) {
		for id := first; ; id++ {
			if od, ok := s.unsettled[id]; ok {
				visit(id, od)
			}
			if id == last {
				break
			}
		}
	} else {
		for id, od := range s.unsettled {
			if !serialLess(id, first) && !serialLess(last, id) {
				visit(id, od)
			}
		}
	}
	batch.settle(o)
	released.settle(Outcome{Kind: Released})
	if !d.Settled && terminal {
		// Receiver settle mode second: the client waits for us to settle.
		s.c.send(s.channel, &frames.Disposition{Role: frames.RoleSender, First: first, Last: d.Last, Settled: true, State: d.State})
	}
	return nil
}

// settleBatch groups backend ids by link so each link's backend is told once.
type settleBatch struct {
	link *link
	ids  []uint64
	more map[*link][]uint64
}

func (b *settleBatch) add(l *link, id uint64) {
	if b.link == nil || b.link == l {
		b.link = l
		b.ids = append(b.ids, id)
		return
	}
	if b.more == nil {
		b.more = make(map[*link][]uint64)
	}
	b.more[l] = append(b.more[l], id)
}

func (b *settleBatch) settle(o Outcome) {
	if b.link != nil {
		b.link.settled(b.ids, o)
	}
	for l, ids := range b.more {
		l.settled(ids, o)
	}
}

// detach handles the peer's detach: the reply to ours, or the peer closing.
func (s *session) detach(d *frames.Detach) *frames.Error {
	l := s.links[d.Handle]
	if l == nil {
		return sessionError(frames.ErrCondUnattachedHandle, "detach of handle %d, which is not attached", d.Handle)
	}
	delete(s.links, d.Handle)
	s.c.linkCount--
	if l.detachSent {
		return nil
	}
	ev := s.c.log.Info().Str("link", l.name).Uint32("handle", l.handle).Str("by", "client")
	if d.Error != nil {
		ev = ev.Str("condition", string(d.Error.Condition)).Str("description", d.Error.Description)
	}
	ev.Msg("link detached")
	l.release()
	s.grant() // the frames of its incomplete delivery are free again
	// Always echo closed (§2.6.6); a non-closing detach still ends the link
	// here, since link recovery is not supported.
	s.c.send(s.channel, &frames.Detach{Handle: d.Handle, Closed: d.Closed})
	return nil
}
