package amqp

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// connError builds a connection-scope error.
func connError(cond frames.ErrCond, format string, args ...any) *frames.Error {
	return &frames.Error{Condition: cond, Description: fmt.Sprintf(format, args...)}
}

// handleFrame acts on one frame from the reader. A non-nil error ends the
// connection: a *frames.Error is sent in a close frame.
func (c *conn) handleFrame(f inFrame) error {
	if f.err != nil {
		return c.readFailure(f.err)
	}
	if f.body == nil {
		return nil // empty frame: a heartbeat
	}
	if c.log.GetLevel() <= zerolog.TraceLevel {
		c.log.Trace().Uint16("channel", f.channel).Stringer("frame", f.body).Msg("recv")
	}
	if f.typ != frames.TypeAMQP {
		return connError(frames.ErrCondFramingError, "SASL frame after the SASL exchange")
	}
	if !c.opened {
		open, ok := f.body.(*frames.Open)
		if !ok {
			return connError(frames.ErrCondIllegalState, "expected open, got %v", f.body)
		}
		return c.handleOpen(open)
	}
	switch body := f.body.(type) {
	case *frames.Open:
		return connError(frames.ErrCondIllegalState, "second open frame")
	case *frames.Close:
		return c.handleClose(body)
	case *frames.Begin:
		return c.handleBegin(f.channel, body)
	}
	s := c.sessions[f.channel]
	if s == nil {
		return connError(frames.ErrCondIllegalState, "%v on channel %d, which has no session", f.body, f.channel)
	}
	return s.handle(f.body, f.payload)
}

// readFailure maps a reader error to how the connection ends.
func (c *conn) readFailure(err error) error {
	switch {
	case errors.Is(err, errIdle):
		return connError(frames.ErrCondResourceLimitExceeded, "idle time-out: no frame received for %v", c.cfg.IdleTimeout)
	case errors.Is(err, errFrameTooLarge):
		return connError(frames.ErrCondFramingError, "%v", err)
	case errors.Is(err, encoding.ErrDecode):
		return connError(frames.ErrCondDecodeError, "%v", err)
	case errors.Is(err, frames.ErrUnknownBody):
		return connError(frames.ErrCondNotImplemented, "%v", err)
	case errors.Is(err, frames.ErrFrame):
		return connError(frames.ErrCondFramingError, "%v", err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated frame: %w", err)
	}
	return err
}

func (c *conn) handleOpen(o *frames.Open) error {
	c.opened = true
	if c.principal.ReceiverOnly {
		c.handshakeEnd.Stop()
		c.handshakeEnd.Reset(c.cfg.AttachTimeout) // now the receiver's deadline
	} else {
		c.endDeadline()
	}
	c.peerContainer = o.ContainerID
	c.peerMaxFrame = o.MaxFrameSize
	c.channelMax = min(c.cfg.ChannelMax, o.ChannelMax)
	c.maxFrameIn.Store(c.cfg.MaxFrameSize)
	c.send(0, &frames.Open{
		ContainerID:  c.cfg.ContainerID,
		MaxFrameSize: c.cfg.MaxFrameSize,
		ChannelMax:   c.cfg.ChannelMax,
		// Advertise half the real threshold (§2.4.5) so heartbeats at the
		// advertised rate arrive well before we give up.
		IdleTimeOut: uint32(c.cfg.IdleTimeout / 2 / time.Millisecond),
		Properties: encoding.Map{{Key: encoding.Symbol(HeartbeatFloorProperty),
			Value: uint32(c.cfg.HeartbeatFloor / time.Millisecond)}},
	})
	if o.MaxFrameSize < frames.MinMaxFrameSize {
		return connError(frames.ErrCondInvalidField, "max-frame-size %d is below the minimum of 512", o.MaxFrameSize)
	}
	if o.IdleTimeOut > 0 {
		// Send an empty frame at half the peer's idle time-out, but never
		// more often than the floor: a peer asking for 1 ms would otherwise
		// get hundreds of frames a second.
		c.startHeartbeats(max(time.Duration(o.IdleTimeOut)*time.Millisecond/2, c.cfg.HeartbeatFloor))
	}
	c.log.Info().Str("container", o.ContainerID).Str("mechanism", c.principal.Mechanism).Str("user", c.principal.Name).
		Uint32("max_frame", o.MaxFrameSize).Uint32("idle_ms", o.IdleTimeOut).Msg("connection opened")
	return nil
}

func (c *conn) handleClose(cl *frames.Close) error {
	c.peerCloseErr = cl.Error // finish logs it
	c.send(0, &frames.Close{})
	return errPeerClosed
}

func (c *conn) handleBegin(ch uint16, b *frames.Begin) error {
	if b.RemoteChannel != nil {
		return connError(frames.ErrCondNotAllowed, "begin with remote-channel: the server never begins sessions")
	}
	if ch > c.channelMax {
		return connError(frames.ErrCondFramingError, "channel %d exceeds channel-max %d", ch, c.channelMax)
	}
	if _, used := c.sessions[ch]; used {
		return connError(frames.ErrCondIllegalState, "channel %d already has a session", ch)
	}
	s := newSession(c, ch, b)
	c.sessions[ch] = s
	c.send(ch, &frames.Begin{
		RemoteChannel:  &s.channel,
		NextOutgoingID: s.nextOutgoingID,
		IncomingWindow: s.incomingWindow,
		OutgoingWindow: s.outgoingWindow,
		HandleMax:      s.handleMax,
	})
	return nil
}

// handleMail applies the backend's queued callbacks.
func (c *conn) handleMail() {
	items := c.mail.take(c.mailSpare)
	c.mailSpare = items
	for i := range items {
		e := &items[i]
		l := e.link
		if l.gone {
			continue // detached: the backend already took its deliveries back
		}
		switch e.kind {
		case evDeliver:
			l.enqueue(e.d)
		case evDrained:
			l.drained()
		case evOutcome:
			l.outcome(e.id, e.outcome, e.settled)
		}
	}
	for _, s := range c.dispSessions {
		s.flushDisposition()
	}
	clear(c.dispSessions)
	c.dispSessions = c.dispSessions[:0]
}

// pump sends what sending links have queued, as far as credit, session
// windows and the output limit allow.
func (c *conn) pump() {
	if len(c.ready) > 0 {
		c.outBuf() // the links append to c.wbuf
	}
	kept := c.ready[:0]
	for _, l := range c.ready {
		if len(c.wbuf) >= c.cfg.WriteBufferLimit {
			kept = append(kept, l)
			continue
		}
		if l.sendQueued() {
			kept = append(kept, l) // still has work once windows open
		} else {
			l.inReady = false
		}
	}
	clear(c.ready[len(kept):])
	c.ready = kept
}

// markReady puts a sending link on the pump's list.
func (c *conn) markReady(l *link) {
	if !l.inReady {
		l.inReady = true
		c.ready = append(c.ready, l)
	}
}
