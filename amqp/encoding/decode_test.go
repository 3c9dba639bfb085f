package encoding

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
)

// valueEqual compares decoded values: floats by their bits (so a NaN equals
// itself), byte slices by content, and a *Described's Raw only when raw is set
// (a value built by hand has none).
func valueEqual(a, b any, raw bool) bool {
	switch x := a.(type) {
	case float32:
		y, ok := b.(float32)
		return ok && math.Float32bits(x) == math.Float32bits(y)
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case List:
		y, ok := b.(List)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valueEqual(x[i], y[i], raw) {
				return false
			}
		}
		return true
	case Map:
		y, ok := b.(Map)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valueEqual(x[i].Key, y[i].Key, raw) || !valueEqual(x[i].Value, y[i].Value, raw) {
				return false
			}
		}
		return true
	case *Array:
		y, ok := b.(*Array)
		if !ok || x.Code != y.Code || len(x.Values) != len(y.Values) || !valueEqual(x.Descriptor, y.Descriptor, raw) {
			return false
		}
		for i := range x.Values {
			if !valueEqual(x.Values[i], y.Values[i], raw) {
				return false
			}
		}
		return true
	case *Described:
		y, ok := b.(*Described)
		return ok && valueEqual(x.Descriptor, y.Descriptor, raw) && valueEqual(x.Value, y.Value, raw) &&
			(!raw || bytes.Equal(x.Raw, y.Raw))
	}
	return a == b // every remaining type the decoder returns is comparable
}

// nestedLists is n list32s, each holding the next; the innermost holds list0.
func nestedLists(n int) []byte {
	b := []byte{0x45}
	for range n {
		b = cat([]byte{0xd0}, be32(4+len(b)), be32(1), b)
	}
	return b
}

// nestedDescribed is n described values, each the value of the one before.
func nestedDescribed(n int) []byte {
	return cat(bytes.Repeat([]byte{0x00, 0x53, 0x01}, n), []byte{0x40})
}

