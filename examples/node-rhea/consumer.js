// Follows the IoT platform's Node.js SDK sample for AMQP consumers (rhea),
// changed only to read its settings from the environment and to print each
// message as one JSON line on stdout:
//
//   IOT_HOST (localhost), IOT_PORT (5671), IOT_ACCESS_KEY, IOT_ACCESS_SECRET,
//   IOT_CONSUMER_GROUP_ID (DEFAULT_GROUP), IOT_CLIENT_ID, IOT_INSTANCE_ID ('')
//   EXPECT=N: exit 0 once N distinct messages were received and accepted
//
// Trust the emulator's CA with NODE_EXTRA_CA_CERTS=amqpemu-data/tls/ca.pem.
// Like the sample it signs a fixed timestamp, 1573489088171, on every
// (re)connect.
const container = require('rhea');
const crypto = require('crypto');

// Settings; the sample has them inline as ${YourHost} and so on.
const host = process.env.IOT_HOST || 'localhost';
const port = Number(process.env.IOT_PORT || 5671);
const accessKey = process.env.IOT_ACCESS_KEY || '';
const accessSecret = process.env.IOT_ACCESS_SECRET || '';
const consumerGroupId = process.env.IOT_CONSUMER_GROUP_ID || 'DEFAULT_GROUP';
const clientId = process.env.IOT_CLIENT_ID || 'node-rhea-sample';
const iotInstanceId = process.env.IOT_INSTANCE_ID || '';

var connection = container.connect({
    'host': host,
    'port': port,
    'transport': 'tls',
    'reconnect': true,
    'idle_time_out': 60000,
    // The client id, then the auth parameters between '|'.
    'username': clientId + '|authMode=aksign,signMethod=hmacsha1,timestamp=1573489088171,authId=' + accessKey +
        ',iotInstanceId=' + iotInstanceId + ',consumerGroupId=' + consumerGroupId + '|',
    // Base64 HMAC-SHA1 of authId and the same timestamp, keyed with the secret.
    'password': hmacSha1(accessSecret, 'authId=' + accessKey + '&timestamp=1573489088171'),
});

var receiver = connection.open_receiver();

container.on('message', function (context) {
    var msg = context.message;
    var messageId = msg.message_id;
    var topic = msg.application_properties.topic;
    var content = Buffer.from(msg.body.content);

    // The sample prints content.toString(); we print a JSON line.
    printMessage(msg, content);

    // Settle the delivery so the server counts the message as consumed.
    context.delivery.accept();
    expectAccepted(context, msg);
});

function hmacSha1(key, context) {
    return Buffer.from(crypto.createHmac('sha1', key).update(context).digest())
        .toString('base64');
}

// Below: not in the sample. The JSON output line and EXPECT.

function printMessage(msg, content) {
    var props = msg.application_properties || {};
    process.stdout.write(JSON.stringify({
        topic: props.topic,
        messageId: props.messageId,
        generateTime: typeof props.generateTime === 'bigint' ? Number(props.generateTime) : props.generateTime,
        payloadBase64: content.toString('base64'),
    }) + '\n');
}

const expected = Number(process.env.EXPECT || 0);
const seen = new Set();

// Once EXPECT distinct messageIds were accepted, close the connection (which
// sends the dispositions first) and exit when the server's close comes back.
function expectAccepted(context, msg) {
    seen.add(String((msg.application_properties || {}).messageId));
    if (expected > 0 && seen.size === expected) {
        container.on('connection_close', exitWhenFlushed);
        setTimeout(exitWhenFlushed, 5000).unref();
        context.connection.close();
    }
}

// A large line to a pipe is written asynchronously: process.exit() at once
// would cut it, so exit from the callback of a write queued behind it.
function exitWhenFlushed() {
    process.stdout.write('', function () { process.exit(0); });
}
