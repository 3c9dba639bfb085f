package mqtt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/devices"
	"github.com/amqpemu/amqpemu/devicesign"
	"github.com/amqpemu/amqpemu/internal/devicemsg"
)

// publishTimeout bounds one store of a device message or status.
const publishTimeout = 10 * time.Second

// hook is the Server's sign-in, ACL and forwarding, called by mochi on the
// connection's goroutine.
type hook struct {
	mochi.HookBase
	s *Server
}

func (h *hook) ID() string { return "amqpemu-devices" }

func (h *hook) Provides(b byte) bool {
	return bytes.Contains([]byte{
		mochi.OnConnect, mochi.OnConnectAuthenticate, mochi.OnSessionEstablish, mochi.OnSessionEstablished,
		mochi.OnDisconnect, mochi.OnACLCheck, mochi.OnPublish, mochi.OnPacketRead, mochi.OnPacketEncode,
	}, []byte{b})
}

// OnConnect signs the device in, or answers CONNACK with the refusal's code.
func (h *hook) OnConnect(cl *mochi.Client, pk packets.Packet) error {
	s := h.s
	sess, err := s.signIn(pk, remoteIP(cl.Net.Remote))
	if err != nil {
		s.log.Warn().Err(err).Str("client", pk.Connect.ClientIdentifier).Str("username", string(pk.Connect.Username)).
			Str("remote", cl.Net.Remote).Msg("mqtt connect refused")
		_ = s.m.SendConnack(cl, connackCode(err, cl.Properties.ProtocolVersion == 5), false, nil)
		return err
	}
	// The session key, not the raw client id, names the mochi client: a
	// second login of the device takes the first one's session over.
	cl.ID = sess.key
	s.mu.Lock()
	s.sessions[cl] = sess
	s.mu.Unlock()
	return nil
}

// OnConnectAuthenticate accepts what OnConnect signed in.
func (h *hook) OnConnectAuthenticate(cl *mochi.Client, _ packets.Packet) bool {
	return h.s.session(cl) != nil
}

// OnSessionEstablish makes cl the device's connection, before mochi
// disconnects the previous one.
func (h *hook) OnSessionEstablish(cl *mochi.Client, _ packets.Packet) {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[cl]
	if prev := s.current[sess.key]; prev != nil {
		prev.kicked = true
	}
	sess.last = time.Now()
	s.current[sess.key] = sess
}

func (h *hook) OnSessionEstablished(cl *mochi.Client, _ packets.Packet) {
	s := h.s
	sess := s.session(cl)
	now := time.Now()
	s.log.Info().Str("device", sess.key).Str("remote", cl.Net.Remote).Msg("device online")
	s.publishStatus(sess, devicemsg.Online, "", now, now)
}

func (h *hook) OnDisconnect(cl *mochi.Client, err error, _ bool) {
	s := h.s
	s.mu.Lock()
	sess := s.sessions[cl]
	delete(s.sessions, cl)
	if sess == nil {
		s.mu.Unlock()
		return
	}
	if s.current[sess.key] == sess {
		delete(s.current, sess.key)
	}
	last, kicked := sess.last, sess.kicked
	s.mu.Unlock()
	reason := "normal"
	switch {
	case kicked:
		reason = "kicked: the device signed in again"
	case err != nil && !errors.Is(err, packets.CodeDisconnect):
		reason = err.Error()
	}
	s.log.Info().Str("device", sess.key).Str("reason", reason).Msg("device offline")
	s.publishStatus(sess, devicemsg.Offline, reason, time.Now(), last)
}

// OnPacketRead notes the device's last communication (PUBLISH or PINGREQ).
func (h *hook) OnPacketRead(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if t := pk.FixedHeader.Type; t == packets.Publish || t == packets.Pingreq {
		h.s.mu.Lock()
		if sess := h.s.sessions[cl]; sess != nil {
			sess.last = time.Now()
		}
		h.s.mu.Unlock()
	}
	return pk, nil
}

// OnPacketEncode gives MQTT 3.1.1 clients the only SUBACK failure code it
// has, 0x80 ([MQTT-3.9.3-2]); mochi writes the MQTT 5 one.
func (h *hook) OnPacketEncode(_ *mochi.Client, pk packets.Packet) packets.Packet {
	if pk.FixedHeader.Type == packets.Suback && pk.ProtocolVersion < 5 {
		codes := make([]byte, len(pk.ReasonCodes))
		for i, c := range pk.ReasonCodes {
			if codes[i] = c; c >= 0x80 {
				codes[i] = 0x80
			}
		}
		pk.ReasonCodes = codes
	}
	return pk
}

