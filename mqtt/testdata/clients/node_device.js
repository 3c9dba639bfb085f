// A device on the IoT platform's official Node.js SDK (alibabacloud-iot-device-sdk
// 1.2.8), pointed at amqpemu: it signs in, posts a property, publishes to a custom
// topic and prints each step on its own line for the Go test to check.
//   node node_device.js mqtt://127.0.0.1:PORT PRODUCT_KEY DEVICE_NAME DEVICE_SECRET
'use strict';
const iot = require('alibabacloud-iot-device-sdk');

const [brokerUrl, productKey, deviceName, deviceSecret] = process.argv.slice(2);
const fail = (what, err) => {
  console.log('error', what, err && err.message ? err.message : String(err));
  process.exit(1);
};
setTimeout(() => fail('timeout', 'no answer within 20 s'), 20000).unref();

const device = iot.device({ productKey, deviceName, deviceSecret, brokerUrl, keepalive: 60 });
device.on('error', (err) => fail('mqtt', err));
device.on('connect', () => {
  console.log('connected');
  device.postProps({ Temperature: 21.5 }, (res) => {
    console.log('postProps', JSON.stringify(res));
    device.publish(`/${productKey}/${deviceName}/user/update`, '{"hello":"node"}', { qos: 1 }, (err) => {
      if (err) fail('publish', err);
      console.log('published');
      device.end(false, () => process.exit(0));
    });
  });
});
