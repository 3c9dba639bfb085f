package encoding

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

// vector is one annotated encoding shared by the encode and decode tests.
type vector struct {
	name string
	b    []byte // the bytes on the wire
	v    any    // what ReadValue returns (a *Described's Raw is not compared: it is b)
	// canon is what AppendValue(v) writes when b is not the smallest form
	// (a wide or legacy encoding a peer may send); nil when it is b itself.
	canon []byte
}

// cat, rep and be32 build the long vectors; short ones are spelled out.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
func rep(b byte, n int) []byte   { return bytes.Repeat([]byte{b}, n) }
func be32(n int) []byte          { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

func nils(n int) List { return make(List, n) }

var long300 = strings.Repeat("x", 300)

// vectors covers every primitive encoding of §1.6 plus described types.
var vectors = []vector{
	// Null and booleans (§1.6.1, §1.6.2).
	{"null", []byte{0x40}, nil, nil},
	{"bool true", []byte{0x41}, true, nil},
	{"bool false", []byte{0x42}, false, nil},
	{"bool 0x56 one is true", []byte{0x56, 0x01}, true, []byte{0x41}},
	{"bool 0x56 zero is false", []byte{0x56, 0x00}, false, []byte{0x42}},

	// Unsigned integers (§1.6.3–1.6.6): the small forms are canonical.
	{"ubyte 0", []byte{0x50, 0x00}, uint8(0), nil},
	{"ubyte 255", []byte{0x50, 0xff}, uint8(255), nil},
	{"ushort 0x1234", []byte{0x60, 0x12, 0x34}, uint16(0x1234), nil},
	{"ushort 65535", []byte{0x60, 0xff, 0xff}, uint16(65535), nil},
	{"uint uint0", []byte{0x43}, uint32(0), nil},
	{"uint smalluint 1", []byte{0x52, 0x01}, uint32(1), nil},
	{"uint smalluint 255", []byte{0x52, 0xff}, uint32(255), nil},
	{"uint 256", []byte{0x70, 0x00, 0x00, 0x01, 0x00}, uint32(256), nil},
	{"uint max", []byte{0x70, 0xff, 0xff, 0xff, 0xff}, uint32(math.MaxUint32), nil},
	{"uint wide 0 is uint0", []byte{0x70, 0, 0, 0, 0}, uint32(0), []byte{0x43}},
	{"uint wide 7 is smalluint", []byte{0x70, 0, 0, 0, 7}, uint32(7), []byte{0x52, 0x07}},
	{"uint smalluint 0 is uint0", []byte{0x52, 0x00}, uint32(0), []byte{0x43}},
	{"ulong ulong0", []byte{0x44}, uint64(0), nil},
	{"ulong smallulong 0x24", []byte{0x53, 0x24}, uint64(0x24), nil},
	{"ulong smallulong 255", []byte{0x53, 0xff}, uint64(255), nil},
	{"ulong 256", []byte{0x80, 0, 0, 0, 0, 0, 0, 0x01, 0x00}, uint64(256), nil},
	{"ulong max", []byte{0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, uint64(math.MaxUint64), nil},
	{"ulong wide 0x10 is smallulong", []byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0x10}, uint64(0x10), []byte{0x53, 0x10}},
	{"ulong smallulong 0 is ulong0", []byte{0x53, 0x00}, uint64(0), []byte{0x44}},

	// Signed integers (§1.6.7–1.6.10), two's complement, big-endian.
	{"byte -1", []byte{0x51, 0xff}, int8(-1), nil},
	{"byte 127", []byte{0x51, 0x7f}, int8(127), nil},
	{"short -2", []byte{0x61, 0xff, 0xfe}, int16(-2), nil},
	{"short min", []byte{0x61, 0x80, 0x00}, int16(math.MinInt16), nil},
	{"int smallint -128", []byte{0x54, 0x80}, int32(-128), nil},
	{"int smallint 127", []byte{0x54, 0x7f}, int32(127), nil},
	{"int 128", []byte{0x71, 0, 0, 0, 0x80}, int32(128), nil},
	{"int -129", []byte{0x71, 0xff, 0xff, 0xff, 0x7f}, int32(-129), nil},
	{"int min", []byte{0x71, 0x80, 0, 0, 0}, int32(math.MinInt32), nil},
	{"int wide 1 is smallint", []byte{0x71, 0, 0, 0, 1}, int32(1), []byte{0x54, 0x01}},
	{"long smalllong -1", []byte{0x55, 0xff}, int64(-1), nil},
	{"long smalllong 0", []byte{0x55, 0x00}, int64(0), nil},
	{"long 128", []byte{0x81, 0, 0, 0, 0, 0, 0, 0, 0x80}, int64(128), nil},
	{"long min", []byte{0x81, 0x80, 0, 0, 0, 0, 0, 0, 0}, int64(math.MinInt64), nil},
	{"long wide -5 is smalllong", []byte{0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb}, int64(-5), []byte{0x55, 0xfb}},

	// IEEE 754 binary floats (§1.6.11, §1.6.12).
	{"float 1.5", []byte{0x72, 0x3f, 0xc0, 0x00, 0x00}, float32(1.5), nil},
	{"float -0", []byte{0x72, 0x80, 0x00, 0x00, 0x00}, float32(math.Copysign(0, -1)), nil},
	{"float +inf", []byte{0x72, 0x7f, 0x80, 0x00, 0x00}, float32(math.Inf(1)), nil},
	{"double 1.5", []byte{0x82, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, float64(1.5), nil},
	{"double quiet NaN", []byte{0x82, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0}, math.Float64frombits(0x7ff8000000000000), nil},

	// IEEE 754 decimals (§1.6.13–1.6.15), kept as raw bytes.
	{"decimal32 raw", []byte{0x74, 0x22, 0x50, 0x00, 0x01}, Decimal32{0x22, 0x50, 0x00, 0x01}, nil},
	{"decimal64 raw", []byte{0x84, 0x22, 0x38, 0, 0, 0, 0, 0, 0x07}, Decimal64{0x22, 0x38, 0, 0, 0, 0, 0, 0x07}, nil},
	{"decimal128 raw", cat([]byte{0x94, 0x22, 0x08}, rep(0, 13), []byte{0x2a}),
		Decimal128{0x22, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2a}, nil},

	// char is one UTF-32BE code point (§1.6.16).
	{"char A", []byte{0x73, 0, 0, 0, 0x41}, Char('A'), nil},
	{"char euro sign", []byte{0x73, 0, 0, 0x20, 0xac}, Char('€'), nil},

	// timestamp: ms since the Unix epoch, signed 64-bit (§1.6.17).
	{"timestamp 2023-11-14", []byte{0x83, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00}, Timestamp(1700000000000), nil},
	{"timestamp before epoch", []byte{0x83, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, Timestamp(-1), nil},

	// uuid: 16 bytes in network order (§1.6.18).
	{"uuid", cat([]byte{0x98}, []byte{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}),
		UUID{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}, nil},

	// binary, string, symbol: 1- or 4-byte length then the bytes (§1.6.19–1.6.21).
	{"binary vbin8 empty", []byte{0xa0, 0x00}, []byte{}, nil},
	{"binary vbin8 3 bytes", []byte{0xa0, 0x03, 0x01, 0x02, 0x03}, []byte{1, 2, 3}, nil},
	{"binary vbin32 300 bytes", cat([]byte{0xb0}, be32(300), rep(0xab, 300)), bytes.Repeat([]byte{0xab}, 300), nil},
	{"binary vbin32 small is vbin8", []byte{0xb0, 0, 0, 0, 1, 0x07}, []byte{7}, []byte{0xa0, 0x01, 0x07}},
	{"string str8 empty", []byte{0xa1, 0x00}, "", nil},
	{"string str8 utf-8", []byte{0xa1, 0x06, 'h', 0xc3, 0xa9, 'l', 'l', 'o'}, "héllo", nil},
	{"string str32 300 bytes", cat([]byte{0xb1}, be32(300), []byte(long300)), long300, nil},
	{"string str32 small is str8", []byte{0xb1, 0, 0, 0, 2, 'h', 'i'}, "hi", []byte{0xa1, 0x02, 'h', 'i'}},
	{"symbol sym8 PLAIN", []byte{0xa3, 0x05, 'P', 'L', 'A', 'I', 'N'}, Symbol("PLAIN"), nil},
	{"symbol sym32 300 bytes", cat([]byte{0xb3}, be32(300), []byte(long300)), Symbol(long300), nil},
	{"symbol sym32 small is sym8", []byte{0xb3, 0, 0, 0, 1, 'x'}, Symbol("x"), []byte{0xa3, 0x01, 'x'}},

	// Lists (§1.6.22): size counts the count field and the elements.
	{"list list0", []byte{0x45}, List{}, nil},
	{"list list8 true, ubyte 7", []byte{0xc0, 0x04, 0x02, 0x41, 0x50, 0x07}, List{true, uint8(7)}, nil},
	// outer: size 5 = count + the 4-byte inner list8 (c0 02 01 45) holding list0.
	{"list list8 nested", []byte{0xc0, 0x05, 0x01, 0xc0, 0x02, 0x01, 0x45}, List{List{List{}}}, nil},
	{"list list8 empty is list0", []byte{0xc0, 0x01, 0x00}, List{}, []byte{0x45}},
	{"list list32 one null is list8", []byte{0xd0, 0, 0, 0, 5, 0, 0, 0, 1, 0x40}, List{nil}, []byte{0xc0, 0x02, 0x01, 0x40}},
	{"list list32 empty is list0", []byte{0xd0, 0, 0, 0, 4, 0, 0, 0, 0}, List{}, []byte{0x45}},
	{"list list32 300 nulls", cat([]byte{0xd0}, be32(4+300), be32(300), rep(0x40, 300)), nils(300), nil},
	{"list list32 by size", cat([]byte{0xd0}, be32(4+305), be32(1), []byte{0xb1}, be32(300), []byte(long300)), List{long300}, nil},

	// Maps (§1.6.23): count is keys plus values; order and key types are kept.
	{"map map8 str and sym keys", []byte{0xc1, 0x0a, 0x04, 0xa1, 0x01, 'a', 0x54, 0x01, 0xa3, 0x01, 'b', 0x40},
		Map{{"a", int32(1)}, {Symbol("b"), nil}}, nil},
	{"map map8 empty", []byte{0xc1, 0x01, 0x00}, Map{}, nil},
	{"map map8 binary key", []byte{0xc1, 0x05, 0x02, 0xa0, 0x01, 0x07, 0x41}, Map{{[]byte{7}, true}}, nil},
	{"map map32 small is map8", []byte{0xd1, 0, 0, 0, 6, 0, 0, 0, 2, 0x43, 0x41}, Map{{uint32(0), true}}, []byte{0xc1, 0x03, 0x02, 0x43, 0x41}},
	{"map map32 128 entries", cat([]byte{0xd1}, be32(4+128*2), be32(256), rep(0x40, 256)), make(Map, 128), nil},

	// Arrays (§1.6.24): one constructor, then the elements without theirs.
	{"array array8 of sym8", []byte{0xe0, 0x12, 0x02, 0xa3, 0x05, 'P', 'L', 'A', 'I', 'N', 0x09, 'A', 'N', 'O', 'N', 'Y', 'M', 'O', 'U', 'S'},
		&Array{Code: 0xa3, Values: []any{Symbol("PLAIN"), Symbol("ANONYMOUS")}}, nil},
	{"array array32 of sym32 is array8", cat([]byte{0xf0}, be32(4+1+4+5), be32(1), []byte{0xb3}, be32(5), []byte("PLAIN")),
		&Array{Code: 0xb3, Values: []any{Symbol("PLAIN")}},
		cat([]byte{0xe0, 0x0b, 0x01, 0xb3}, be32(5), []byte("PLAIN"))},
	{"array array8 empty of sym8", []byte{0xe0, 0x02, 0x00, 0xa3}, &Array{Code: 0xa3, Values: []any{}}, nil},
	{"array array8 of uint", []byte{0xe0, 0x0a, 0x02, 0x70, 0, 0, 0, 1, 0, 0, 0, 2}, &Array{Code: 0x70, Values: []any{uint32(1), uint32(2)}}, nil},
	{"array array8 of smalluint with 0", []byte{0xe0, 0x04, 0x02, 0x52, 0x00, 0xff}, &Array{Code: 0x52, Values: []any{uint32(0), uint32(255)}}, nil},
	// Found by FuzzDecode on eb5f436: the encoder rejected 0 in a smallulong array.
	{"array array8 of smallulong with 0 (fuzz eaf6bbd480ae5476)", []byte{0xe0, 0x03, 0x01, 0x53, 0x00}, &Array{Code: 0x53, Values: []any{uint64(0)}}, nil},
	{"array array8 of ulong0", []byte{0xe0, 0x02, 0x03, 0x44}, &Array{Code: 0x44, Values: []any{uint64(0), uint64(0), uint64(0)}}, nil},
	{"array array8 of null", []byte{0xe0, 0x02, 0x02, 0x40}, &Array{Code: 0x40, Values: []any{nil, nil}}, nil},
	{"array array8 of bool 0x56", []byte{0xe0, 0x04, 0x02, 0x56, 0x01, 0x00}, &Array{Code: 0x56, Values: []any{true, false}}, nil},
	{"array array8 of list8", []byte{0xe0, 0x07, 0x02, 0xc0, 0x01, 0x00, 0x02, 0x01, 0x40}, &Array{Code: 0xc0, Values: []any{List{}, List{nil}}}, nil},
	{"array array8 of map8", []byte{0xe0, 0x06, 0x01, 0xc1, 0x03, 0x02, 0x41, 0x42}, &Array{Code: 0xc1, Values: []any{Map{{true, false}}}}, nil},
	{"array array8 of array8", []byte{0xe0, 0x06, 0x01, 0xe0, 0x03, 0x01, 0x50, 0x01},
		&Array{Code: 0xe0, Values: []any{&Array{Code: 0x50, Values: []any{uint8(1)}}}}, nil},
	{"array array8 of str32", cat([]byte{0xe0, 0x07, 0x01, 0xb1}, be32(1), []byte{'a'}), &Array{Code: 0xb1, Values: []any{"a"}}, nil},
	{"array array8 of described accepted", []byte{0xe0, 0x05, 0x02, 0x00, 0x53, 0x24, 0x45},
		&Array{Descriptor: uint64(0x24), Code: 0x45, Values: []any{
			&Described{Descriptor: uint64(0x24), Value: List{}}, &Described{Descriptor: uint64(0x24), Value: List{}}}}, nil},
	{"array array8 of described vendor strings", []byte{0xe0, 0x11, 0x02, 0x00, 0xa3, 0x08, 'v', 'e', 'n', 'd', 'o', 'r', ':', 'x', 0xa1, 0x01, 'a', 0x01, 'b'},
		&Array{Descriptor: Symbol("vendor:x"), Code: 0xa1, Values: []any{
			&Described{Descriptor: Symbol("vendor:x"), Value: "a"}, &Described{Descriptor: Symbol("vendor:x"), Value: "b"}}}, nil},
	{"array array32 300 ubytes", cat([]byte{0xf0}, be32(4+1+300), be32(300), []byte{0x50}, rep(0x09, 300)),
		&Array{Code: 0x50, Values: func() []any {
			v := make([]any, 300)
			for i := range v {
				v[i] = uint8(9)
			}
			return v
		}()}, nil},

	// Described types (§1.5): descriptor, then the value.
	{"described numeric accepted", []byte{0x00, 0x53, 0x24, 0x45}, &Described{Descriptor: uint64(0x24), Value: List{}}, nil},
	{"described wide ulong descriptor", []byte{0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x24, 0x45},
		&Described{Descriptor: uint64(0x24), Value: List{}}, []byte{0x00, 0x53, 0x24, 0x45}},
	{"described symbolic spec descriptor maps to its code",
		cat([]byte{0x00, 0xa3, 0x12}, []byte("amqp:accepted:list"), []byte{0x45}),
		&Described{Descriptor: DescAccepted, Value: List{}}, []byte{0x00, 0x53, 0x24, 0x45}},
	{"described vendor numeric descriptor", []byte{0x00, 0x80, 0x00, 0x00, 0x46, 0x8c, 0x00, 0x00, 0x00, 0x01, 0xa1, 0x01, 'x'},
		&Described{Descriptor: uint64(0x0000468c00000001), Value: "x"}, nil},
	{"described unknown symbolic kept raw",
		cat([]byte{0x00, 0xa3, 0x1d}, []byte("com.microsoft:datetime-offset"), []byte{0x81, 0x08, 0xd6, 0xd9, 0x7b, 0x9b, 0x40, 0x80, 0x00}),
		&Described{Descriptor: Symbol("com.microsoft:datetime-offset"), Value: int64(0x08d6d97b9b408000)}, nil},
	{"described in a list", []byte{0xc0, 0x06, 0x02, 0x00, 0x53, 0x26, 0x45, 0x40},
		List{&Described{Descriptor: uint64(0x26), Value: List{}}, nil}, nil},
	{"described descriptor is described", []byte{0x00, 0x00, 0x53, 0x01, 0x40, 0x41},
		&Described{Descriptor: &Described{Descriptor: uint64(1), Value: nil}, Value: true}, nil},
}

func TestEncodeVectors(t *testing.T) {
	for _, tc := range vectors {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.b
			if tc.canon != nil {
				want = tc.canon
			}
			got, err := AppendValue([]byte{0xee}, tc.v) // a prefix: appends must not touch it
			if err != nil {
				t.Fatalf("AppendValue(%#v): %v", tc.v, err)
			}
			if got[0] != 0xee || !bytes.Equal(got[1:], want) {
				t.Fatalf("AppendValue(%#v)\n got % x\nwant % x", tc.v, got[1:], want)
			}
		})
	}
}

func TestDecodeVectors(t *testing.T) {
	for _, tc := range vectors {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.b)
			got, err := r.ReadValue()
			if err != nil {
				t.Fatalf("ReadValue(% x): %v", tc.b, err)
			}
			if r.Len() != 0 {
				t.Fatalf("ReadValue left %d bytes", r.Len())
			}
			if !valueEqual(got, tc.v, false) {
				t.Fatalf("ReadValue(% x)\n got %#v\nwant %#v", tc.b, got, tc.v)
			}
			if d, ok := got.(*Described); ok && !bytes.Equal(d.Raw, tc.b) {
				t.Fatalf("Raw = % x, want the whole input", d.Raw)
			}
			// Skip must find the same end as ReadValue.
			r = NewReader(tc.b)
			raw, err := r.Skip()
			if err != nil || !bytes.Equal(raw, tc.b) {
				t.Fatalf("Skip = % x, %v; want the whole input", raw, err)
			}
			// Re-encoding is the canonical form, which decodes to the same value.
			enc, err := AppendValue(nil, got)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			want := tc.b
			if tc.canon != nil {
				want = tc.canon
			}
			if _, raw := got.(*Described); !raw && !bytes.Equal(enc, want) {
				t.Fatalf("re-encoded\n got % x\nwant % x", enc, want)
			}
			again, err := NewReader(enc).ReadValue()
			if err != nil || !valueEqual(again, got, true) {
				t.Fatalf("re-encoded value decodes to %#v, %v; want %#v", again, err, got)
			}
		})
	}
}