var decodeErrors = []struct {
	name string
	b    []byte
	want error // besides ErrDecode, which every error wraps
}{
	{"empty input", nil, errShort},
	{"ubyte truncated", []byte{0x50}, errShort},
	{"ushort truncated", []byte{0x60, 0x01}, errShort},
	{"uint truncated", []byte{0x70, 0, 0, 1}, errShort},
	{"ulong truncated", []byte{0x80, 0, 0, 0, 0, 0, 0, 1}, errShort},
	{"uuid truncated", cat([]byte{0x98}, rep(0, 15)), errShort},
	{"decimal128 truncated", cat([]byte{0x94}, rep(0, 8)), errShort},
	{"vbin8 shorter than its length", []byte{0xa0, 0x05, 'a'}, errShort},
	{"str32 length truncated", []byte{0xb1, 0, 0}, errShort},
	{"sym32 shorter than its length", []byte{0xb3, 0, 0, 0, 9, 'x'}, errBadLength},
	{"vbin32 claiming 4 GiB", []byte{0xb0, 0xff, 0xff, 0xff, 0xff, 0x00}, errBadLength},
	{"list8 without size", []byte{0xc0}, errShort},
	{"list8 size beyond input", []byte{0xc0, 0x05, 0x01, 0x40}, errBadLength},
	{"list8 size 0 has no room for count", []byte{0xc0, 0x00, 0x00}, errBadLength},
	{"list8 count beyond its size", []byte{0xc0, 0x02, 0x02, 0x40}, errBadLength},
	{"list8 element truncated inside size", []byte{0xc0, 0x02, 0x01, 0x50}, errShort},
	{"list8 bytes after its last element", []byte{0xc0, 0x03, 0x01, 0x40, 0x40}, ErrDecode},
	{"list32 header truncated", []byte{0xd0, 0, 0, 0}, errShort},
	{"list32 size below its count field", []byte{0xd0, 0, 0, 0, 3, 0, 0, 0, 0}, errBadLength},
	{"list32 claiming 4 GiB", []byte{0xd0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0x40}, errBadLength},
	{"list32 count 2^31", []byte{0xd0, 0, 0, 0, 5, 0x80, 0, 0, 0, 0x40}, errBadLength},
	{"map32 count 2^31", []byte{0xd1, 0, 0, 0, 6, 0x80, 0, 0, 0, 0x40, 0x40}, errBadLength},
	{"map8 odd count", []byte{0xc1, 0x02, 0x01, 0x40}, ErrDecode},
	{"map32 odd count", []byte{0xd1, 0, 0, 0, 7, 0, 0, 0, 3, 0x40, 0x40, 0x40}, ErrDecode},
	{"map8 value missing", []byte{0xc1, 0x02, 0x02, 0x40}, errBadLength},
	{"array8 without constructor", []byte{0xe0, 0x01, 0x00}, errShort},
	{"array8 of invalid constructor", []byte{0xe0, 0x02, 0x00, 0x46}, ErrDecode},
	{"array8 of described twice", []byte{0xe0, 0x05, 0x01, 0x00, 0x53, 0x01, 0x00}, ErrDecode},
	{"array8 element truncated", []byte{0xe0, 0x03, 0x01, 0x70, 0x00}, errShort},
	{"array32 count 2^31 of uint", []byte{0xf0, 0, 0, 0, 6, 0x80, 0, 0, 0, 0x70, 0x00}, errBadLength},
	{"array32 count 2^31 of null", []byte{0xf0, 0, 0, 0, 5, 0x80, 0, 0, 0, 0x40}, errBadLength},
	{"array32 of 65536 nulls in 10 bytes", []byte{0xf0, 0, 0, 0, 5, 0, 1, 0, 0, 0x40}, errBadLength},
	// list8 of size 1+20 holding two array32s of nulls: 2048, then 2049 more.
	{"zero-width elements over the cap across arrays", cat([]byte{0xc0, 0x15, 0x02},
		[]byte{0xf0, 0, 0, 0, 5, 0, 0, 0x08, 0x00, 0x40},
		[]byte{0xf0, 0, 0, 0, 5, 0, 0, 0x08, 0x01, 0x40}), errBadLength},
	{"described without value", []byte{0x00, 0x53, 0x24}, errShort},
	{"described without descriptor", []byte{0x00}, errShort},
	{"lists nested 65 deep", nestedLists(65), errTooDeep},
	{"described nested 65 deep", nestedDescribed(65), errTooDeep},
	{"100000 described constructors", rep(0x00, 100000), errTooDeep},
	{"invalid code 0x01", []byte{0x01}, ErrDecode},
	{"invalid code 0x46 (fixed-0 class)", []byte{0x46}, ErrDecode},
	{"invalid code 0x57 (fixed-1 class)", []byte{0x57, 0x00}, ErrDecode},
	{"invalid code 0x62 (fixed-2 class)", []byte{0x62, 0, 0}, ErrDecode},
	{"invalid code 0x75 (fixed-4 class)", []byte{0x75, 0, 0, 0, 0}, ErrDecode},
	{"invalid code 0x85 (fixed-8 class)", cat([]byte{0x85}, rep(0, 8)), ErrDecode},
	{"invalid code 0x99 (fixed-16 class)", cat([]byte{0x99}, rep(0, 16)), ErrDecode},
	{"invalid code 0xa2 (variable-1 class)", []byte{0xa2, 0x00}, ErrDecode},
	{"invalid code 0xb2 (variable-4 class)", []byte{0xb2, 0, 0, 0, 0}, ErrDecode},
	{"invalid code 0xc2 (compound-1 class)", []byte{0xc2, 0x01, 0x00}, ErrDecode},
	{"invalid code 0xe1 (array-1 class)", []byte{0xe1, 0x02, 0x00, 0x40}, ErrDecode},
	{"invalid code 0xff", []byte{0xff}, ErrDecode},
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range decodeErrors {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewReader(tc.b).ReadValue()
			if err == nil {
				t.Fatalf("ReadValue(% .20x) = %#v, want an error", tc.b, v)
			}
			if !errors.Is(err, ErrDecode) || !errors.Is(err, tc.want) {
				t.Fatalf("ReadValue(% .20x) = %v, want %v", tc.b, err, tc.want)
			}
		})
	}
}

// TestSkipErrors checks that Skip, which frames use to step over fields and
// message sections, is as strict as ReadValue about codes, lengths and depth.
func TestSkipErrors(t *testing.T) {
	for _, tc := range decodeErrors {
		switch {
		case strings.HasPrefix(tc.name, "list"), strings.HasPrefix(tc.name, "map"),
			strings.HasPrefix(tc.name, "array"), strings.HasPrefix(tc.name, "zero-width"):
			continue // Skip does not look inside compound values
		}
		t.Run(tc.name, func(t *testing.T) {
			if raw, err := NewReader(tc.b).Skip(); !errors.Is(err, ErrDecode) || !errors.Is(err, tc.want) {
				t.Fatalf("Skip(% .20x) = % .20x, %v; want %v", tc.b, raw, err, tc.want)
			}
		})
	}
}

