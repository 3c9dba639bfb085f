// Package amqp is amqpemu's AMQP 1.0 server: the protocol headers, SASL
// (PLAIN and ANONYMOUS), connections, sessions and links, over a Backend that
// stores and dispatches the messages (see amqp/brokerbackend). The codec is
// in amqp/encoding and amqp/frames.
//
// Limits the server applies, each in Config:
//   - one handshake deadline (HandshakeTimeout) covers the protocol header,
//     SASL and the open frame together;
//   - empty frames go out at half the peer's idle time-out but never more
//     often than HeartbeatFloor (default 1 s); the open frame's properties
//     carry the floor in milliseconds under "amqpemu:heartbeat-floor-ms";
//   - MaxMessageSize (default 256 KiB) is advertised in the attach of every
//     link on which the server receives; a larger delivery detaches the link
//     with amqp:link:message-size-exceeded;
//   - the session incoming window is granted as transfer frames are consumed
//     and enforced: a transfer beyond it ends the session with
//     amqp:session:window-violation;
//   - a handle above handle-max closes the connection with
//     amqp:connection:framing-error (§2.7.2);
//   - link addresses must be valid UTF-8 and at most MaxAddressLength bytes
//     (default 1024), or the link is refused with amqp:invalid-field.
package amqp
