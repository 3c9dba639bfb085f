// Package mqtt is the device side of the emulated IoT platform: an MQTT
// 3.1.1/5 listener (over mochi-mqtt) that signs devices in as the platform
// does (devicesign), keeps each to its own topics, forwards what they
// publish to the consumer groups (custom topics byte for byte, Alink
// property posts and events converted), reports them online and offline,
// and carries cloud-to-device messages (Send, the OpenAPI's Pub).
//
// Refused as on the platform: a keep-alive outside 30–1200 s, a will,
// QoS 2 and retained publishes, a second connection of the same device
// (the first is kicked).
package mqtt
