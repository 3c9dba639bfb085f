package encoding

import (
	"encoding/hex"
	"fmt"
	"time"
)

// Format codes of the primitive encodings (AMQP 1.0 §1.6).
const (
	codeDescribed  = 0x00
	codeNull       = 0x40
	codeBool       = 0x56
	codeTrue       = 0x41
	codeFalse      = 0x42
	codeUbyte      = 0x50
	codeUshort     = 0x60
	codeUint       = 0x70
	codeSmallUint  = 0x52
	codeUint0      = 0x43
	codeUlong      = 0x80
	codeSmallUlong = 0x53
	codeUlong0     = 0x44
	codeByte       = 0x51
	codeShort      = 0x61
	codeInt        = 0x71
	codeSmallInt   = 0x54
	codeLong       = 0x81
	codeSmallLong  = 0x55
	codeFloat      = 0x72
	codeDouble     = 0x82
	codeDecimal32  = 0x74
	codeDecimal64  = 0x84
	codeDecimal128 = 0x94
	codeChar       = 0x73
	codeTimestamp  = 0x83
	codeUUID       = 0x98
	codeVbin8      = 0xa0
	codeVbin32     = 0xb0
	codeStr8       = 0xa1
	codeStr32      = 0xb1
	codeSym8       = 0xa3
	codeSym32      = 0xb3
	codeList0      = 0x45
	codeList8      = 0xc0
	codeList32     = 0xd0
	codeMap8       = 0xc1
	codeMap32      = 0xd1
	codeArray8     = 0xe0
	codeArray32    = 0xf0
)

// Symbol is an AMQP symbol: ASCII text that names something (§1.6.21).
type Symbol string

// UUID is an RFC 4122 UUID in network byte order.
type UUID [16]byte

func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// Timestamp is milliseconds since the Unix epoch, kept as the wire integer so
// values round-trip exactly.
type Timestamp int64

// Time converts the timestamp to a time.Time.
func (t Timestamp) Time() time.Time { return time.UnixMilli(int64(t)) }

// TimestampOf converts a time.Time to a Timestamp, truncating to milliseconds.
func TimestampOf(t time.Time) Timestamp { return Timestamp(t.UnixMilli()) }

// Char is a single UTF-32BE code point.
type Char rune

// Decimal32, Decimal64 and Decimal128 are IEEE 754 decimals kept as their raw
// big-endian bytes: nothing in a broker computes with them.
type (
	Decimal32  [4]byte
	Decimal64  [8]byte
	Decimal128 [16]byte
)

// List is an AMQP list of arbitrary values.
type List []any

// MapEntry is one key/value pair of a Map.
type MapEntry struct {
	Key   any
	Value any
}

// Map is an AMQP map. It keeps the wire order and allows keys Go maps cannot
// hold (binary, lists), so decode → encode is exact.
type Map []MapEntry

// Get returns the value for a key equal to k (compared with ==) and whether it was found.
func (m Map) Get(k any) (any, bool) {
	for _, e := range m {
		if comparable(e.Key) && e.Key == k {
			return e.Value, true
		}
	}
	return nil, false
}

func comparable(v any) bool {
	switch v.(type) {
	case []byte, List, Map, *Array, *Described:
		return false
	}
	return true
}

// Array is an AMQP array: elements share one constructor. Code is the element
// format code (after the descriptor, if any); Descriptor is nil for plain arrays.
type Array struct {
	Descriptor any
	Code       byte
	Values     []any
}

// Described is a described value whose descriptor is not one the codec knows.
// Raw holds the whole encoding (constructor included) so it can be re-sent as is.
type Described struct {
	Descriptor any
	Value      any
	Raw        []byte
}

func (d *Described) String() string { return fmt.Sprintf("described(%v: %v)", d.Descriptor, d.Value) }
