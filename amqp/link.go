package amqp

import (
	"encoding/binary"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp/frames"
)

// link is one link endpoint. All fields are owned by the connection's
// goroutine except where noted.
type link struct {
	s             *session
	c             *conn
	name          string
	handle        uint32
	role          bool // ours: frames.RoleSender when the server sends
	sndSettleMode uint8
	rcvSettleMode uint8
	gone          bool // the backend side is closed
	detachSent    bool
	inReady       bool

	// Server sends (the client's receiver).
	consumer      Consumer
	deliveryCount uint32
	credit        uint32
	drain         bool
	drainAsked    bool
	drainDone     bool       // the backend answered the drain
	sent          uint64     // transfers begun since the attach
	told          uint64     // the limit last told to the backend (Consumer.Flow)
	queue         []Delivery // received from the backend, not yet sent
	qhead         int
	sentBytes     int    // of queue[qhead], when the session window cut it
	curID         uint32 // delivery-id of queue[qhead] once started
	nextTag       uint64
	tagBuf        [8]byte
	tr            frames.Transfer
	presettled    []uint64

	// Server receives (the client's sender).
	producer    Producer
	rcvCredit   uint32
	rcvCount    uint32 // delivery-count
	unconfirmed int    // published, outcome not yet back
	asm         []byte // a multi-frame delivery being reassembled
	asmActive   bool
	asmID       uint32
	asmSettled  bool
	asmFormat   uint32
	asmFrames   uint32 // transfer frames of the delivery, held in the session window
}

// sending reports whether the server is the sender on this link.
func (l *link) sending() bool { return l.role == frames.RoleSender }

// Deliver is called by the backend from any goroutine.
func (l *link) Deliver(d Delivery) bool {
	return l.c.mail.put(event{kind: evDeliver, link: l, d: d})
}

// DeliverBatch is called by the backend from any goroutine.
func (l *link) DeliverBatch(ds []Delivery) bool {
	return l.c.mail.putDeliveries(l, ds)
}

// Drained is called by the backend from any goroutine.
func (l *link) Drained() { l.c.mail.put(event{kind: evDrained, link: l}) }

// release closes the backend side; the backend takes back what was unsettled.
func (l *link) release() {
	if l.gone {
		return
	}
	l.gone = true
	l.flushPresettled()
	if l.consumer != nil {
		l.consumer.Close()
	}
	if l.producer != nil {
		l.producer.Close()
	}
	l.queue, l.qhead = nil, 0
	l.asm, l.asmActive = nil, false
	l.s.consumed(l.asmFrames)
	l.asmFrames = 0
	for id, od := range l.s.unsettled {
		if od.link == l {
			delete(l.s.unsettled, id)
		}
	}
}

// flow applies the client's link flow state.
func (l *link) flow(f *frames.Flow) {
	if l.sending() && f.LinkCredit != nil {
		// link-credit(snd) = delivery-count(rcv) + link-credit(rcv) - delivery-count(snd) (§2.6.7):
		// each flow sets the credit, it does not add to it.
		dc := l.c.cfg.initialSeq
		if f.DeliveryCount != nil {
			dc = *f.DeliveryCount
		}
		l.credit = linkCredit(dc, *f.LinkCredit, l.deliveryCount)
		if f.Drain && !l.drain {
			l.drainAsked, l.drainDone = false, false
		}
		l.drain = f.Drain
		if !l.gone {
			l.requestMore()
			l.c.markReady(l)
		}
	}
	if f.Echo {
		l.s.sendFlow(l)
	}
}

// linkCredit is the sender's link-credit from a receiver's flow:
// delivery-count(rcv) + link-credit(rcv) - delivery-count(snd) (§2.6.7).
// Link credit is a uint32, every value of it valid; only the delivery
// counts are serial numbers. The receiver's count trails ours by the
// deliveries still in flight to it, which use up its credit (none left
// when more are in flight than it granted); a count ahead of ours is
// nonsense and taken as ours.
func linkCredit(rcvCount, rcvCredit, sndCount uint32) uint32 {
	if !serialLess(rcvCount, sndCount) {
		return rcvCredit
	}
	inFlight := sndCount - rcvCount
	if inFlight >= rcvCredit {
		return 0
	}
	return rcvCredit - inFlight
}

// fillFlow adds the link's state to a flow frame.
func (l *link) fillFlow(f *frames.Flow) {
	h := l.handle
	f.Handle = &h
	if l.sending() {
		dc, cr := l.deliveryCount, l.credit
		f.DeliveryCount, f.LinkCredit = &dc, &cr
		avail := uint32(len(l.queue) - l.qhead)
		f.Available = &avail
		f.Drain = l.drain
		return
	}
	dc, cr := l.rcvCount, l.rcvCredit
	f.DeliveryCount, f.LinkCredit = &dc, &cr
}

// requestMore tells the backend how far the link can take deliveries: what
// it sent plus its credit, capped by the prefetch. The backend owns the
// count of what it delivered; the link tells it a new limit only when the
// room it had is down to half, so the backend is not called per message,
// or when the peer took credit back.
func (l *link) requestMore() {
	want := uint64(min(l.credit, l.c.cfg.ConsumerPrefetch))
	limit := l.sent + want
	room := int64(l.told) - int64(l.sent) // what the backend may still send
	if limit == l.told || (limit > l.told && room > 0 && uint64(room) > want/2) {
		return
	}
	l.told = limit
	l.consumer.Flow(limit, false)
}

