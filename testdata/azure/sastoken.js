// Prints the shared access signature @azure/core-amqp (the token provider
// both @azure/service-bus and @azure/event-hubs use) makes for an audience:
//   node sastoken.js KEY_NAME KEY AUDIENCE
// Output: {"ok":true,"token":"SharedAccessSignature sr=…&sig=…&se=…&skn=…"}
"use strict";

const { createSasTokenProvider } = require("@azure/core-amqp");

const [keyName, key, audience] = process.argv.slice(2);
Promise.resolve(createSasTokenProvider({ name: keyName, key }).getToken(audience)).then(
  (t) => console.log(JSON.stringify({ ok: true, token: t.token, expiresOnTimestamp: t.expiresOnTimestamp })),
  (err) => {
    console.log(JSON.stringify({ ok: false, error: String(err) }));
    process.exit(1);
  },
);