func TestDecodeDepthLimit(t *testing.T) {
	for _, b := range [][]byte{nestedLists(64), nestedDescribed(64)} {
		if _, err := NewReader(b).ReadValue(); err != nil {
			t.Fatalf("64 levels: %v", err)
		}
		if _, err := NewReader(b).Skip(); err != nil {
			t.Fatalf("Skip of 64 levels: %v", err)
		}
	}
}

func TestZeroWidthArraysWithinCap(t *testing.T) {
	// array32 of 4096 nulls: the cap exactly.
	b := []byte{0xf0, 0, 0, 0, 5, 0, 0, 0x10, 0x00, 0x40}
	v, err := NewReader(b).ReadValue()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(v.(*Array).Values); n != maxZeroWidth {
		t.Fatalf("%d values, want %d", n, maxZeroWidth)
	}
}

// TestHostileLengthsDoNotAllocate checks that lengths and counts a tiny input
// cannot back are refused before anything is allocated for them.
func TestHostileLengthsDoNotAllocate(t *testing.T) {
	for _, tc := range decodeErrors {
		if !strings.Contains(tc.name, "4 GiB") && !strings.Contains(tc.name, "2^31") && !strings.Contains(tc.name, "65536") {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			var r Reader
			perRun := bytesAllocated(t, func() {
				r.Reset(tc.b)
				if _, err := r.ReadValue(); err == nil {
					t.Fatal("no error")
				}
			})
			// The hostile sizes would cost MiB to GiB; a few hundred bytes of
			// noise (the race detector's bookkeeping) is not what this catches.
			if perRun > 4096 {
				t.Fatalf("decoding % x allocated %d bytes", tc.b, perRun)
			}
		})
	}
}

// bytesAllocated returns the heap bytes f allocates per call, averaged over runs.
func bytesAllocated(t *testing.T, f func()) uint64 {
	t.Helper()
	const runs = 20
	f() // warm up
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / runs
}

func TestReadDescriptor(t *testing.T) {
	tests := []struct {
		name  string
		b     []byte
		code  uint64
		other any
		known bool
		err   bool
	}{
		{"smallulong", []byte{0x00, 0x53, 0x10, 0x45}, DescOpen, nil, true, false},
		{"ulong", []byte{0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x70, 0x45}, DescHeader, nil, true, false},
		{"vendor ulong is a code", []byte{0x00, 0x80, 0, 0, 0x46, 0x8c, 0, 0, 0, 1}, 0x0000468c00000001, nil, true, false},
		{"spec symbol", cat([]byte{0x00, 0xa3, 0x0f}, []byte("amqp:close:list")), DescClose, nil, true, false},
		{"unknown symbol", []byte{0x00, 0xa3, 0x03, 'x', ':', 'y'}, 0, Symbol("x:y"), false, false},
		{"uint is not a descriptor", []byte{0x00, 0x52, 0x10}, 0, uint32(0x10), false, false},
		{"not described", []byte{0x45}, 0, nil, false, true},
		{"truncated", []byte{0x00}, 0, nil, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, other, known, err := NewReader(tc.b).ReadDescriptor()
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %t", err, tc.err)
			}
			if code != tc.code || other != tc.other || known != tc.known {
				t.Fatalf("got (%#x, %#v, %t), want (%#x, %#v, %t)", code, other, known, tc.code, tc.other, tc.known)
			}
		})
	}
}

// fieldList builds a list8 holding the given encoded fields.
func fieldList(fields ...[]byte) []byte {
	body := cat(fields...)
	return cat([]byte{0xc0, byte(1 + len(body)), byte(len(fields))}, body)
}

