package mqtt

import (
	"fmt"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

// TestEverySentinelMapped: each refusal has its code, wrapped or not.
func TestEverySentinelMapped(t *testing.T) {
	for _, tc := range []struct {
		err    error
		v3, v5 byte
	}{
		{ErrNoRegistry, 3, 0x88},
		{ErrRegistry, 3, 0x88},
		{ErrBadCredentials, 4, 0x86},
		{ErrUnknownDevice, 4, 0x86},
		{ErrDisabled, 5, 0x87},
		{ErrKeepAlive, 5, 0x87},
		{ErrWill, 5, 0x87},
	} {
		wrapped := fmt.Errorf("detail: %w", tc.err)
		if c := connackCode(wrapped, false); c.Code != tc.v3 {
			t.Errorf("%v: v3 %#x, want %#x", tc.err, c.Code, tc.v3)
		}
		if c := connackCode(wrapped, true); c.Code != tc.v5 {
			t.Errorf("%v: v5 %#x, want %#x", tc.err, c.Code, tc.v5)
		}
	}
	if len(connackCodes) != 7 {
		t.Errorf("%d CONNACK mappings, %d tested", len(connackCodes), 7)
	}
	for _, tc := range []struct {
		err  error
		code packets.Code
	}{{ErrQoS2, packets.ErrQosNotSupported}, {ErrRetain, packets.ErrRetainNotSupported}, {ErrTopicForbidden, packets.ErrNotAuthorized}} {
		if c := disconnectCode(fmt.Errorf("x: %w", tc.err)); c != tc.code {
			t.Errorf("%v: %v", tc.err, c)
		}
	}
	if len(disconnectCodes) != 3 {
		t.Errorf("%d DISCONNECT mappings, 3 tested", len(disconnectCodes))
	}
}
