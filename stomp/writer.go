package stomp

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/stomp/frame"
)

// frameEnd follows the NUL of every frame written: an EOL, which STOMP 1.2
// allows between frames (§Augmented BNF: NULL *( EOL )) and every reader
// skips, as RabbitMQ and ActiveMQ send it. PHP's PECL stomp extension needs
// it: it reads the byte after a frame's NUL as part of that frame, and took
// the first byte of the next frame when there was none.
const frameEnd = '\n'

// testHookWritten, set by tests only, runs between a write and the
// settlement of its ack:auto deliveries: it widens that window.
var testHookWritten func()

// writeChunk is how much encoded output the writer gathers before it
// writes without waiting for its queue to empty.
const writeChunk = 64 << 10

// writer is the only writer of a connection's socket: it encodes what the
// outbox holds, writes it in batches, flushes when the outbox is empty,
// sends heart-beats when it has written nothing for the agreed interval,
// and acknowledges ack:auto deliveries once their frames are written.
type writer struct {
	c        *conn
	buf      []byte
	batch    []outItem
	autoAcks []autoAck // written since the last flush, to settle after it
	interval time.Duration
	beat     *time.Timer // nil until heart-beats are agreed
}

type autoAck struct {
	sub   *subscription
	token uint64
}

func (w *writer) run() {
	defer close(w.c.writerDone)
	defer func() {
		if w.beat != nil {
			w.beat.Stop()
		}
	}()
	for {
		w.batch = w.c.out.take(w.batch)
		if len(w.batch) > 0 {
			last := w.encode(w.batch)
			if last || len(w.buf) >= writeChunk {
				if !w.flush() || last {
					return
				}
			}
			continue // more may have been queued: write them before flushing
		}
		if len(w.buf) > 0 || len(w.autoAcks) > 0 {
			if !w.flush() {
				return
			}
			continue // the credit flush granted may have queued deliveries
		}
		select {
		case <-w.c.out.ready:
		case <-w.beatC():
			w.buf = append(w.buf, '\n') // §Heart-beating: an EOL
			if !w.flush() {
				return
			}
		}
	}
}

func (w *writer) beatC() <-chan time.Time {
	if w.beat == nil {
		return nil
	}
	return w.beat.C
}

// encode appends the batch to buf; true when it held the last frame.
func (w *writer) encode(batch []outItem) bool {
	for i := range batch {
		it := &batch[i]
		if it.sub != nil {
			w.encodeDelivery(it.sub, it.d)
			continue
		}
		if it.flushed != nil {
			ok := w.flush()
			close(it.flushed)
			if !ok {
				return true // the socket failed: writeFailed closed the outbox
			}
			continue
		}
		if len(it.frame) > 0 {
			w.buf = append(w.buf, it.frame...)
			w.buf = append(w.buf, frameEnd)
		}
		if it.heartbeat > 0 {
			w.interval = it.heartbeat
			w.beat = time.NewTimer(it.heartbeat)
		}
		if it.last {
			return true
		}
	}
	return false
}

func (w *writer) encodeDelivery(sub *subscription, d broker.Delivery) {
	if sub.closed.Load() {
		return // handed back when the subscription was dropped
	}
	var ackID uint64
	if sub.mode == ackAuto {
		w.autoAcks = append(w.autoAcks, autoAck{sub: sub, token: d.Token})
	} else {
		ackID = w.c.ackSeq.Add(1)
		sub.written(pendingAck{ackID: ackID, token: d.Token, messageID: d.Message.MessageID})
	}
	w.buf = appendMessage(w.buf, sub, d, ackID)
	w.buf = append(w.buf, frameEnd)
}

// flush writes buf, then acknowledges the ack:auto deliveries it held and
// grants as much credit again. False when the socket failed.
func (w *writer) flush() bool {
	if len(w.buf) > 0 {
		if _, err := w.c.dl.Write(w.buf); err != nil {
			w.c.writeFailed(err)
			return false
		}
		if testHookWritten != nil {
			testHookWritten()
		}
		if cap(w.buf) > 4*writeChunk {
			w.buf = nil // let a burst of large messages go
		} else {
			w.buf = w.buf[:0]
		}
	}
	if w.beat != nil {
		w.beat.Reset(w.interval)
	}
	w.settleAuto()
	return true
}

// settleAuto acks what was written in ack:auto mode, "never before".
func (w *writer) settleAuto() {
	acks := w.autoAcks
	for i := 0; i < len(acks); {
		sub, n := acks[i].sub, 0
		for ; i < len(acks) && acks[i].sub == sub; i++ {
			sub.member.Settle(acks[i].token, broker.Ack)
			n++
		}
		sub.member.Credit(n)
	}
	clear(acks)
	w.autoAcks = acks[:0]
}

// appendMessage encodes a delivery as the vendor's MESSAGE frame: the device
// topic as destination, messageId (stable across redeliveries) as
// message-id and header, generateTime in epoch ms, and the payload raw or
// Base64-encoded (encode=base64 in the user name).
func appendMessage(b []byte, sub *subscription, d broker.Delivery, ackID uint64) []byte {
	m := &d.Message
	payload, id, dest := m.Payload, m.MessageID, m.Topic
	if d.Raw != nil { // a generic queue's message: no device fields
		payload, id, dest = d.Raw, strconv.FormatUint(d.Token, 10), topicAll
	}
	header := frame.AppendHeader
	if sub.v10 {
		header = frame.AppendHeader10 // a device name may hold colons
	}
	b = append(b, frame.Message...)
	b = append(b, '\n')
	b = header(b, frame.HdrSubscription, sub.id)
	b = header(b, frame.HdrMessageID, id)
	b = header(b, frame.HdrDestination, dest)
	if ackID != 0 {
		b = frame.AppendHeaderInt(b, frame.HdrAck, int64(ackID))
	}
	if d.Raw == nil {
		b = header(b, "messageId", id)
		b = frame.AppendHeaderInt(b, "generateTime", m.GenerateTime.UnixMilli())
		b = header(b, "topic", m.Topic)
	}
	if d.Redelivered {
		b = header(b, "redelivered", "true")
	}
	if !sub.base64 {
		b = frame.AppendHeaderInt(b, frame.HdrContentLength, int64(len(payload)))
		return frame.AppendBody(b, payload)
	}
	b = frame.AppendHeaderInt(b, frame.HdrContentLength, int64(base64.StdEncoding.EncodedLen(len(payload))))
	b = append(b, '\n')
	b = base64.StdEncoding.AppendEncode(b, payload)
	return append(b, 0)
}