func TestFieldReader(t *testing.T) {
	type result struct {
		v  any
		ok bool
	}
	read := map[string]func(f *FieldReader) result{
		"Bool":      func(f *FieldReader) result { var v bool; ok := f.Bool(&v); return result{v, ok} },
		"Ubyte":     func(f *FieldReader) result { var v uint8; ok := f.Ubyte(&v); return result{v, ok} },
		"Ushort":    func(f *FieldReader) result { var v uint16; ok := f.Ushort(&v); return result{v, ok} },
		"Uint":      func(f *FieldReader) result { var v uint32; ok := f.Uint(&v); return result{v, ok} },
		"Ulong":     func(f *FieldReader) result { var v uint64; ok := f.Ulong(&v); return result{v, ok} },
		"Timestamp": func(f *FieldReader) result { var v Timestamp; ok := f.Timestamp(&v); return result{v, ok} },
		"Binary":    func(f *FieldReader) result { var v []byte; ok := f.Binary(&v); return result{string(v), ok} },
		"String":    func(f *FieldReader) result { var v string; ok := f.String(&v); return result{v, ok} },
		"Symbol":    func(f *FieldReader) result { var v Symbol; ok := f.Symbol(&v); return result{v, ok} },
		"Symbols": func(f *FieldReader) result {
			var v []Symbol
			ok := f.Symbols(&v)
			return result{strings.Join(symStrings(v), ","), ok}
		},
		"Map": func(f *FieldReader) result {
			var v Map
			ok := f.Map(&v)
			return result{len(v), ok}
		},
		"Value":    func(f *FieldReader) result { v := f.Value(); return result{v, v != nil} },
		"RawField": func(f *FieldReader) result { v := f.RawField(); return result{string(v), v != nil} },
	}
	tests := []struct {
		name   string
		list   []byte
		reader string
		want   any
		ok     bool
		err    bool
	}{
		{"Bool true", fieldList([]byte{0x41}), "Bool", true, true, false},
		{"Bool false", fieldList([]byte{0x42}), "Bool", false, true, false},
		{"Bool 0x56 01", fieldList([]byte{0x56, 0x01}), "Bool", true, true, false},
		{"Bool from a uint is a type error", fieldList([]byte{0x43}), "Bool", false, false, true},
		{"Ubyte", fieldList([]byte{0x50, 0x02}), "Ubyte", uint8(2), true, false},
		{"Ubyte from smalluint is a type error", fieldList([]byte{0x52, 0x02}), "Ubyte", uint8(0), false, true},
		{"Ushort", fieldList([]byte{0x60, 0x7f, 0xff}), "Ushort", uint16(32767), true, false},
		{"Ushort from ubyte", fieldList([]byte{0x50, 0x07}), "Ushort", uint16(7), true, false},
		{"Ushort from uint is a type error", fieldList([]byte{0x70, 0, 0, 0, 1}), "Ushort", uint16(0), false, true},
		{"Uint uint0", fieldList([]byte{0x43}), "Uint", uint32(0), true, false},
		{"Uint smalluint", fieldList([]byte{0x52, 0x05}), "Uint", uint32(5), true, false},
		{"Uint uint", fieldList([]byte{0x70, 0xff, 0xff, 0xff, 0xfe}), "Uint", uint32(4294967294), true, false},
		{"Uint from ubyte", fieldList([]byte{0x50, 0x09}), "Uint", uint32(9), true, false},
		{"Uint from ushort", fieldList([]byte{0x60, 0x01, 0x00}), "Uint", uint32(256), true, false},
		{"Uint from ulong is a type error", fieldList([]byte{0x53, 0x01}), "Uint", uint32(0), false, true},
		{"Uint from string is a type error", fieldList([]byte{0xa1, 0x01, 'x'}), "Uint", uint32(0), false, true},
		{"Uint body truncated", []byte{0xc0, 0x03, 0x01, 0x70, 0x00}, "Uint", uint32(0), false, true},
		{"Ulong ulong0", fieldList([]byte{0x44}), "Ulong", uint64(0), true, false},
		{"Ulong smallulong", fieldList([]byte{0x53, 0x24}), "Ulong", uint64(0x24), true, false},
		{"Ulong ulong", fieldList([]byte{0x80, 0, 0, 0, 1, 0, 0, 0, 0}), "Ulong", uint64(1 << 32), true, false},
		{"Ulong from uint", fieldList([]byte{0x70, 0, 0, 1, 0}), "Ulong", uint64(256), true, false},
		{"Ulong from long is a type error", fieldList([]byte{0x55, 0x01}), "Ulong", uint64(0), false, true},
		{"Timestamp", fieldList([]byte{0x83, 0, 0, 0, 0, 0, 0, 0, 0x2a}), "Timestamp", Timestamp(42), true, false},
		{"Timestamp from ulong is a type error", fieldList([]byte{0x44}), "Timestamp", Timestamp(0), false, true},
		{"Binary vbin8", fieldList([]byte{0xa0, 0x02, 'h', 'i'}), "Binary", "hi", true, false},
		{"Binary vbin32", fieldList([]byte{0xb0, 0, 0, 0, 1, 'x'}), "Binary", "x", true, false},
		{"Binary empty is present", fieldList([]byte{0xa0, 0x00}), "Binary", "", true, false},
		{"Binary from string is a type error", fieldList([]byte{0xa1, 0x00}), "Binary", "", false, true},
		{"String str8", fieldList([]byte{0xa1, 0x02, 'h', 'i'}), "String", "hi", true, false},
		{"String str32", fieldList([]byte{0xb1, 0, 0, 0, 1, 'x'}), "String", "x", true, false},
		{"String from symbol is a type error", fieldList([]byte{0xa3, 0x01, 'x'}), "String", "", false, true},
		{"Symbol sym8", fieldList([]byte{0xa3, 0x01, 'x'}), "Symbol", Symbol("x"), true, false},
		{"Symbol sym32", fieldList([]byte{0xb3, 0, 0, 0, 1, 'y'}), "Symbol", Symbol("y"), true, false},
		{"Symbols single symbol", fieldList([]byte{0xa3, 0x01, 'x'}), "Symbols", "x", true, false},
		{"Symbols array", fieldList([]byte{0xe0, 0x06, 0x02, 0xa3, 0x01, 'a', 0x01, 'b'}), "Symbols", "a,b", true, false},
		{"Symbols empty array", fieldList([]byte{0xe0, 0x02, 0x00, 0xa3}), "Symbols", "", true, false},
		{"Symbols array of strings is an error", fieldList([]byte{0xe0, 0x04, 0x01, 0xa1, 0x01, 'a'}), "Symbols", "", false, true},
		{"Symbols string is an error", fieldList([]byte{0xa1, 0x01, 'a'}), "Symbols", "", false, true},
		{"Map map8", fieldList([]byte{0xc1, 0x03, 0x02, 0x41, 0x42}), "Map", 1, true, false},
		{"Map empty", fieldList([]byte{0xc1, 0x01, 0x00}), "Map", 0, true, false},
		{"Map list is an error", fieldList([]byte{0x45}), "Map", 0, false, true},
		{"Value", fieldList([]byte{0x52, 0x07}), "Value", uint32(7), true, false},
		{"Value truncated", []byte{0xc0, 0x02, 0x01, 0x60}, "Value", nil, false, true},
		{"RawField", fieldList([]byte{0x00, 0x53, 0x24, 0x45}), "RawField", "\x00\x53\x24\x45", true, false},
		{"RawField null", fieldList([]byte{0x40}), "RawField", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewReader(tc.list).ReadList()
			if err != nil {
				t.Fatal(err)
			}
			got := read[tc.reader](&f)
			if (f.Err() != nil) != tc.err {
				t.Fatalf("Err() = %v, want error %t", f.Err(), tc.err)
			}
			if tc.err {
				if !errors.Is(f.Err(), ErrDecode) || !strings.Contains(f.Err().Error(), "field 0") {
					t.Fatalf("Err() = %v, want a decode error naming field 0", f.Err())
				}
				return
			}
			if got.ok != tc.ok || (tc.ok && !valueEqual(got.v, tc.want, false)) {
				t.Fatalf("%s = %#v, %t; want %#v, %t", tc.reader, got.v, got.ok, tc.want, tc.ok)
			}
			if f.Index() != 1 || f.Left() != 0 {
				t.Fatalf("Index, Left = %d, %d; want 1, 0", f.Index(), f.Left())
			}
		})
	}
}