// OnACLCheck lets a device subscribe to the topics the platform grants it
// (ownFilter). Publishes are checked in OnPublish, which disconnects
// whatever the QoS.
func (h *hook) OnACLCheck(cl *mochi.Client, filter string, write bool) bool {
	if cl.Net.Inline || write {
		return true
	}
	sess := h.s.session(cl)
	if sess == nil {
		return false
	}
	pk, dn := sess.dev.ProductKey, sess.dev.DeviceName
	ok := ownFilter(filter, pk, dn)
	if !ok {
		h.s.log.Warn().Str("device", sess.key).Str("filter", filter).Msg("mqtt subscription refused: not the device's own topic")
	}
	return ok
}

// ownFilter: under /{pk}/{dn}/, /sys/{pk}/{dn}/, /ext/…/{pk}/{dn}/ (the
// gateway session and NTP replies), /broadcast/{pk}/, and the device's
// shadow /shadow/get/{pk}/{dn}. The official Node.js SDK subscribes to the
// shadow and gateway topics on every connect.
func ownFilter(filter, pk, dn string) bool {
	own := "/" + pk + "/" + dn + "/"
	switch {
	case strings.HasPrefix(filter, own), strings.HasPrefix(filter, "/sys"+own),
		strings.HasPrefix(filter, "/broadcast/"+pk+"/"), filter == "/shadow/get"+own[:len(own)-1]:
		return true
	case strings.HasPrefix(filter, "/ext/"):
		rest := filter[len("/ext/"):]
		i := strings.IndexByte(rest, '/')
		return i > 0 && strings.HasPrefix(rest[i:], own) && !strings.ContainsAny(rest[:i], "+#")
	}
	return false
}

// OnPublish forwards a device's message to the consumer groups (and not
// to other MQTT clients), or disconnects it for a refused one.
func (h *hook) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil // Send and replies
	}
	s := h.s
	sess := s.session(cl)
	if err := checkPublish(sess, pk); err != nil {
		s.log.Warn().Err(err).Str("device", sess.key).Str("topic", pk.TopicName).Msg("mqtt publish refused: disconnecting")
		_ = s.m.DisconnectClient(cl, disconnectCode(err))
		return pk, packets.ErrRejectPacket
	}
	if err := s.forward(sess, pk.TopicName, pk.Payload); err != nil {
		// No PUBACK: the device sends it again.
		s.log.Error().Err(err).Str("device", sess.key).Str("topic", pk.TopicName).Msg("device message not stored")
		return pk, packets.ErrRejectPacket
	}
	return pk, packets.CodeSuccessIgnore
}

func checkPublish(sess *session, pk packets.Packet) error {
	switch {
	case pk.FixedHeader.Qos > 1:
		return ErrQoS2
	case pk.FixedHeader.Retain:
		return ErrRetain
	}
	p, d := sess.dev.ProductKey, sess.dev.DeviceName
	if !strings.HasPrefix(pk.TopicName, "/"+p+"/"+d+"/") && !strings.HasPrefix(pk.TopicName, "/sys/"+p+"/"+d+"/") {
		return fmt.Errorf("%w: %s may publish under /%s/%s/ and /sys/%s/%s/", ErrTopicForbidden, sess.key, p, d, p, d)
	}
	return nil
}

