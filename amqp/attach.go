package amqp

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

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
		Logger:      s.c.log,
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
	if a.Source != nil {
		if e := s.c.checkAddress("source", a.Source.Address); e != nil {
			return e
		}
	}
	if a.Target != nil {
		if e := s.c.checkAddress("target", a.Target.Address); e != nil {
			return e
		}
	}
	return nil
}

// checkAddress refuses a terminus address that is not UTF-8 (AMQP strings
// are) or is longer than the configured bound.
func (c *conn) checkAddress(which, addr string) *frames.Error {
	switch {
	case !utf8.ValidString(addr):
		return linkError(frames.ErrCondInvalidField, fmt.Sprintf("%s address %q is not valid UTF-8", which, addr))
	case len(addr) > c.cfg.MaxAddressLength:
		return linkError(frames.ErrCondInvalidField, fmt.Sprintf("%s address is %d bytes, longer than %d bytes", which, len(addr), c.cfg.MaxAddressLength))
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
	l.sendDetach(e)
	l.c.log.Info().Str("link", a.Name).Uint32("handle", a.Handle).Str("role", roleName(a.Role)).Str("address", address(a)).
		Str("condition", string(e.Condition)).Str("description", e.Description).Msg("link refused")
}

// roleName names the client's role on a link.
func roleName(r bool) string {
	if r == frames.RoleReceiver {
		return "receiver"
	}
	return "sender"
}

// address is the node address an attach names: the source of a client
// receiver, the target of a client sender.
func address(a *frames.Attach) string {
	switch {
	case a.Role == frames.RoleReceiver && a.Source != nil:
		return a.Source.Address
	case a.Role == frames.RoleSender && a.Target != nil:
		return a.Target.Address
	}
	return ""
}

// accept answers an attach, echoing the settle modes (go-amqp fails a link
// whose reply does not echo them) and the termini, except rcv-settle-mode
// on links where the server receives: always first.
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
		// We settle every delivery we receive as soon as its outcome is
		// known: rcv-settle-mode first, whatever the client asked for. A
		// client asking for second and told so waits for settlement
		// (python3-uamqp's SendClient asks second by default, then never
		// settles and times out).
		reply.RcvSettleMode, l.rcvSettleMode = frames.RcvFirst, frames.RcvFirst
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
	ev := l.c.log.Info().Str("link", a.Name).Uint32("handle", a.Handle).Uint16("channel", l.s.channel).
		Str("role", roleName(a.Role)).Str("address", address(a))
	var backend any = l.producer
	if l.sending() {
		backend = l.consumer
	}
	if n, ok := backend.(NodeNamer); ok {
		ev = ev.Str("node", n.Node())
	}
	ev.Msg("link attached")
}

// detachWith closes the link from our side with an error and awaits the peer's detach.
func (l *link) detachWith(e *frames.Error) {
	if l.detachSent {
		return
	}
	l.c.log.Info().Str("link", l.name).Uint32("handle", l.handle).Str("by", "server").
		Str("condition", string(e.Condition)).Str("description", e.Description).Msg("link detached")
	l.sendDetach(e)
}

// sendDetach sends a closing detach with e and awaits the peer's.
func (l *link) sendDetach(e *frames.Error) {
	if l.detachSent {
		return
	}
	l.release()
	l.detachSent = true
	l.c.cfg.Observer.ProtocolError(string(e.Condition))
	l.c.send(l.s.channel, &frames.Detach{Handle: l.handle, Closed: true, Error: e})
}
