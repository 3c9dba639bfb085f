# Follows the IoT platform's Python 2.7 SDK sample for AMQP consumers (Apache
# Qpid Proton), ported to Python 3 and Debian's python3-qpid-proton (0.37),
# changed only to read its settings from the environment and to print each
# message as one JSON line on stdout:
#
#   IOT_HOST (localhost), IOT_PORT (5671), IOT_ACCESS_KEY, IOT_ACCESS_SECRET,
#   IOT_CONSUMER_GROUP_ID (DEFAULT_GROUP), IOT_CLIENT_ID, IOT_INSTANCE_ID ('')
#   EXPECT=N: exit 0 once N distinct messages were received and accepted
#
# Trust the emulator's CA with SSL_CERT_FILE=amqpemu-data/tls/ca.pem: an amqps
# URL makes proton use its default client SSL domain, which verifies the
# server's certificate and host name against OpenSSL's default trust store,
# and OpenSSL reads that store from SSL_CERT_FILE. The code is unchanged.
#
# Run it with Debian's interpreter: /usr/bin/python3 consumer.py
import base64
import hashlib
import hmac
import json
import logging
import os
import sys
import time

from proton.handlers import MessagingHandler
from proton.reactor import Container

# The sample logs to the console; stdout carries the JSON lines here.
logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                    format='%(asctime)s - %(name)s - %(levelname)s - %(message)s')

# Settings; the sample has them inline as ${YourHost} and so on.
HOST = os.getenv('IOT_HOST') or 'localhost'
PORT = os.getenv('IOT_PORT') or '5671'
EXPECT = int(os.getenv('EXPECT') or 0)


def current_time_millis():
    return str(int(round(time.time() * 1000)))


def do_sign(secret, sign_content):
    m = hmac.new(secret, sign_content, digestmod=hashlib.sha1)
    # Python 3: b64encode returns bytes; proton wants the password as str.
    return base64.b64encode(m.digest()).decode('utf-8')


class AmqpClient(MessagingHandler):
    def __init__(self):
        super(AmqpClient, self).__init__()
        self.seen = set()  # not in the sample: for EXPECT

    def on_start(self, event):
        url = "amqps://" + HOST + ":" + PORT
        accessKey = os.getenv('IOT_ACCESS_KEY') or ''
        accessSecret = os.getenv('IOT_ACCESS_SECRET') or ''
        consumerGroupId = os.getenv('IOT_CONSUMER_GROUP_ID') or 'DEFAULT_GROUP'
        clientId = os.getenv('IOT_CLIENT_ID') or 'python-proton-sample'
        iotInstanceId = os.getenv('IOT_INSTANCE_ID') or ''
        signMethod = "hmacsha1"
        timestamp = current_time_millis()
        # The client id, then the auth parameters between '|'.
        userName = clientId + "|authMode=aksign" + ",signMethod=" + signMethod \
            + ",timestamp=" + timestamp + ",authId=" + accessKey \
            + ",iotInstanceId=" + iotInstanceId + ",consumerGroupId=" + consumerGroupId + "|"
        signContent = "authId=" + accessKey + "&timestamp=" + timestamp
        # Base64 HMAC-SHA1 of authId and timestamp, keyed with the secret.
        passWord = do_sign(accessSecret.encode("utf-8"), signContent.encode("utf-8"))
        conn = event.container.connect(url, user=userName, password=passWord, heartbeat=60)
        self.receiver = event.container.create_receiver(conn)

    def on_connection_opened(self, event):
        logging.info("Connection established, remoteUrl: %s", event.connection.hostname)

    def on_connection_closed(self, event):
        logging.info("Connection closed: %s", self)

    def on_connection_error(self, event):
        logging.info("Connection error")

    def on_transport_error(self, event):
        if event.transport.condition:
            if event.transport.condition.info:
                logging.error("%s: %s: %s" % (
                    event.transport.condition.name, event.transport.condition.description,
                    event.transport.condition.info))
            else:
                logging.error("%s: %s" % (event.transport.condition.name, event.transport.condition.description))
        else:
            logging.error("Unspecified transport error")

    def on_message(self, event):
        message = event.message
        # The sample decodes the body as UTF-8 text; we print its bytes.
        content = message.body
        topic = message.properties.get("topic")
        message_id = message.properties.get("messageId")
        print_message(message, content, topic, message_id)
        event.receiver.flow(1)
        self.expect_received(event, message_id)

    # Not in the sample: once EXPECT distinct messageIds were received, close
    # the connection after auto-accept has settled this last one.
    def expect_received(self, event, message_id):
        self.seen.add(message_id)
        if EXPECT and len(self.seen) == EXPECT:
            event.container.schedule(0, self)

    def on_timer_task(self, event):
        self.receiver.connection.close()


# Not in the sample: one JSON line per message.
def print_message(message, content, topic, message_id):
    if content is None:
        content = b''
    elif not isinstance(content, bytes):
        content = str(content).encode('utf-8')
    generate_time = message.properties.get("generateTime")
    sys.stdout.write(json.dumps({
        'topic': topic,
        'messageId': message_id,
        'generateTime': int(generate_time) if generate_time is not None else None,
        'payloadBase64': base64.b64encode(content).decode('ascii'),
    }) + '\n')
    sys.stdout.flush()


Container(AmqpClient()).run()