func symStrings(s []Symbol) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = string(v)
	}
	return out
}

// TestFieldReaderAbsentAndNull checks that null fields and fields past the end
// of the list (peers omit trailing nulls, §1.4) read as absent without error.
func TestFieldReaderAbsentAndNull(t *testing.T) {
	for _, list := range [][]byte{{0x45}, {0xc0, 0x01, 0x00}, fieldList([]byte{0x40}, []byte{0x40})} {
		f, err := NewReader(list).ReadList()
		if err != nil {
			t.Fatal(err)
		}
		var (
			b  bool
			u  uint32
			s  string
			ss []Symbol
			m  Map
		)
		if f.Bool(&b) || f.Uint(&u) || f.String(&s) || f.Symbols(&ss) || f.Map(&m) ||
			f.Value() != nil || f.RawField() != nil {
			t.Fatalf("% x: an absent field read as present", list)
		}
		f.Skip()
		if f.Err() != nil || f.Index() != 8 {
			t.Fatalf("% x: Err = %v, Index = %d; want nil, 8", list, f.Err(), f.Index())
		}
	}
}

func TestFieldReaderErrorIsSticky(t *testing.T) {
	f, err := NewReader(fieldList([]byte{0xa1, 0x01, 'x'}, []byte{0x52, 0x01})).ReadList()
	if err != nil {
		t.Fatal(err)
	}
	var u uint32
	if f.Uint(&u) {
		t.Fatal("string read as uint")
	}
	first := f.Err()
	if f.Uint(&u) || f.Err() != first {
		t.Fatalf("after an error: read a field, or Err changed to %v", f.Err())
	}
}