// enqueue takes a backend delivery.
func (l *link) enqueue(d Delivery) {
	l.queue = append(l.queue, d)
	l.c.markReady(l)
}

// drained records the backend's answer to a drain request.
func (l *link) drained() {
	if !l.drainAsked {
		return // a drain the peer has since called off
	}
	l.drainDone = true
	l.c.markReady(l)
}

// sendQueued sends queued deliveries while credit, the session window and the
// output limit allow. It returns true when it stopped only for the output limit.
func (l *link) sendQueued() bool {
	if l.gone {
		return false
	}
	defer l.flushPresettled()
	for l.qhead < len(l.queue) {
		if l.credit == 0 && l.sentBytes == 0 {
			break
		}
		if l.s.remoteIncomingWindow == 0 {
			return false // session.flow wakes the link
		}
		if len(l.c.wbuf) >= l.c.cfg.WriteBufferLimit {
			return true
		}
		l.sendHead()
	}
	l.compactQueue()
	if !l.drain {
		l.requestMore()
		return false
	}
	l.continueDrain()
	return false
}

// continueDrain completes a drain: once nothing more can be sent, the
// remaining credit is consumed and a flow tells the client (§2.6.7).
func (l *link) continueDrain() {
	empty := l.qhead == len(l.queue)
	if l.credit > 0 && empty && !l.drainAsked {
		l.drainAsked = true
		l.told = l.sent + uint64(l.credit)
		l.consumer.Flow(l.told, true)
		return
	}
	if l.credit == 0 || (empty && l.drainDone) {
		l.deliveryCount += l.credit
		l.credit = 0
		l.s.sendFlow(l)
		l.drain, l.drainAsked, l.drainDone = false, false, false
		if l.told != l.sent { // no credit is left: nor may the backend send more
			l.told = l.sent
			l.consumer.Flow(l.sent, false)
		}
	}
}

func (l *link) compactQueue() {
	if l.qhead == len(l.queue) {
		clear(l.queue)
		l.queue, l.qhead = l.queue[:0], 0
		return
	}
	if l.qhead > 64 && l.qhead > len(l.queue)/2 {
		n := copy(l.queue, l.queue[l.qhead:])
		clear(l.queue[n:])
		l.queue, l.qhead = l.queue[:n], 0
	}
}

// sendHead sends frames of the delivery at the head of the queue until it is
// complete or the session window closes.
func (l *link) sendHead() {
	d := &l.queue[l.qhead]
	s := l.s
	first := l.sentBytes == 0
	if first {
		l.curID = s.nextDeliveryID
		s.nextDeliveryID++
		l.credit--
		l.deliveryCount++
		l.sent++
		l.nextTag++
	}
	settled := l.sndSettleMode == frames.SndSettled
	for s.remoteIncomingWindow > 0 {
		l.appendTransferFrame(d, first, settled)
		first = false
		s.remoteIncomingWindow--
		s.nextOutgoingID++
		if l.sentBytes == len(d.Message) {
			break
		}
	}
	if l.sentBytes < len(d.Message) {
		return
	}
	if settled {
		l.presettled = append(l.presettled, d.ID)
	} else {
		s.unsettled[l.curID] = outDelivery{link: l, id: d.ID}
	}
	l.sentBytes = 0
	*d = Delivery{}
	l.qhead++
}

// appendTransferFrame writes one transfer frame carrying as much of the
// message as the peer's max-frame-size allows. The first frame carries
// delivery-id, delivery-tag and message-format (clients reject it otherwise).
func (l *link) appendTransferFrame(d *Delivery, first, settled bool) {
	t := &l.tr
	*t = frames.Transfer{Handle: l.handle}
	if first {
		binary.BigEndian.PutUint64(l.tagBuf[:], l.nextTag)
		t.DeliveryID, t.HasDeliveryID = l.curID, true
		t.DeliveryTag = l.tagBuf[:]
		t.MessageFormat, t.HasFormat = d.Format, true
		t.Settled, t.HasSettled = settled, true
	}
	rest := d.Message[l.sentBytes:]
	c := l.c
	b, start := frames.BeginFrame(c.wbuf, frames.TypeAMQP, l.s.channel)
	b = t.Append(b)
	room := int(c.peerMaxFrame) - (len(b) - start)
	if len(rest) > room {
		// Re-encode with more=true; the flag may lengthen the performative.
		t.More = true
		b = t.Append(b[:start+frames.HeaderSize])
		room = int(c.peerMaxFrame) - (len(b) - start)
		rest = rest[:room]
	}
	b = append(b, rest...)
	c.wbuf = frames.EndFrame(b, start)
	if c.log.GetLevel() <= zerolog.TraceLevel {
		c.log.Trace().Uint16("channel", l.s.channel).Stringer("frame", t).Int("payload", len(rest)).Msg("send")
	}
	l.sentBytes += len(rest)
}

func (l *link) flushPresettled() {
	if len(l.presettled) == 0 {
		return
	}
	// Pre-settled deliveries are done once sent (at-most-once).
	l.consumer.Settle(l.presettled, Outcome{Kind: Accepted})
	l.presettled = l.presettled[:0]
}

// settled forwards the client's outcome for deliveries of this link.
func (l *link) settled(ids []uint64, o Outcome) {
	if !l.gone {
		l.consumer.Settle(ids, o)
	}
}
