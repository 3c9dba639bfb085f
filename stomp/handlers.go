package stomp

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/stomp/frame"
)

// topicAll is the one destination served: every message of the group.
const topicAll = "/topic/#"

// handle processes one client frame, then sends the RECEIPT it asked for.
// An error ends the connection.
func (c *conn) handle(f *frame.Frame) error {
	receipt, wantsReceipt := f.Get(frame.HdrReceipt)
	err := c.dispatch(f)
	var pe *protoError
	if errors.As(err, &pe) {
		pe.receipt = receipt
	}
	if err != nil {
		return err
	}
	if wantsReceipt && f.Command != frame.Connect && f.Command != frame.Stomp {
		if err := c.send(outItem{frame: receiptFrame(receipt, c.v10())}); err != nil {
			return err
		}
	}
	c.startDeliveries()
	return nil
}

// startDeliveries grants a new subscription its credit. It waits until
// after the SUBSCRIBE's RECEIPT is queued, so that the RECEIPT comes
// before the first MESSAGE.
func (c *conn) startDeliveries() {
	if sub := c.sub; sub != nil && !sub.started {
		sub.started = true
		sub.member.Credit(c.srv.cfg.Prefetch)
	}
}

func (c *conn) dispatch(f *frame.Frame) error {
	isConnect := f.Command == frame.Connect || f.Command == frame.Stomp
	switch {
	case c.principal == nil && !isConnect:
		return refuse(msgFirstConnect, printable(f.Command))
	case isConnect && c.principal != nil:
		return refuse(msgAlreadyConn, f.Command)
	}
	switch f.Command {
	case frame.Connect, frame.Stomp:
		return c.connect(f)
	case frame.Subscribe:
		return c.subscribe(f)
	case frame.Unsubscribe:
		return c.unsubscribe(f)
	case frame.Ack:
		return c.settle(f, broker.Ack)
	case frame.Nack:
		return c.settle(f, broker.Requeue)
	case frame.Send:
		return refuse(msgNoPublishing)
	case frame.Begin, frame.Commit, frame.Abort:
		return refuse(msgTransactions)
	case frame.Disconnect:
		bye := &disconnect{}
		if r, ok := f.Get(frame.HdrReceipt); ok {
			bye.receipt = receiptFrame(r, c.v10())
		}
		return bye
	}
	return refuse(msgUnknownCmd, printable(f.Command))
}

// printable shortens a command for an error message.
func printable(cmd string) string {
	if len(cmd) > 40 {
		return cmd[:40] + "..."
	}
	return cmd
}

func receiptFrame(id string, v10 bool) []byte {
	f := frame.Frame{Command: frame.Receipt, Headers: []frame.Header{{Key: frame.HdrReceiptID, Value: id}}}
	return appendFrame(&f, v10)
}

// appendFrame encodes a control frame: with STOMP 1.2 escapes, or none for
// a 1.0 peer (v10), which would show a "\c" for every colon.
func appendFrame(f *frame.Frame, v10 bool) []byte {
	if v10 {
		return frame.Append10(nil, f)
	}
	return frame.Append(nil, f)
}

// v10 reports a STOMP 1.0 connection, whose headers are not escaped.
func (c *conn) v10() bool { return c.version == "1.0" }

// connect signs the client in and agrees heart-beats (§CONNECT).
func (c *conn) connect(f *frame.Frame) error {
	version, err := negotiateVersion(f)
	if err != nil {
		return err
	}
	c.version = version // the ERROR of a refused CONNECT is in it too
	if c.v10() {
		c.rd.SetVersion10()
	}
	cx, cy, err := parseHeartBeat(f.Value(frame.HdrHeartBeat))
	if err != nil {
		return refuse("%v", err)
	}
	cfg := &c.srv.cfg
	ctx, cancel := context.WithTimeout(c.ctx, cfg.HandshakeTimeout)
	defer cancel()
	p, err := cfg.Authenticator.Authenticate(ctx, f.Value(frame.HdrLogin), f.Value(frame.HdrPasscode), c.nc.RemoteAddr())
	if err != nil {
		c.log = c.log.With().Str("login", f.Value(frame.HdrLogin)).Logger()
		return authError(err)
	}
	if p.GroupID == "" {
		p.GroupID = broker.DefaultGroupID
	}
	c.principal = p
	c.log = c.log.With().Str("client", p.ClientID).Str("group", p.GroupID).Logger()
	send, expect := negotiateBeats(cx, cy, cfg.HeartbeatFloor, cfg.ClientHeartbeat)
	c.dl.expect(time.Now().Add(cfg.HandshakeTimeout), 2*expect)
	c.log.Info().Str("version", version).Dur("send_beats", send).Dur("expect_beats", expect).Msg("connected")
	connected := frame.Frame{Command: frame.Connected, Headers: []frame.Header{
		{Key: frame.HdrVersion, Value: version},
		{Key: frame.HdrHeartBeat, Value: advertisedBeats(cfg.HeartbeatFloor, cfg.ClientHeartbeat)},
		{Key: frame.HdrServer, Value: "amqpemu"},
		{Key: frame.HdrSession, Value: "stomp-" + strconv.FormatUint(c.id, 10)},
	}}
	return c.send(outItem{frame: frame.Append(nil, &connected), heartbeat: send})
}

