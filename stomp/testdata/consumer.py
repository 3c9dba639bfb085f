# -*- coding: utf-8 -*-
"""A consumer written like the vendor's Python 3 STOMP sample (stomp.py),
driven by stomppy_test.go.

It signs in with the vendor's user name and HMAC-SHA1 password, subscribes
to /topic/# in on_connected, and prints each message it receives as a JSON
line (the body Base64-encoded, so the test compares bytes). It exits 0 once
it has received COUNT messages, 1 on an ERROR frame, a heart-beat timeout
or after 60 s.

The sample's stomp.Connection speaks STOMP 1.1 (stomp.py 7 and 8), whose
ACK names the message-id and subscription; PROTO=12 uses
stomp.Connection12 instead, whose ACK names the MESSAGE's ack header.

Environment: HOST, PORT, CA (a CA file: use TLS), CLIENT_ID, ACCESS_KEY,
ACCESS_SECRET, GROUP, ENCODE (base64 or empty), ACK (auto or
client-individual), COUNT, PROTO (12 or empty), HOLD (seconds to stay
connected after the last message, for the server's heart-beats to be
checked).
"""
import base64
import hashlib
import hmac
import json
import os
import ssl
import sys
import threading
import time

import stomp

env = os.environ
done = threading.Event()
failed = []


def current_time_millis():
    return str(int(round(time.time() * 1000)))


def do_sign(secret, sign_content):
    m = hmac.new(secret, sign_content, digestmod=hashlib.sha1)
    return base64.b64encode(m.digest())


class MyListener(stomp.ConnectionListener):
    def __init__(self, conn):
        self.conn = conn
        self.received = 0

    def on_error(self, frame):
        failed.append("ERROR %s" % frame.headers.get("message"))
        done.set()

    def on_heartbeat_timeout(self):
        failed.append("heart-beat timeout: the server sent nothing for 1.5 x 300 ms")
        done.set()

    def on_message(self, frame):
        h = frame.headers
        body = frame.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        print(json.dumps({
            "destination": h.get("destination"),
            "messageId": h.get("messageId"),
            "messageIdHeader": h.get("message-id"),
            "generateTime": h.get("generateTime"),
            "topic": h.get("topic"),
            "body": base64.b64encode(body).decode("ascii"),
        }), flush=True)
        if env["ACK"] != "auto":
            if env.get("PROTO") == "12":
                self.conn.ack(h["ack"])
            else:
                self.conn.ack(h["message-id"], h["subscription"])
        self.received += 1
        if self.received == int(env["COUNT"]):
            done.set()

    def on_connected(self, frame):
        self.conn.subscribe(destination="/topic/#", id=1, ack=env["ACK"])

    def on_disconnected(self):
        if not done.is_set():
            failed.append("disconnected")
            done.set()


def connect_and_subscribe(conn):
    access_key = env["ACCESS_KEY"]
    access_secret = env["ACCESS_SECRET"]
    consumer_group_id = env["GROUP"]
    iot_instance_id = ""
    client_id = env["CLIENT_ID"]
    timestamp = current_time_millis()
    encode = ",encode=base64" if env.get("ENCODE") == "base64" else ""
    username = (client_id + "|authMode=aksign" + ",signMethod=" + "hmacsha1" + ",timestamp=" + timestamp
                + ",authId=" + access_key + ",iotInstanceId=" + iot_instance_id
                + ",consumerGroupId=" + consumer_group_id + encode + "|")
    sign_content = "authId=" + access_key + "&timestamp=" + timestamp
    password = do_sign(access_secret.encode("utf-8"), sign_content.encode("utf-8")).decode("utf-8")
    conn.set_listener("", MyListener(conn))
    conn.connect(username, password, wait=True)


def main():
    host, port = env["HOST"], int(env["PORT"])
    connection = stomp.Connection12 if env.get("PROTO") == "12" else stomp.Connection
    conn = connection([(host, port)], heartbeats=(0, 300))
    if env.get("CA"):
        conn.set_ssl(for_hosts=[(host, port)], ssl_version=ssl.PROTOCOL_TLS_CLIENT, ca_certs=env["CA"])
    connect_and_subscribe(conn)
    if not done.wait(60):
        failed.append("timed out")
    time.sleep(float(env.get("HOLD") or 0))
    if failed:
        print("consumer failed: " + "; ".join(failed), file=sys.stderr, flush=True)
        sys.exit(1)
    conn.disconnect()


if __name__ == "__main__":
    main()
