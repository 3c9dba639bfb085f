# Follows the IoT platform's Python 3 SDK sample for consumers (stomp.py over
# TLS on port 61614), run with Debian's python3-stomp (stomp.py 8),
# changed only to read its settings from the environment and to print each
# message as one JSON line on stdout:
#
#   IOT_HOST (localhost), IOT_PORT (61614), IOT_ACCESS_KEY, IOT_ACCESS_SECRET,
#   IOT_CONSUMER_GROUP_ID (DEFAULT_GROUP), IOT_CLIENT_ID, IOT_INSTANCE_ID ('')
#   IOT_ENCODE_BASE64=1: add encode=base64 to the user name, so the server
#       Base64-encodes message bodies (the sample's advice for binary payloads)
#   EXPECT=N: exit 0 once N distinct messages were received
#
# Trust the emulator's CA with SSL_CERT_FILE=amqpemu-data/tls/ca.pem: the
# sample calls set_ssl without ca_certs, which makes stomp.py skip
# verification; here ca_certs comes from SSL_CERT_FILE, so the server's
# certificate is verified against it.
#
# The sample checks the connection every second with the `schedule` package;
# a plain thread does the same here, so python3-stomp is all it needs.
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
import stomp.logging as stomp_logging

# Not in the sample: log why a connection attempt failed (e.g. an untrusted
# certificate), not only that it did.
stomp_logging.verbose = True

# Settings; the sample has them inline as ${YourHost} and so on.
HOST = os.getenv('IOT_HOST') or 'localhost'
PORT = int(os.getenv('IOT_PORT') or 61614)
ENCODE_BASE64 = os.getenv('IOT_ENCODE_BASE64') == '1'
EXPECT = int(os.getenv('EXPECT') or 0)


def log(*args):
    # The sample prints to stdout; stdout carries the JSON lines here.
    print(*args, file=sys.stderr, flush=True)


def connect_and_subscribe(conn):
    accessKey = os.getenv('IOT_ACCESS_KEY') or ''
    accessSecret = os.getenv('IOT_ACCESS_SECRET') or ''
    consumerGroupId = os.getenv('IOT_CONSUMER_GROUP_ID') or 'DEFAULT_GROUP'
    iotInstanceId = os.getenv('IOT_INSTANCE_ID') or ''
    clientId = os.getenv('IOT_CLIENT_ID') or 'python-stomp-sample'
    signMethod = "hmacsha1"
    timestamp = current_time_millis()
    # The client id, then the auth parameters between '|'. With
    # IOT_ENCODE_BASE64=1, encode=base64 makes the server Base64-encode bodies.
    username = clientId + "|authMode=aksign" + ",signMethod=" + signMethod \
        + ",timestamp=" + timestamp + ",authId=" + accessKey \
        + ",iotInstanceId=" + iotInstanceId \
        + ",consumerGroupId=" + consumerGroupId \
        + (",encode=base64" if ENCODE_BASE64 else "") + "|"
    signContent = "authId=" + accessKey + "&timestamp=" + timestamp
    # Base64 HMAC-SHA1 of authId and timestamp, keyed with the secret.
    password = do_sign(accessSecret.encode("utf-8"), signContent.encode("utf-8"))

    conn.set_listener('', MyListener(conn))
    conn.connect(username, password, wait=True)
    # Start the connection check unless it already runs (the sample uses
    # schedule here).
    checker.start(conn)


class MyListener(stomp.ConnectionListener):
    def __init__(self, conn):
        self.conn = conn

    def on_error(self, frame):
        log('received an error "%s"' % frame.body)

    def on_message(self, frame):
        # The sample prints frame.body; we print a JSON line.
        print_message(frame)

    def on_heartbeat_timeout(self):
        log('on_heartbeat_timeout')

    def on_connected(self, headers):
        log("successfully connected")
        conn.subscribe(destination='/topic/#', id=1, ack='auto')
        log("successfully subscribe")

    def on_disconnected(self):
        log('disconnected')
        if done.is_set():
            return
        try:
            connect_and_subscribe(self.conn)
        except Exception as e:
            log('reconnect failed, ', e)


def current_time_millis():
    return str(int(round(time.time() * 1000)))


def do_sign(secret, sign_content):
    m = hmac.new(secret, sign_content, digestmod=hashlib.sha1)
    return base64.b64encode(m.digest()).decode("utf-8")


def do_check(conn):
    if done.is_set():
        return
    if not conn.is_connected():
        log('check connection, is_connected: %s' % conn.is_connected())
        try:
            connect_and_subscribe(conn)
        except Exception as e:
            log('disconnected, ', e)


# Calls do_check every second on a daemon thread, in place of the sample's
# schedule job.
class Checker(object):
    def __init__(self):
        self.thread = None

    def start(self, conn):
        if self.thread is None:
            self.thread = threading.Thread(target=self.run, args=(conn,), daemon=True)
            self.thread.start()

    def run(self, conn):
        while not done.is_set():
            time.sleep(1)
            do_check(conn)


checker = Checker()

# Not in the sample: the JSON line per message and EXPECT.
done = threading.Event()
seen = set()
out_lock = threading.Lock()


def print_message(frame):
    headers = frame.headers
    body = frame.body
    if isinstance(body, str):
        body = body.encode('utf-8')
    if ENCODE_BASE64:
        body = base64.b64decode(body)
    message_id = headers.get('messageId') or headers.get('message-id')
    generate_time = headers.get('generateTime')
    with out_lock:
        sys.stdout.write(json.dumps({
            'topic': headers.get('topic') or headers.get('destination'),
            'messageId': message_id,
            'generateTime': int(generate_time) if generate_time else None,
            'payloadBase64': base64.b64encode(body).decode('ascii'),
        }) + '\n')
        sys.stdout.flush()
        seen.add(message_id)
        if EXPECT and len(seen) == EXPECT:
            done.set()


conn = stomp.Connection([(HOST, PORT)], heartbeats=(0, 300))
conn.set_ssl(for_hosts=[(HOST, PORT)], ssl_version=ssl.PROTOCOL_TLS,
             ca_certs=os.getenv('SSL_CERT_FILE'))

try:
    connect_and_subscribe(conn)
except Exception as e:
    log('connecting failed')
    raise e

if EXPECT:
    done.wait()
    # ack='auto': the server counts a message as consumed once it sent it.
    conn.disconnect()
    sys.exit(0)
while True:
    time.sleep(3600)