// signIn checks a CONNECT as the platform does.
func (s *Server) signIn(pk packets.Packet, clientIP string) (*session, error) {
	c := pk.Connect
	switch {
	case s.cfg.Devices == nil:
		return nil, ErrNoRegistry
	case c.WillFlag:
		return nil, ErrWill
	case c.Keepalive < MinKeepAlive || c.Keepalive > MaxKeepAlive:
		return nil, fmt.Errorf("%w: %d s", ErrKeepAlive, c.Keepalive)
	}
	id, err := devicesign.ParseClientID(c.ClientIdentifier)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCredentials, err)
	}
	dn, prod, err := devicesign.ParseUsername(string(c.Username))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCredentials, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	dev, err := s.cfg.Devices.Device(ctx, prod, dn)
	if errors.Is(err, devices.ErrDeviceNotFound) && s.cfg.AutoRegister != nil {
		if dev, err = s.cfg.AutoRegister(ctx, prod, dn); err == nil {
			s.log.Info().Str("device", deviceKey(prod, dn)).Str("deviceSecret", dev.DeviceSecret).Msg("device registered at its first sign-in (--auto-register-devices)")
		}
	}
	switch {
	case errors.Is(err, devices.ErrDeviceNotFound):
		return nil, fmt.Errorf("%w: %s/%s", ErrUnknownDevice, prod, dn)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrRegistry, err)
	case !dev.Enabled:
		return nil, fmt.Errorf("%w: %s/%s", ErrDisabled, prod, dn)
	}
	if err := devicesign.Verify(id, dn, prod, dev.DeviceSecret, string(c.Password)); err != nil && !(dev.AutoRegistered && s.cfg.AutoRegister != nil) {
		return nil, fmt.Errorf("%w: %w", ErrBadCredentials, err)
	}
	if dev.IotID == "" {
		dev.IotID = devicemsg.IotID(prod, dn)
	}
	return &session{key: deviceKey(prod, dn), dev: dev, clientIP: clientIP}, nil
}

func (s *Server) session(cl *mochi.Client) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[cl]
}

func (s *Server) publishStatus(sess *session, status, reason string, now, last time.Time) {
	d := sess.dev
	m := devicemsg.Status(d.ProductKey, d.DeviceName, d.IotID, status, sess.clientIP, reason, now, last)
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	if _, err := s.cfg.Broker.Publish(ctx, m.DeviceMessage(now)); err != nil {
		s.log.Error().Err(err).Str("device", sess.key).Str("status", status).Msg("device status not stored")
	}
}

// forward stores what the device published: custom topics as sent, Alink
// property posts and events converted (and replied to).
func (s *Server) forward(sess *session, topic string, payload []byte) error {
	d := sess.dev
	rest, sys := sysRest(topic, d.ProductKey, d.DeviceName)
	if !sys {
		return s.store(broker.DeviceMessage{ProductKey: d.ProductKey, DeviceName: d.DeviceName,
			Kind: broker.KindData, Topic: topic, Payload: payload})
	}
	method, convert := alinkMethod(rest)
	if convert == nil {
		s.log.Debug().Str("device", sess.key).Str("topic", topic).Msg("system topic not forwarded")
		return nil
	}
	req, err := parseAlink(payload)
	var body []byte
	if err == nil {
		body, err = convert(thing{d.IotID, d.ProductKey, d.DeviceName}, req, time.Now())
	}
	if err != nil {
		s.log.Warn().Err(err).Str("device", sess.key).Str("topic", topic).Msg("malformed Alink request: not forwarded")
		s.reply(topic, replyTo(req, method, err))
		return nil
	}
	if err := s.store(broker.DeviceMessage{ProductKey: d.ProductKey, DeviceName: d.DeviceName,
		Kind: broker.KindData, Topic: "/" + d.ProductKey + "/" + d.DeviceName + "/" + rest, Payload: body}); err != nil {
		return err
	}
	if req.wantsReply() {
		s.reply(topic, replyTo(req, method, nil))
	}
	return nil
}

// alinkMethod is the Alink method of a /sys/{pk}/{dn}/rest topic and the
// conversion of its requests (nil when not forwarded).
func alinkMethod(rest string) (string, func(thing, alinkRequest, time.Time) ([]byte, error)) {
	if rest == "thing/event/property/post" {
		return "thing.event.property.post", convertPropertyPost
	}
	if id, ok := strings.CutPrefix(rest, "thing/event/"); ok {
		if id, ok = strings.CutSuffix(id, "/post"); ok && id != "" && !strings.Contains(id, "/") {
			return "thing.event." + id + ".post", func(d thing, r alinkRequest, now time.Time) ([]byte, error) {
				return convertEvent(d, id, r, now)
			}
		}
	}
	return "", nil
}

func (s *Server) store(m broker.DeviceMessage) error {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	_, err := s.cfg.Broker.Publish(ctx, m)
	return err
}

// reply publishes the platform's answer on topic + "_reply".
func (s *Server) reply(topic string, body []byte) {
	if err := s.m.Publish(topic+"_reply", body, false, 0); err != nil {
		s.log.Error().Err(err).Str("topic", topic).Msg("alink reply not sent")
	}
}

func remoteIP(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