// TestDescribedRawResent checks that a decoded described value is written back
// byte for byte, even in a non-canonical form, so vendor values pass through.
func TestDescribedRawResent(t *testing.T) {
	in := []byte{0x00, 0xa3, 0x03, 'x', ':', 'y', 0xb1, 0, 0, 0, 1, 'z'} // str32 "z": not canonical
	v, err := NewReader(in).ReadValue()
	if err != nil {
		t.Fatal(err)
	}
	got, err := AppendValue(nil, List{v})
	if err != nil {
		t.Fatal(err)
	}
	want := cat([]byte{0xc0, byte(1 + len(in)), 0x01}, in)
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
}

// TestAppendFuncs pins the typed Append functions to their smallest encodings.
func TestAppendFuncs(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"AppendNull", AppendNull(nil), []byte{0x40}},
		{"AppendBool true", AppendBool(nil, true), []byte{0x41}},
		{"AppendUint 0 is uint0", AppendUint(nil, 0), []byte{0x43}},
		{"AppendUint 255 is smalluint", AppendUint(nil, 255), []byte{0x52, 0xff}},
		{"AppendUint 256", AppendUint(nil, 256), []byte{0x70, 0, 0, 1, 0}},
		{"AppendUlong 0 is ulong0", AppendUlong(nil, 0), []byte{0x44}},
		{"AppendInt -128 is smallint", AppendInt(nil, -128), []byte{0x54, 0x80}},
		{"AppendInt -129", AppendInt(nil, -129), []byte{0x71, 0xff, 0xff, 0xff, 0x7f}},
		{"AppendLong 127 is smalllong", AppendLong(nil, 127), []byte{0x55, 0x7f}},
		{"AppendBinary 255 bytes is vbin8", AppendBinary(nil, make([]byte, 255))[:2], []byte{0xa0, 0xff}},
		{"AppendBinary 256 bytes is vbin32", AppendBinary(nil, make([]byte, 256))[:5], []byte{0xb0, 0, 0, 1, 0}},
		{"AppendString 256 bytes is str32", AppendString(nil, strings.Repeat("a", 256))[:5], []byte{0xb1, 0, 0, 1, 0}},
		{"AppendSymbol 256 bytes is sym32", AppendSymbol(nil, Symbol(strings.Repeat("a", 256)))[:5], []byte{0xb3, 0, 0, 1, 0}},
		{"AppendDescriptor open", AppendDescriptor(nil, DescOpen), []byte{0x00, 0x53, 0x10}},
		{"AppendDescriptor vendor", AppendDescriptor(nil, 0x0000468c00000001), []byte{0x00, 0x80, 0, 0, 0x46, 0x8c, 0, 0, 0, 1}},
		// multiple symbol fields: array32 of sym32, as every client accepts.
		{"AppendSymbolArray", AppendSymbolArray(nil, []Symbol{"a", "bc"}),
			cat([]byte{0xf0}, be32(4+1+5+6), be32(2), []byte{0xb3}, be32(1), []byte("a"), be32(2), []byte("bc"))},
		{"AppendSymbolArray empty", AppendSymbolArray(nil, nil), cat([]byte{0xf0}, be32(5), be32(0), []byte{0xb3})},
		{"AppendValue int is long", must(AppendValue(nil, 300)), []byte{0x81, 0, 0, 0, 0, 0, 0, 0x01, 0x2c}},
		{"AppendValue []Symbol", must(AppendValue(nil, []Symbol{"a"})), cat([]byte{0xf0}, be32(10), be32(1), []byte{0xb3}, be32(1), []byte("a"))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !bytes.Equal(tc.got, tc.want) {
				t.Fatalf("got % x\nwant % x", tc.got, tc.want)
			}
		})
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestAppendValueErrors(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"unsupported Go type", struct{}{}},
		{"unsupported inside a list", List{1, make(chan int)}},
		{"unsupported map key", Map{{Key: []int{1}, Value: nil}}},
		{"array element of the wrong type", &Array{Code: 0x70, Values: []any{"x"}}},
		{"smalluint array element too big", &Array{Code: 0x52, Values: []any{uint32(256)}}},
		{"null array holding a value", &Array{Code: 0x40, Values: []any{true}}},
		{"array of an invalid constructor", &Array{Code: 0x46, Values: nil}},
		{"str8 array element too long", &Array{Code: 0xa1, Values: []any{long300}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := AppendValue(nil, tc.v); !errors.Is(err, ErrUnsupportedType) {
				t.Fatalf("AppendValue(%#v) = %v, want ErrUnsupportedType", tc.v, err)
			}
		})
	}
}