// negotiateVersion picks the highest version the client accepts (no
// accept-version header means 1.0) for the CONNECTED frame. The server
// behaves much the same for all: 1.2 frames and escapes, and it also takes
// the ACK form of 1.0 and 1.1 (message-id and subscription instead of id),
// as stomp.py's default Connection, which the vendor's sample uses, speaks
// 1.1. Only 1.0 connections may SUBSCRIBE and UNSUBSCRIBE without an id.
func negotiateVersion(f *frame.Frame) (string, error) {
	accept, ok := f.Get(frame.HdrAcceptVersion)
	if !ok {
		return "1.0", nil
	}
	best := ""
	for v := range strings.SplitSeq(accept, ",") {
		switch v = strings.TrimSpace(v); v {
		case "1.0", "1.1", "1.2":
			best = max(best, v)
		}
	}
	if best == "" {
		e := refuse(msgVersions, accept)
		e.headers = []frame.Header{{Key: frame.HdrVersion, Value: versionSupported}}
		return "", e
	}
	return best, nil
}

// subscribe joins the principal's group (§SUBSCRIBE).
func (c *conn) subscribe(f *frame.Frame) error {
	if c.sub != nil {
		return refuse(msgOneSubscribe, c.sub.id)
	}
	dest := f.Value(frame.HdrDestination)
	id, ok := f.Get(frame.HdrID)
	if !ok {
		// 1.1 and 1.2: "an id header MUST be included" (§SUBSCRIBE id
		// Header); 1.0 has none, and brokers name the subscription after its
		// destination, as MESSAGE's subscription header then shows.
		if c.version != "1.0" {
			return refuse(msgSubscribeID, c.version)
		}
		id = dest
	}
	if dest != topicAll {
		return refuse(msgOnlyTopicAll, dest)
	}
	mode, ok := parseAckMode(f.Value(frame.HdrAck))
	if !ok {
		return refuse("ack header %q: want auto, client or client-individual", f.Value(frame.HdrAck))
	}
	sub := &subscription{out: c.out, id: id, mode: mode, base64: c.principal.Base64, v10: c.v10()}
	ctx, cancel := context.WithTimeout(c.ctx, c.srv.cfg.HandshakeTimeout)
	defer cancel()
	m, err := c.srv.cfg.Broker.Join(ctx, c.principal.GroupID, broker.MemberInfo{ClientID: c.principal.ClientID, Address: c.remote}, sub)
	if err != nil {
		return brokerError("join", c.principal.GroupID, err)
	}
	sub.member = m
	c.sub = sub
	c.dl.expect(time.Time{}, c.idle())
	c.log.Info().Str("destination", dest).Str("subscription", id).Str("ack", f.Value(frame.HdrAck)).Msg("subscribed")
	return nil
}

func (c *conn) idle() time.Duration {
	c.dl.mu.Lock()
	defer c.dl.mu.Unlock()
	return c.dl.idle
}

// unsubscribe leaves the group; unacknowledged messages go back at once.
func (c *conn) unsubscribe(f *frame.Frame) error {
	id, ok := f.Get(frame.HdrID)
	dest, byDest := f.Get(frame.HdrDestination)
	switch {
	case c.version == "1.0" && !ok && byDest:
		// 1.0 names the subscription by id or by destination.
		if c.sub == nil || dest != topicAll {
			return refuse("no subscription to %q to unsubscribe", dest)
		}
	case !ok:
		return refuse(msgUnsubscribeID, c.version)
	case c.sub == nil || c.sub.id != id:
		return refuse("no subscription %q to unsubscribe", id)
	}
	c.log.Info().Str("subscription", c.sub.id).Msg("unsubscribed")
	c.dropSubscription()
	c.dl.expect(time.Now().Add(c.srv.cfg.HandshakeTimeout), c.idle())
	return nil
}

// dropSubscription leaves the group, if subscribed.
func (c *conn) dropSubscription() {
	sub := c.sub
	if sub == nil {
		return
	}
	c.sub = nil
	c.out.detach(sub)
	if sub.mode == ackAuto {
		c.awaitWritten()
	}
	sub.member.Leave()
	sub.forget()
}

// awaitWritten waits until the writer has written what it holds and acked
// its ack:auto deliveries: Leave hands back whatever is unsettled, and a
// message the client already has ("acked once written") must not go to
// another member. A DISCONNECT can overtake the writer between its write
// and its acks.
func (c *conn) awaitWritten() {
	flushed := make(chan struct{})
	if !c.out.pushBarrier(flushed) {
		return
	}
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-flushed:
	case <-c.writerDone:
	case <-t.C: // a client that does not read: what is unwritten goes back
	}
}

// settle handles ACK and NACK (§ACK, §NACK): the id header is the
// MESSAGE's ack header; older clients name the message-id instead. With
// ack:client both are cumulative.
func (c *conn) settle(f *frame.Frame, o broker.Outcome) error {
	idText, hasID := f.Get(frame.HdrID)
	messageID, hasMessageID := f.Get(frame.HdrMessageID)
	if !hasID && !hasMessageID {
		return refuse("%s needs an id header: the ack header of the MESSAGE", f.Command)
	}
	var id uint64
	if hasID {
		n, err := strconv.ParseUint(idText, 10, 64)
		if err != nil || n == 0 || n > c.ackSeq.Load() {
			return refuse("%s of id %q: no MESSAGE carried that ack header", f.Command, idText)
		}
		id = n
	}
	sub := c.sub
	if sub == nil || sub.mode == ackAuto {
		// Already settled: by UNSUBSCRIBE, or as written (ack:auto).
		c.log.Debug().Str("command", f.Command).Msg("nothing to settle")
		return nil
	}
	settled := sub.take(id, messageID, sub.mode == ackClient)
	for _, p := range settled {
		sub.member.Settle(p.token, o)
	}
	sub.member.Credit(len(settled))
	return nil
}
