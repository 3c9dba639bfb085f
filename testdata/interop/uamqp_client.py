#!/usr/bin/python3
"""AMQP 1.0 interop client built on python3-uamqp (Debian's python3-uamqp).

uamqp speaks AMQP over TLS only and puts the whole URI in the link address
(amqps://host:port/DEFAULT_GROUP), which is what this client checks against
the server. Its SendClient asks for receiver-settle-mode second by default.

  /usr/bin/python3 uamqp_client.py --url amqps://localhost:5671/DEFAULT_GROUP --ca ca.pem --mode receive --count 3
  /usr/bin/python3 uamqp_client.py --url amqps://localhost:5671/my_queue --ca ca.pem --mode send --count 3

receive accepts each message and prints {"ok":true,"received":N,"bodies":[...]};
send waits until each message is settled and prints {"ok":true,"sent":N}.
Anything else exits 1 with "uamqp_client: FAIL (<mode>): <reason>" on stderr.
"""
import argparse
import json
import sys
import time
from urllib.parse import urlsplit

import uamqp
from uamqp import authentication, constants


def fail(mode, reason):
    print("uamqp_client: FAIL (%s): %s" % (mode, reason), file=sys.stderr)
    sys.exit(1)


def body_of(m):
    return b"".join(m.get_data()).decode("utf-8", "replace")


def receive(o, auth):
    ms = int(o.timeout * 1000)
    c = uamqp.ReceiveClient(o.url, auth=auth, auto_complete=False, prefetch=max(o.count, 1), timeout=ms)
    bodies = []
    deadline = time.monotonic() + o.timeout
    try:
        while len(bodies) < o.count and time.monotonic() < deadline:
            for m in c.receive_message_batch(max_batch_size=o.count - len(bodies), timeout=1000):
                bodies.append(body_of(m))
                if not m.accept():
                    fail("receive", "could not accept message %d" % len(bodies))
    finally:
        c.close()
    if len(bodies) < o.count:
        fail("receive", "received %d of %d messages in %gs" % (len(bodies), o.count, o.timeout))
    print(json.dumps({"ok": True, "received": len(bodies), "bodies": bodies}))


def send(o, auth):
    c = uamqp.SendClient(o.url, auth=auth, msg_timeout=int(o.timeout * 1000))
    try:
        for i in range(o.count):
            c.queue_message(uamqp.Message(("uamqp-%d" % i).encode()))
        states = c.send_all_messages(close_on_done=False)
    finally:
        c.close()
    bad = [s for s in states if s != constants.MessageState.SendComplete]
    if bad:
        fail("send", "message states %s" % [str(s) for s in states])
    print(json.dumps({"ok": True, "sent": len(states)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True, help="amqps://host:port/address")
    p.add_argument("--ca", help="CA certificate (PEM) to trust")
    p.add_argument("--mode", choices=["send", "receive"], required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--timeout", type=float, default=30)
    o = p.parse_args()
    u = urlsplit(o.url)
    if u.scheme != "amqps":
        fail(o.mode, "uamqp speaks amqps only, got %r" % o.url)
    auth = authentication.SASLAnonymous(u.hostname, port=u.port or 5671, verify=o.ca)
    try:
        (receive if o.mode == "receive" else send)(o, auth)
    except uamqp.errors.AMQPError as e:
        fail(o.mode, "%s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    main()
