#!/usr/bin/python3
"""AMQP 1.0 interop client built on Qpid Proton (python3-qpid-proton).

Same CLI and message format as rhea_client.js; see README.md.
Run with Debian's /usr/bin/python3 (the proton bindings are a Debian package).
"""
import argparse
import json
import sys
from urllib.parse import unquote, urlsplit

from proton import Message
from proton.handlers import MessagingHandler
from proton.reactor import Container

TOPIC = "/pk/dn/user/test"
WINDOW = 50  # receiver credit window


def body(i, size):
    """Deterministic body for message i: byte j = (31*i + j) & 0xff, first 8 bytes = i (big-endian)."""
    pat = bytes((31 * i + j) & 0xFF for j in range(256))
    b = bytearray((pat * (size // 256 + 1))[:size])
    n = min(8, size)
    b[:n] = i.to_bytes(8, "big")[:n]
    return bytes(b)


class Fail(Exception):
    pass


def _cond(c):
    return "%s: %s" % (c.name, c.description) if c else "connection lost"


class Client(MessagingHandler):
    def __init__(self, opts):
        # prefetch=0: we hand out credit ourselves so we never take more than --count
        # messages off the queue; auto_accept=False: accept only after validation.
        super().__init__(prefetch=0, auto_accept=False)
        self.o = opts
        self.sending = opts.mode in ("send", "roundtrip")
        self.receiving = opts.mode in ("receive", "roundtrip")
        self.sent = self.accepted = self.received = self.credit_issued = 0
        self.seen = set()
        self.closing = self.done = False

    def on_start(self, event):
        u = urlsplit(self.o.url)
        if u.scheme not in ("amqp", ""):
            raise Fail("unsupported URL scheme %r" % u.scheme)
        kw = {}
        if u.username is not None:
            kw.update(user=unquote(u.username), password=unquote(u.password or ""),
                      allowed_mechs="PLAIN", allow_insecure_mechs=True)  # PLAIN over plain TCP
        else:
            kw.update(allowed_mechs="ANONYMOUS")
        if self.o.max_frame_size:
            kw["max_frame_size"] = self.o.max_frame_size
        # Pass host:port only; credentials go via kwargs (proton would also parse them from the URL).
        host = u.hostname or "localhost"
        url = "amqp://%s:%d" % ("[%s]" % host if ":" in host else host, u.port or 5672)
        self.timer = event.container.schedule(self.o.timeout, self)
        conn = event.container.connect(url, reconnect=False, **kw)
        if self.receiving:  # attach receiver first so roundtrip messages have a consumer
            self.receiver = event.container.create_receiver(conn, self.o.address)
            self.credit_issued = min(WINDOW, self.o.count)
            self.receiver.flow(self.credit_issued)
        if self.sending:
            event.container.create_sender(conn, self.o.address)

    def on_connection_opened(self, event):
        self.check_done(event)  # --count 0

    def on_timer_task(self, event):
        raise Fail("timeout after %gs (sent=%d accepted=%d received=%d)"
                   % (self.o.timeout, self.sent, self.accepted, self.received))

    def on_sendable(self, event):
        while event.sender.credit and self.sent < self.o.count:
            i = self.sent
            m = Message(id="msg-%d" % i, body=body(i, self.o.size),
                        properties={"seq": i, "topic": TOPIC})  # python int -> AMQP long
            m.inferred = True  # bytes body as a Data section, not an amqp-value binary
            event.sender.send(m)
            self.sent += 1

    def on_accepted(self, event):
        self.accepted += 1
        self.check_done(event)

    def on_rejected(self, event):
        raise Fail("message rejected by server: %s" % event.delivery.remote.condition)

    def on_released(self, event):  # also called for MODIFIED
        raise Fail("message released/modified by server")

    def on_message(self, event):
        m = event.message
        props = m.properties or {}
        seq = props.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < self.o.count:
            raise Fail("bad seq property %r (props=%r)" % (seq, props))
        if seq in self.seen:
            raise Fail("duplicate message seq=%d" % seq)
        if props.get("topic") != TOPIC:
            raise Fail("seq=%d: bad topic property %r" % (seq, props.get("topic")))
        if m.id != "msg-%d" % seq:
            raise Fail("seq=%d: bad message-id %r" % (seq, m.id))
        # inferred=True means the body arrived as Data section(s), not amqp-value.
        if not m.inferred or not isinstance(m.body, bytes):
            raise Fail("seq=%d: body is not a Data section (%s)" % (seq, type(m.body).__name__))
        if m.body != body(seq, self.o.size):
            exp = body(seq, self.o.size)
            bad = next((k for k in range(min(len(m.body), len(exp))) if m.body[k] != exp[k]), None)
            raise Fail("seq=%d: corrupt body (len %d, want %d, first bad byte at %s)"
                       % (seq, len(m.body), len(exp), bad))
        self.seen.add(seq)
        self.received += 1
        self.accept(event.delivery)
        if self.credit_issued < self.o.count:  # top the window back up, never past --count
            self.receiver.flow(1)
            self.credit_issued += 1
        self.check_done(event)

    def check_done(self, event):
        if self.closing:
            return
        if (not self.sending or self.accepted == self.o.count) and \
           (not self.receiving or self.received == self.o.count):
            self.closing = True
            event.connection.close()

    def on_connection_closed(self, event):
        if not self.closing:
            raise Fail("connection closed by server before completion")
        self.done = True
        # Stop the reactor now: with the (cancelled) timeout task still queued it would
        # otherwise idle in select() for up to ~3.14s before noticing there is no work.
        self.timer.cancel()
        event.container.stop()

    # Anything that ends the connection before we close it is a failure.
    def on_transport_error(self, event):
        raise Fail("transport error: %s" % _cond(event.transport.condition))

    def on_connection_error(self, event):
        raise Fail("connection closed by server: %s" % event.connection.remote_condition)

    def on_session_error(self, event):
        raise Fail("session closed by server: %s" % event.session.remote_condition)

    def on_link_error(self, event):
        raise Fail("link closed by server: %s" % event.link.remote_condition)

    # *_closing: the server closed first (without an error condition).
    def on_connection_closing(self, event):
        if not self.closing:
            raise Fail("connection closed by server before completion")

    def on_session_closing(self, event):
        if not self.closing:
            raise Fail("session ended by server before completion")

    def on_link_closing(self, event):
        if not self.closing:
            raise Fail("link %s detached by server before completion" % event.link.name)

    def on_disconnected(self, event):
        if not self.done:
            raise Fail("disconnected before completion: %s" % _cond(event.transport.condition))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--url", required=True, help="amqp://[user:pass@]host:port")
    p.add_argument("--address", required=True)
    p.add_argument("--mode", required=True, choices=["send", "receive", "roundtrip"])
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--max-frame-size", type=int, default=0,
                   help="advertise this max-frame-size in open (default: library default, unlimited)")
    o = p.parse_args()
    c = Client(o)
    try:
        Container(c).run()
        if not c.done:
            raise Fail("event loop ended before completion")
    except Exception as e:  # Fail or anything proton raises
        print("proton_client: FAIL (%s): %s" % (o.mode, e), file=sys.stderr)
        sys.exit(1)
    res = {"ok": True, "sent": c.accepted, "received": c.received}
    print(json.dumps(res, separators=(",", ":")))


if __name__ == "__main__":
    main()
