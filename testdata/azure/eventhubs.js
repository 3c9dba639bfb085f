// @azure/event-hubs against the emulator, run by amqp/brokerbackend tests.
//
//   node eventhubs.js --connection-string CS --hub NAME --consumer-group G --mode MODE [--count N]
//
// Modes:
//   properties  print the hub's partition ids ($management READ)
//   consume     subscribe from the earliest event and collect N events
//   badkey      expect getPartitionIds to fail with UnauthorizedError
//
// Prints one JSON line: {"ok":true,...} on success, {"ok":false,"error":...}
// (exit 1) otherwise.
"use strict";

const { EventHubConsumerClient, earliestEventPosition } = require("@azure/event-hubs");

function args() {
  const a = { count: 1, consumerGroup: "$Default" };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, "");
    a[k.replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = argv[i + 1];
  }
  a.count = parseInt(a.count, 10);
  return a;
}

function consume(client, count) {
  return new Promise((resolve, reject) => {
    const got = [];
    let sub;
    const done = (err) => {
      sub.close().then(() => (err ? reject(err) : resolve(got)), reject);
    };
    sub = client.subscribe(
      {
        processEvents: async (events, ctx) => {
          for (const ev of events) {
            const body = Buffer.isBuffer(ev.body) ? ev.body.toString() : typeof ev.body === "string" ? ev.body : JSON.stringify(ev.body);
            got.push({ body, partitionId: ctx.partitionId, sequenceNumber: ev.sequenceNumber, offset: ev.offset, messageId: ev.messageId, props: ev.properties });
          }
          if (got.length >= count) done();
        },
        processError: async (err) => done(err),
      },
      { startPosition: earliestEventPosition, maxBatchSize: count, maxWaitTimeInSeconds: 5 },
    );
  });
}

async function main() {
  const a = args();
  const client = new EventHubConsumerClient(a.consumerGroup, a.connectionString, a.hub, { retryOptions: { maxRetries: 0, timeoutInMs: 20000 } });
  try {
    switch (a.mode) {
      case "properties": {
        const props = await client.getEventHubProperties();
        return { name: props.name, partitionIds: props.partitionIds, partition: await client.getPartitionProperties(props.partitionIds[0]) };
      }
      case "consume":
        return { received: await consume(client, a.count) };
      case "badkey":
        try {
          await client.getPartitionIds();
        } catch (err) {
          if (err.code === "UnauthorizedError" || err.code === "UnauthorizedAccess") {
            return { refused: err.code, message: err.message };
          }
          throw new Error(`getPartitionIds with a bad key failed with ${err.code}: ${err.message}`);
        }
        throw new Error("getPartitionIds with a bad key succeeded");
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
