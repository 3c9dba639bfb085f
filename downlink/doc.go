// Package downlink keeps what applications sent to devices (the OpenAPI's
// Pub) until devices connect over MQTT: a Recorder remembers the last
// messages of each device, so tests and developers can read back what their
// application sent. It imports nothing of amqpemu.
package downlink
