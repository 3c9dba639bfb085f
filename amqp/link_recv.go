package amqp

import (
	"fmt"

	"github.com/amqpemu/amqpemu/amqp/frames"
)

// receive takes one transfer frame from the client's sender. The frame
// holds its place in the session window until its delivery is complete (or
// dropped).
func (l *link) receive(t *frames.Transfer, payload []byte) {
	l.asmFrames++
	l.receiveFrame(t, payload)
	if !l.asmActive {
		l.s.consumed(l.asmFrames)
		l.asmFrames = 0
	}
}

func (l *link) receiveFrame(t *frames.Transfer, payload []byte) {
	if l.detachSent {
		return // in flight before the client saw our detach
	}
	if l.sending() {
		l.detachWith(linkError(frames.ErrCondNotAllowed, "transfer on a link where the server is the sender"))
		return
	}
	if !l.asmActive && !l.startDelivery(t) {
		return
	}
	if t.Aborted {
		// §2.6.14: an aborted delivery is discarded; it is implicitly settled.
		l.asm, l.asmActive = nil, false
		return
	}
	if t.Settled {
		l.asmSettled = true
	}
	if uint64(len(l.asm)+len(payload)) > l.c.cfg.MaxMessageSize {
		l.detachWith(linkError(frames.ErrCondMessageSizeExceeded,
			fmt.Sprintf("message exceeds the maximum size of %d bytes", l.c.cfg.MaxMessageSize)))
		return
	}
	if t.More {
		l.asm = append(l.asm, payload...)
		return
	}
	msg := payload // a single-frame delivery owns its freshly read frame buffer
	if l.asm != nil {
		msg = append(l.asm, payload...)
	}
	l.asm, l.asmActive = nil, false
	l.publish(msg)
}

// startDelivery checks and records the first frame of a delivery.
func (l *link) startDelivery(t *frames.Transfer) bool {
	if l.rcvCredit == 0 {
		l.detachWith(linkError(frames.ErrCondTransferLimitExceeded, "transfer without link credit"))
		return false
	}
	if !t.HasDeliveryID {
		l.detachWith(linkError(frames.ErrCondInvalidField, "first transfer of a delivery without delivery-id"))
		return false
	}
	l.rcvCredit--
	l.rcvCount++
	l.asmActive = true
	l.asmID, l.asmSettled, l.asmFormat = t.DeliveryID, t.Settled, t.MessageFormat
	return true
}

// publish hands a complete message to the backend and tops up credit.
func (l *link) publish(msg []byte) {
	id, settled := l.asmID, l.asmSettled
	l.unconfirmed++
	mail := &l.c.mail
	l.producer.Publish(msg, l.asmFormat, func(o Outcome) {
		mail.put(event{kind: evOutcome, link: l, id: id, outcome: o, settled: settled})
	})
	l.refillCredit()
}

// refillCredit grants the client's sender more credit once it has used half,
// as long as not too many messages await their outcome.
func (l *link) refillCredit() {
	full := l.c.cfg.ProducerCredit
	// Refill once half is used, rounding up, so a credit of 1 is refilled too.
	if 2*uint64(l.rcvCredit) >= uint64(full) || uint32(l.unconfirmed) >= full || l.detachSent || l.gone {
		return
	}
	l.rcvCredit = full
	l.s.sendFlow(l)
}

// outcome reports the backend's outcome for the client's delivery id.
func (l *link) outcome(id uint32, o Outcome, settled bool) {
	l.unconfirmed--
	if !settled && !l.detachSent {
		l.s.queueDisposition(id, o, l.rcvSettleMode == frames.RcvFirst)
	}
	l.refillCredit()
}

// pendingDisposition coalesces consecutive outcomes into one disposition range.
type pendingDisposition struct {
	active      bool
	first, last uint32
	settled     bool
	outcome     Outcome
}

// queueDisposition adds an outcome for the client's delivery id, extending the
// pending range when it continues it with the same outcome.
func (s *session) queueDisposition(id uint32, o Outcome, settled bool) {
	p := &s.pendingDisp
	if p.active && id == p.last+1 && settled == p.settled && o.Kind == p.outcome.Kind && o.Kind == Accepted {
		p.last = id
		return
	}
	s.flushDisposition()
	*p = pendingDisposition{active: true, first: id, last: id, settled: settled, outcome: o}
	s.c.dispSessions = append(s.c.dispSessions, s)
}

func (s *session) flushDisposition() {
	p := &s.pendingDisp
	if !p.active {
		return
	}
	p.active = false
	d := &frames.Disposition{Role: frames.RoleReceiver, First: p.first, Settled: p.settled, State: p.outcome.state()}
	if p.last != p.first {
		last := p.last
		d.Last = &last
	}
	s.c.send(s.channel, d)
}
