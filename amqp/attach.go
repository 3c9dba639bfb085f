package amqp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/amqpemu/amqpemu/amqp/frames"
)

// linkError builds a link-scope error.
func linkError(cond frames.ErrCond, desc string) *frames.Error {
	return &frames.Error{Condition: cond, Description: desc}
}

// errorFor maps a backend error to the AMQP error sent to the client. A
// backend that wants a specific condition returns a *frames.Error.
func errorFor(err error) *frames.Error {
	var fe *frames.Error
	if errors.As(err, &fe) {
		return fe
	}
	return &frames.Error{Condition: frames.ErrCondInternalError, Description: err.Error()}
}

// attach handles the peer's attach: a new link, or a protocol error.
func (s *session) attach(a *frames.Attach) *frames.Error {
	if a.Handle > s.handleMax {
		return sessionError(frames.ErrCondResourceLimitExceeded, "handle %d exceeds handle-max %d", a.Handle, s.handleMax)
	}
	if _, used := s.links[a.Handle]; used {
		return sessionError(frames.ErrCondHandleInUse, "handle %d is already attached", a.Handle)
	}
	l := &link{s: s, c: s.c, name: a.Name, handle: a.Handle, role: !a.Role,
		sndSettleMode: a.SndSettleMode, rcvSettleMode: a.RcvSettleMode}
	s.links[a.Handle] = l
	s.c.linkCount++
	refusal := s.checkAttach(a)
	if refusal == nil && s.c.principal.ReceiverOnly {
		refusal = s.c.checkReceiverOnly(a)
	}
	if refusal != nil {
		l.refuse(a, refusal)
		return nil
	}
	req := LinkRequest{
		Principal:   s.c.principal,
		LinkName:    a.Name,
		ContainerID: s.c.peerContainer,
		ConnID:      s.c.id,
		Remote:      s.c.nc.RemoteAddr(),
		Attach:      a,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if l.sending() {
		if a.Source != nil {
			req.Address = a.Source.Address
		}
		l.consumer, err = s.c.srv.cfg.Backend.OpenConsumer(ctx, req, l)
	} else {
		if a.Target != nil {
			req.Address = a.Target.Address
		}
		l.producer, err = s.c.srv.cfg.Backend.OpenProducer(ctx, req)
	}
	if err != nil {
		l.refuse(a, errorFor(err))
		return nil
	}
	l.accept(a)
	if l.sending() {
		s.c.receiverSeen = true
	}
	return nil
}

// checkReceiverOnly enforces the platform's consumer connection: one
// receiver link, no senders.
func (c *conn) checkReceiverOnly(a *frames.Attach) *frames.Error {
	if a.Role == frames.RoleSender {
		return linkError(frames.ErrCondNotAllowed, "sender links are not supported: this connection consumes its consumer group (signed user name)")
	}
	for _, s := range c.sessions {
		for _, l := range s.links {
			if l.sending() && l.consumer != nil && !l.detachSent {
				return linkError(frames.ErrCondResourceLimitExceeded, "one receiver link per connection: this connection already has one")
			}
		}
	}
	return nil
}

// checkAttach returns why a link cannot be attached, or nil.
func (s *session) checkAttach(a *frames.Attach) *frames.Error {
	switch {
	case s.c.linkCount > s.c.cfg.MaxLinks:
		return linkError(frames.ErrCondResourceLimitExceeded, fmt.Sprintf("too many links on this connection (the limit is %d)", s.c.cfg.MaxLinks))
	case len(a.Unsettled) > 0 || a.IncompleteUnsettled:
		return linkError(frames.ErrCondNotImplemented, "link recovery is not supported: attach without unsettled state")
	case a.Coordinator != nil:
		return linkError(frames.ErrCondNotImplemented, "transactions are not supported")
	case a.Role == frames.RoleSender && a.Target == nil:
		return linkError(frames.ErrCondInvalidField, "sender attach without a target")
	case a.Role == frames.RoleReceiver && a.Source != nil && a.Source.Dynamic, a.Role == frames.RoleSender && a.Target.Dynamic:
		return linkError(frames.ErrCondNotImplemented, "dynamic nodes are not supported")
	case a.SndSettleMode > frames.SndMixed || a.RcvSettleMode > frames.RcvSecond:
		return linkError(frames.ErrCondInvalidField, "unknown settle mode")
	}
	return nil
}

// refuse answers an attach with a null local terminus followed at once by a
// detach carrying the reason (§2.6.3, figure 2.33).
func (l *link) refuse(a *frames.Attach, e *frames.Error) {
	reply := &frames.Attach{Name: a.Name, Handle: a.Handle, Role: l.role,
		SndSettleMode: a.SndSettleMode, RcvSettleMode: a.RcvSettleMode}
	if l.sending() {
		reply.Target = a.Target
		zero := l.c.cfg.initialSeq
		reply.InitialDeliveryCount = &zero
	} else {
		reply.Source = a.Source
	}
	l.c.send(l.s.channel, reply)
	l.detachWith(e)
	l.c.log.Info().Str("link", a.Name).Str("condition", string(e.Condition)).Str("description", e.Description).Msg("link refused")
}

// accept answers an attach, echoing the settle modes (go-amqp fails a link
// whose reply does not echo them) and the termini.
func (l *link) accept(a *frames.Attach) {
	reply := &frames.Attach{Name: a.Name, Handle: a.Handle, Role: l.role,
		SndSettleMode: a.SndSettleMode, RcvSettleMode: a.RcvSettleMode,
		Source: a.Source, Target: a.Target}
	if l.sending() {
		if reply.Source == nil {
			// A client may omit the source (the vendor's Python sample); a
			// null source in our reply would mean the link was refused.
			reply.Source = &frames.Source{}
		}
		l.deliveryCount = l.c.cfg.initialSeq
		reply.InitialDeliveryCount = &l.deliveryCount
	} else {
		reply.MaxMessageSize = l.c.cfg.MaxMessageSize
		if a.InitialDeliveryCount != nil {
			l.rcvCount = *a.InitialDeliveryCount
		}
	}
	l.c.send(l.s.channel, reply)
	if !l.sending() {
		l.rcvCredit = l.c.cfg.ProducerCredit
		l.s.sendFlow(l)
	}
	l.c.log.Debug().Str("link", a.Name).Uint32("handle", a.Handle).Bool("server_sends", l.sending()).Msg("link attached")
}

// detachWith closes the link from our side with an error and awaits the peer's detach.
func (l *link) detachWith(e *frames.Error) {
	if l.detachSent {
		return
	}
	l.release()
	l.detachSent = true
	l.c.cfg.Observer.ProtocolError(string(e.Condition))
	l.c.send(l.s.channel, &frames.Detach{Handle: l.handle, Closed: true, Error: e})
}
