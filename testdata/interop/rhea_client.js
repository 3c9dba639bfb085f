#!/usr/bin/env node
// AMQP 1.0 interop client built on rhea. Same CLI and message format as
// proton_client.py; see README.md.
'use strict';
const rhea = require('rhea');

const TOPIC = '/pk/dn/user/test';
const WINDOW = 50; // receiver credit window

let opts = {mode: '?'};
function fail(msg) {
  process.stderr.write(`rhea_client: FAIL (${opts.mode}): ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = {count: 100, size: 256, timeout: 30, 'max-frame-size': 0};
  for (let k = 0; k < argv.length; k++) {
    let [key, val] = argv[k].split(/=(.*)/s);
    if (!key.startsWith('--')) fail(`unexpected argument ${argv[k]}`);
    if (val === undefined) val = argv[++k];
    if (val === undefined) fail(`missing value for ${key}`);
    o[key.slice(2)] = val;
  }
  for (const k of ['count', 'size', 'timeout', 'max-frame-size']) {
    o[k] = Number(o[k]);
    if (!(o[k] >= 0)) fail(`bad --${k}`);
  }
  if (!o.url || !o.address) fail('--url and --address are required');
  if (!['send', 'receive', 'roundtrip'].includes(o.mode)) fail('--mode must be send|receive|roundtrip');
  return o;
}

// Deterministic body for message i: byte j = (31*i + j) & 0xff, first 8 bytes = i (big-endian).
function body(i, size) {
  const pat = Buffer.alloc(256);
  for (let j = 0; j < 256; j++) pat[j] = (31 * i + j) & 0xff;
  const b = Buffer.alloc(size, pat);
  const hdr = Buffer.alloc(8);
  hdr.writeBigUInt64BE(BigInt(i));
  hdr.copy(b, 0, 0, Math.min(8, size));
  return b;
}

opts = parseArgs(process.argv.slice(2));
const url = new URL(opts.url);
if (url.protocol !== 'amqp:') fail(`unsupported URL scheme ${url.protocol}`);

const container = rhea.create_container();
// rhea only does SASL when a username (or sasl_mechanisms) is given; otherwise it
// sends the bare AMQP header. Select the mechanism explicitly so both cases use SASL
// (and so user with an empty password still means PLAIN).
const mechs = container.sasl.client_mechanisms();
if (url.username) mechs.enable_plain(decodeURIComponent(url.username), decodeURIComponent(url.password));
else mechs.enable_anonymous();

const sending = opts.mode !== 'receive', receiving = opts.mode !== 'send';
let sent = 0, accepted = 0, received = 0, creditIssued = 0, closing = false;
const seen = new Set();

const timer = setTimeout(() => fail(
  `timeout after ${opts.timeout}s (sent=${sent} accepted=${accepted} received=${received})`),
  opts.timeout * 1000);

const conn = container.connect({
  host: url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost', // strip IPv6 brackets
  port: Number(url.port) || 5672,
  sasl_mechanisms: mechs,
  reconnect: false,
  // Optional: cap frames the server may send us (library default is unlimited).
  ...(opts['max-frame-size'] ? {max_frame_size: opts['max-frame-size']} : {}),
});
let receiver;
if (receiving) { // attach receiver first so roundtrip messages have a consumer
  // credit_window 0 disables rhea's automatic credit (default window 1000); we top up
  // manually so we never take more than --count messages off the queue.
  receiver = conn.open_receiver({source: opts.address, credit_window: 0, autoaccept: false});
  creditIssued = Math.min(WINDOW, opts.count);
  receiver.add_credit(creditIssued);
}
if (sending) conn.open_sender({target: opts.address});

function checkDone() {
  if (closing) return;
  if ((!sending || accepted === opts.count) && (!receiving || received === opts.count)) {
    closing = true;
    conn.close();
  }
}
container.on('connection_open', checkDone); // --count 0

container.on('sendable', (ctx) => {
  const s = ctx.sender;
  while (s.sendable() && sent < opts.count) {
    const i = sent++;
    s.send({
      message_id: `msg-${i}`,
      // rhea would encode a bare JS number as uint (or int for 0); force long.
      application_properties: {seq: rhea.types.wrap_long(i), topic: TOPIC},
      body: rhea.message.data_section(body(i, opts.size)),
    });
  }
});
container.on('accepted', () => { accepted++; checkDone(); });
container.on('rejected', (ctx) =>
  fail(`message rejected by server: ${JSON.stringify(ctx.delivery.remote_state)}`));
container.on('released', () => fail('message released by server'));
container.on('modified', () => fail('message modified by server'));

container.on('message', (ctx) => {
  const m = ctx.message;
  const props = m.application_properties || {};
  const seq = props.seq;
  if (!Number.isInteger(seq) || seq < 0 || seq >= opts.count) {
    fail(`bad seq property ${seq} (props=${JSON.stringify(props)})`);
  }
  if (seen.has(seq)) fail(`duplicate message seq=${seq}`);
  if (props.topic !== TOPIC) fail(`seq=${seq}: bad topic property ${props.topic}`);
  if (m.message_id !== `msg-${seq}`) fail(`seq=${seq}: bad message-id ${m.message_id}`);
  // A single Data section decodes to a Section with typecode 0x75 and Buffer content.
  const b = m.body;
  if (!b || b.typecode !== 0x75 || b.multiple || !Buffer.isBuffer(b.content)) {
    fail(`seq=${seq}: body is not a single Data section`);
  }
  const exp = body(seq, opts.size);
  if (!exp.equals(b.content)) {
    let k = 0;
    while (k < exp.length && k < b.content.length && exp[k] === b.content[k]) k++;
    fail(`seq=${seq}: corrupt body (len ${b.content.length}, want ${exp.length}, first bad byte at ${k})`);
  }
  seen.add(seq);
  received++;
  ctx.delivery.accept();
  if (creditIssued < opts.count) { receiver.add_credit(1); creditIssued++; }
  checkDone();
});

container.on('connection_close', () => {
  if (!closing) fail('connection closed by server before completion');
  clearTimeout(timer);
  console.log(JSON.stringify({ok: true, sent: accepted, received}));
  process.exit(0);
});

// Errors: anything ending the connection/links before we close it is a failure.
const fmt = (e) => (e ? `${e.condition || ''} ${e.description || e.message || JSON.stringify(e)}`.trim()
  : 'no error info');
container.on('connection_error', (ctx) =>
  fail(`connection error: ${fmt(ctx.error || ctx.connection.error)}`));
container.on('session_error', (ctx) => fail(`session closed by server: ${fmt(ctx.session.error)}`));
container.on('sender_error', (ctx) => fail(`sender closed by server: ${fmt(ctx.sender.error)}`));
container.on('receiver_error', (ctx) => fail(`receiver closed by server: ${fmt(ctx.receiver.error)}`));
container.on('protocol_error', (ctx) => fail(`protocol error: ${fmt(ctx.error)}`));
container.on('error', (e) => fail(`error: ${fmt(e)}`));
for (const ev of ['session_close', 'sender_close', 'receiver_close']) {
  container.on(ev, () => { if (!closing) fail(`${ev} by server before completion`); });
}
container.on('disconnected', (ctx) => fail(`disconnected before completion: ${fmt(ctx.error)}`));
