package mqtt

import (
	"errors"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Why a CONNECT is refused, wrapped with the detail that goes to the log.
var (
	ErrNoRegistry     = errors.New("no device registry")
	ErrRegistry       = errors.New("device registry unavailable")
	ErrBadCredentials = errors.New("bad user name or password")
	ErrUnknownDevice  = errors.New("unknown device")
	ErrDisabled       = errors.New("device disabled")
	ErrKeepAlive      = errors.New("keep-alive must be 30 to 1200 s")
	ErrWill           = errors.New("will messages are not supported")
)

// Why a device is disconnected for a PUBLISH.
var (
	ErrQoS2           = errors.New("QoS 2 is not supported")
	ErrRetain         = errors.New("retained messages are not supported")
	ErrTopicForbidden = errors.New("topic is not the device's own")
)

// connackCodes maps each refusal to its CONNACK code, MQTT 3.1.1 and 5.
// The one place refusals become codes.
var connackCodes = []struct {
	err    error
	v3, v5 packets.Code
}{
	{ErrNoRegistry, packets.Err3ServerUnavailable, packets.ErrServerUnavailable},
	{ErrRegistry, packets.Err3ServerUnavailable, packets.ErrServerUnavailable},
	{ErrBadCredentials, packets.ErrMalformedUsernameOrPassword, packets.ErrBadUsernameOrPassword}, // 4
	{ErrUnknownDevice, packets.ErrMalformedUsernameOrPassword, packets.ErrBadUsernameOrPassword},  // 4
	{ErrDisabled, packets.Err3NotAuthorized, packets.ErrNotAuthorized},                            // 5
	{ErrKeepAlive, packets.Err3NotAuthorized, packets.ErrNotAuthorized},
	{ErrWill, packets.Err3NotAuthorized, packets.ErrNotAuthorized},
}

// connackCode is the CONNACK code refusing err (5, not authorized, for
// anything unmapped).
func connackCode(err error, v5 bool) packets.Code {
	for _, c := range connackCodes {
		if errors.Is(err, c.err) {
			if v5 {
				return c.v5
			}
			return c.v3
		}
	}
	if v5 {
		return packets.ErrNotAuthorized
	}
	return packets.Err3NotAuthorized
}

// disconnectCodes maps each PUBLISH refusal to the DISCONNECT reason (MQTT
// 5; MQTT 3.1.1 has none, the connection just closes).
var disconnectCodes = []struct {
	err  error
	code packets.Code
}{
	{ErrQoS2, packets.ErrQosNotSupported},
	{ErrRetain, packets.ErrRetainNotSupported},
	{ErrTopicForbidden, packets.ErrNotAuthorized},
}

func disconnectCode(err error) packets.Code {
	for _, c := range disconnectCodes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return packets.ErrUnspecifiedError
}