func TestReadListErrors(t *testing.T) {
	for _, b := range [][]byte{{}, {0x40}, {0xc1, 0x01, 0x00}, {0xc0, 0x05, 0x01}, {0xd0, 0, 0, 0, 5, 0x80, 0, 0, 0, 0x40}} {
		if _, err := NewReader(b).ReadList(); !errors.Is(err, ErrDecode) {
			t.Errorf("ReadList(% x) = %v, want a decode error", b, err)
		}
	}
}

func TestListWriter(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *ListWriter)
		want  []byte
	}{
		{"no fields is list0", func(w *ListWriter) {}, []byte{0x00, 0x53, 0x10, 0x45}},
		{"only nulls is list0", func(w *ListWriter) {
			w.Null()
			w.OptString("")
			w.OptUint(nil)
			w.OptBool(nil)
			w.OptSymbol("")
			w.OptBinary(nil)
			w.Symbols(nil)
			_ = w.Map(nil)
			_ = w.Value(nil)
			w.Raw(nil)
		}, []byte{0x00, 0x53, 0x10, 0x45}},
		{"trailing nulls dropped, inner kept", func(w *ListWriter) {
			w.String("c")
			w.Null()
			w.Uint(5)
			w.Null()
			w.Null()
		}, []byte{0x00, 0x53, 0x10, 0xc0, 0x07, 0x03, 0xa1, 0x01, 'c', 0x40, 0x52, 0x05}},
		{"present zero values are kept", func(w *ListWriter) {
			w.Uint(0)
			w.Bool(false)
			w.Binary(nil)
		}, []byte{0x00, 0x53, 0x10, 0xc0, 0x05, 0x03, 0x43, 0x42, 0xa0, 0x00}},
		{"long fields make a list32", func(w *ListWriter) {
			w.String(long300)
		}, cat([]byte{0x00, 0x53, 0x10, 0xd0}, be32(4+305), be32(1), []byte{0xb1}, be32(300), []byte(long300))},
		{"Appended after a nested composite", func(w *ListWriter) {
			w.Null()
			w.B = append(w.B, 0x00, 0x53, 0x24, 0x45)
			w.Appended()
		}, []byte{0x00, 0x53, 0x10, 0xc0, 0x06, 0x02, 0x40, 0x00, 0x53, 0x24, 0x45}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := BeginList(nil, DescOpen)
			tc.write(&w)
			if got := w.End(); !bytes.Equal(got, tc.want) {
				t.Fatalf("got % x\nwant % x", got, tc.want)
			}
		})
	}
}

func TestMapGet(t *testing.T) {
	m := Map{{[]byte("k"), 1}, {Symbol("x-opt-a"), 2}, {"k", 3}, {List{}, 4}}
	if v, ok := m.Get(Symbol("x-opt-a")); !ok || v != 2 {
		t.Fatalf("Get(symbol) = %v, %t", v, ok)
	}
	if v, ok := m.Get("k"); !ok || v != 3 {
		t.Fatalf("Get(string) = %v, %t; the binary key must not match", v, ok)
	}
	if _, ok := m.Get([]byte("k")); ok {
		t.Fatal("Get of an uncomparable key found something")
	}
}

func TestUUIDString(t *testing.T) {
	u := UUID{0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00}
	if got := u.String(); got != "123e4567-e89b-12d3-a456-426614174000" {
		t.Fatal(got)
	}
}
