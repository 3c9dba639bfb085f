// Package devices is the device registry: products and their devices, each
// with the secret a device signs in with (the platform's "device triple"
// ProductKey, DeviceName, DeviceSecret) and an iotId.
//
// The registry lives in a broker.StateBucket, so it is kept in --data (or
// the external cluster) with the groups and survives restarts. Creating,
// deleting, enabling and disabling a device publishes the platform's
// lifecycle message (/{pk}/{dn}/thing/lifecycle, kind lifecycle) through a
// Publisher, so consumer groups subscribed to lifecycle messages see it as
// they would on the platform.
//
// Product keys and device names follow the broker's rules
// (broker.ValidateProductKey, broker.ValidateDeviceName): anything the
// registry accepts can publish.
package devices
