// A consumer written as node's stomp-client (npm, STOMP 1.0) is used,
// driven by clients_test.go: it subscribes to /topic/# with ack:client
// (stomp-client sends no id header, as 1.0 allows), prints each message it
// receives as a JSON line (the body Base64-encoded), acknowledges it by
// message-id, and exits 0 once it has received COUNT messages; 1 on an
// ERROR frame, a lost connection or after 60 s.
//
// Environment: HOST, PORT, LOGIN, PASSCODE, COUNT.
'use strict';

const Stomp = require('stomp-client');

const env = process.env;
const want = parseInt(env.COUNT, 10);
let received = 0;

const fail = (why) => {
  process.stderr.write('node_consumer: ' + why + '\n');
  process.exit(1);
};
setTimeout(() => fail('timed out after 60 s with ' + received + ' of ' + want + ' messages'), 60000).unref();

const client = new Stomp({host: env.HOST, port: parseInt(env.PORT, 10), user: env.LOGIN, pass: env.PASSCODE});
client.on('error', (err) => fail('error: ' + err.message + (err.details ? ' (' + err.details + ')' : '')));
client.on('message', (body, headers) => {
  process.stdout.write(JSON.stringify({
    destination: headers.destination,
    messageId: headers.messageId,
    messageIdHeader: headers['message-id'],
    generateTime: headers.generateTime,
    topic: headers.topic,
    body: Buffer.from(body, 'utf8').toString('base64'),
  }) + '\n');
  client.ack(headers['message-id'], headers.subscription);
  if (++received === want) {
    client.disconnect(() => process.exit(0));
  }
});
client.connect(() => {
  // Messages arrive on the 'message' event: their destination is the device
  // topic, not the /topic/# subscribed to.
  client.subscribe('/topic/#', {ack: 'client'}, () => {});
});
