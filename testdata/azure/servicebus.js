// @azure/service-bus against the emulator, run by amqp/brokerbackend tests.
//
//   node servicebus.js --connection-string CS --entity NAME --mode MODE [--count N]
//
// Modes:
//   send     send N messages "msg <i>" (application property n = i) to the entity:
//            the first alone, the others in one batch
//   receive  receive N messages in peek-lock mode and complete each
//   roundtrip  send then receive
//   badkey   expect the first send to fail with UnauthorizedAccess
//
// Prints one JSON line: {"ok":true,...} on success, {"ok":false,"error":...}
// (exit 1) otherwise.
"use strict";

const { ServiceBusClient } = require("@azure/service-bus");

function args() {
  const a = { count: 1 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, "");
    a[k.replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = argv[i + 1];
  }
  a.count = parseInt(a.count, 10);
  return a;
}

// send sends the first message alone and the rest as one array, which the
// SDK sends as a batch (message-format 0x80013700).
async function send(client, entity, count) {
  const sender = client.createSender(entity);
  const msg = (i) => ({ body: `msg ${i}`, applicationProperties: { n: i } });
  try {
    await sender.sendMessages(msg(0));
    const rest = [];
    for (let i = 1; i < count; i++) rest.push(msg(i));
    if (rest.length) await sender.sendMessages(rest);
  } finally {
    await sender.close();
  }
}

async function receive(client, entity, count) {
  const receiver = client.createReceiver(entity, { receiveMode: "peekLock" });
  const got = [];
  try {
    for (let round = 0; got.length < count && round < 100; round++) {
      const msgs = await receiver.receiveMessages(count - got.length, { maxWaitTimeInMs: 5000 });
      for (const m of msgs) {
        await receiver.completeMessage(m);
        const body = Buffer.isBuffer(m.body) ? m.body.toString() : m.body;
        got.push({ body, messageId: m.messageId, props: m.applicationProperties });
      }
    }
  } finally {
    await receiver.close();
  }
  if (got.length !== count) {
    throw new Error(`received ${got.length} messages, want ${count}`);
  }
  return got;
}

async function main() {
  const a = args();
  const client = new ServiceBusClient(a.connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 20000 } });
  try {
    switch (a.mode) {
      case "send":
        await send(client, a.entity, a.count);
        return { sent: a.count };
      case "receive":
        return { received: await receive(client, a.entity, a.count) };
      case "roundtrip":
        await send(client, a.entity, a.count);
        return { received: await receive(client, a.entity, a.count) };
      case "badkey":
        try {
          await send(client, a.entity, 1);
        } catch (err) {
          if (err.code === "UnauthorizedAccess" || err.code === "UnauthorizedError") {
            return { refused: err.code, message: err.message };
          }
          throw new Error(`send with a bad key failed with ${err.code}: ${err.message}`);
        }
        throw new Error("send with a bad key succeeded");
      default:
        throw new Error(`unknown --mode ${a.mode}`);
    }
  } finally {
    await client.close();
  }
}

main().then(
  (res) => {
    console.log(JSON.stringify({ ok: true, ...res }));
    process.exit(0);
  },
  (err) => {
    console.log(JSON.stringify({ ok: false, error: String(err && err.stack ? err.stack : err), code: err && err.code }));
    process.exit(1);
  },
);
