// placeholder: replaced by the devices package at merge
package devices

import (
	"errors"
	"time"
)

// Device is a registered device.
type Device struct {
	ProductKey, DeviceName, DeviceSecret, IotID string
	Enabled                                     bool
	CreatedAt                                   time.Time
}

// ErrDeviceNotFound is answered for a device that is not registered.
var ErrDeviceNotFound = errors.New("device not found")
