package devices

import "errors"

// Sentinel errors, checked with errors.Is. Invalid product keys and device
// names are refused with errors wrapping broker.ErrInvalidName.
var (
	ErrDeviceNotFound  = errors.New("device not found")
	ErrDeviceExists    = errors.New("a device with that name exists in the product")
	ErrProductNotFound = errors.New("product not found")
)
