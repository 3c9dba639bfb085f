package encoding

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
)

// ErrUnsupportedType is returned by AppendValue for a Go value with no AMQP mapping.
var ErrUnsupportedType = errors.New("amqp: unsupported type")

// The Append functions write one value in its smallest encoding and return the
// extended slice; they never allocate beyond growing b.

func AppendNull(b []byte) []byte { return append(b, codeNull) }

func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, codeTrue)
	}
	return append(b, codeFalse)
}

func AppendUbyte(b []byte, v uint8) []byte { return append(b, codeUbyte, v) }

func AppendUshort(b []byte, v uint16) []byte {
	return binary.BigEndian.AppendUint16(append(b, codeUshort), v)
}

func AppendUint(b []byte, v uint32) []byte {
	switch {
	case v == 0:
		return append(b, codeUint0)
	case v < 256:
		return append(b, codeSmallUint, byte(v))
	}
	return binary.BigEndian.AppendUint32(append(b, codeUint), v)
}

func AppendUlong(b []byte, v uint64) []byte {
	switch {
	case v == 0:
		return append(b, codeUlong0)
	case v < 256:
		return append(b, codeSmallUlong, byte(v))
	}
	return binary.BigEndian.AppendUint64(append(b, codeUlong), v)
}

func AppendByte(b []byte, v int8) []byte { return append(b, codeByte, byte(v)) }

func AppendShort(b []byte, v int16) []byte {
	return binary.BigEndian.AppendUint16(append(b, codeShort), uint16(v))
}

func AppendInt(b []byte, v int32) []byte {
	if v >= -128 && v <= 127 {
		return append(b, codeSmallInt, byte(int8(v)))
	}
	return binary.BigEndian.AppendUint32(append(b, codeInt), uint32(v))
}

func AppendLong(b []byte, v int64) []byte {
	if v >= -128 && v <= 127 {
		return append(b, codeSmallLong, byte(int8(v)))
	}
	return binary.BigEndian.AppendUint64(append(b, codeLong), uint64(v))
}

func AppendFloat(b []byte, v float32) []byte {
	return binary.BigEndian.AppendUint32(append(b, codeFloat), math.Float32bits(v))
}

func AppendDouble(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, codeDouble), math.Float64bits(v))
}

func AppendChar(b []byte, v Char) []byte {
	return binary.BigEndian.AppendUint32(append(b, codeChar), uint32(v))
}

func AppendTimestamp(b []byte, v Timestamp) []byte {
	return binary.BigEndian.AppendUint64(append(b, codeTimestamp), uint64(v))
}

func AppendUUID(b []byte, v UUID) []byte { return append(append(b, codeUUID), v[:]...) }

func AppendBinary(b []byte, v []byte) []byte {
	if len(v) < 256 {
		b = append(b, codeVbin8, byte(len(v)))
	} else {
		b = binary.BigEndian.AppendUint32(append(b, codeVbin32), uint32(len(v)))
	}
	return append(b, v...)
}

func AppendString(b []byte, v string) []byte {
	if len(v) < 256 {
		b = append(b, codeStr8, byte(len(v)))
	} else {
		b = binary.BigEndian.AppendUint32(append(b, codeStr32), uint32(len(v)))
	}
	return append(b, v...)
}

func AppendSymbol(b []byte, v Symbol) []byte {
	if len(v) < 256 {
		b = append(b, codeSym8, byte(len(v)))
	} else {
		b = binary.BigEndian.AppendUint32(append(b, codeSym32), uint32(len(v)))
	}
	return append(b, v...)
}

// AppendDescriptor writes the described-type constructor with a numeric descriptor.
func AppendDescriptor(b []byte, code uint64) []byte {
	return AppendUlong(append(b, codeDescribed), code)
}

// AppendSymbolArray writes syms as an array of symbols, the form the spec uses
// for multiple symbol fields (offered-capabilities, sasl-server-mechanisms).
func AppendSymbolArray(b []byte, syms []Symbol) []byte {
	start := len(b)
	b = append(b, codeArray32, 0, 0, 0, 0, 0, 0, 0, 0, codeSym32)
	for _, s := range syms {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	binary.BigEndian.PutUint32(b[start+1:], uint32(len(b)-start-5))
	binary.BigEndian.PutUint32(b[start+5:], uint32(len(syms)))
	return b
}

// BeginMap starts a map whose keys and values the caller appends one by one
// (no boxing into a Map); EndMap completes it with the number of keys and
// values written.
func BeginMap(b []byte) ([]byte, int) { return appendCompoundHeader(b, codeMap32) }

// EndMap completes a map started with BeginMap; count is keys plus values.
func EndMap(b []byte, start, count int) []byte { return patchCompound(b, start, count) }

// appendCompoundHeader starts a list32/map32; patchCompound completes it once
// its elements are written.
func appendCompoundHeader(b []byte, code byte) ([]byte, int) {
	start := len(b)
	return append(b, code, 0, 0, 0, 0, 0, 0, 0, 0), start
}

// patchCompound fills in size and count of a list32/map32/array32 started at
// start and shrinks it to the 8-bit form when it fits (or list0 when empty).
func patchCompound(b []byte, start, count int) []byte {
	body := len(b) - start - 9
	code := b[start]
	if count == 0 && code == codeList32 {
		b[start] = codeList0
		return b[:start+1]
	}
	if body+1 <= 255 && count <= 255 {
		b[start] = code - 0x10 // list32→list8, map32→map8, array32→array8
		b[start+1] = byte(body + 1)
		b[start+2] = byte(count)
		copy(b[start+3:], b[start+9:])
		return b[:len(b)-6]
	}
	binary.BigEndian.PutUint32(b[start+1:], uint32(body+4))
	binary.BigEndian.PutUint32(b[start+5:], uint32(count))
	return b
}

// AppendValue writes any value the decoder can produce, plus Go's plain
// numeric and string types. It fails only for values with no AMQP mapping.
func AppendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return AppendNull(b), nil
	case bool:
		return AppendBool(b, v), nil
	case uint8:
		return AppendUbyte(b, v), nil
	case uint16:
		return AppendUshort(b, v), nil
	case uint32:
		return AppendUint(b, v), nil
	case uint64:
		return AppendUlong(b, v), nil
	case int8:
		return AppendByte(b, v), nil
	case int16:
		return AppendShort(b, v), nil
	case int32:
		return AppendInt(b, v), nil
	case int64:
		return AppendLong(b, v), nil
	case int:
		return AppendLong(b, int64(v)), nil
	case float32:
		return AppendFloat(b, v), nil
	case float64:
		return AppendDouble(b, v), nil
	case Decimal32:
		return append(append(b, codeDecimal32), v[:]...), nil
	case Decimal64:
		return append(append(b, codeDecimal64), v[:]...), nil
	case Decimal128:
		return append(append(b, codeDecimal128), v[:]...), nil
	case Char:
		return AppendChar(b, v), nil
	case Timestamp:
		return AppendTimestamp(b, v), nil
	case UUID:
		return AppendUUID(b, v), nil
	case []byte:
		return AppendBinary(b, v), nil
	case string:
		return AppendString(b, v), nil
	case Symbol:
		return AppendSymbol(b, v), nil
	case []Symbol:
		return AppendSymbolArray(b, v), nil
	case List:
		return appendList(b, v)
	case Map:
		return appendMap(b, v)
	case *Array:
		return appendArray(b, v)
	case *Described:
		return appendDescribed(b, v)
	}
	return b, fmt.Errorf("%w: %s", ErrUnsupportedType, typeName(v))
}

// typeName names v's type for an error without passing v to fmt, which
// would make every value given to AppendValue escape: boxing a Map or List
// for AppendValue would then allocate on every call.
func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return reflect.TypeOf(v).String()
}

func appendList(b []byte, l List) ([]byte, error) { return appendListAs(b, l, codeList32, true) }

func appendMap(b []byte, m Map) ([]byte, error) { return appendMapAs(b, m, codeMap32, true) }

// appendHeader writes the format code of a list, map or array and room for
// its size and count (8- or 32-bit, by the code).
func appendHeader(b []byte, code byte) []byte {
	if code&0x10 == 0 {
		return append(b, code, 0, 0)
	}
	return append(b, code, 0, 0, 0, 0, 0, 0, 0, 0)
}

// appendListAs writes l with format code list8 or list32; with shrink, a
// list32 becomes list8 or list0 when it fits.
func appendListAs(b []byte, l List, code byte, shrink bool) ([]byte, error) {
	start := len(b)
	b = appendHeader(b, code)
	var err error
	for _, e := range l {
		if b, err = AppendValue(b, e); err != nil {
			return b, err
		}
	}
	return patchSized(b, start, len(l), shrink)
}

func appendMapAs(b []byte, m Map, code byte, shrink bool) ([]byte, error) {
	start := len(b)
	b = appendHeader(b, code)
	var err error
	for _, e := range m {
		if b, err = AppendValue(b, e.Key); err != nil {
			return b, err
		}
		if b, err = AppendValue(b, e.Value); err != nil {
			return b, err
		}
	}
	return patchSized(b, start, 2*len(m), shrink)
}

func appendDescribed(b []byte, d *Described) ([]byte, error) {
	if len(d.Raw) > 0 {
		return append(b, d.Raw...), nil
	}
	b = append(b, codeDescribed)
	b, err := AppendValue(b, d.Descriptor)
	if err != nil {
		return b, err
	}
	return AppendValue(b, d.Value)
}

// appendArray writes a.Values with the single element constructor a.Code (and
// a.Descriptor), as an array8 when it fits and an array32 otherwise.
func appendArray(b []byte, a *Array) ([]byte, error) {
	return appendArrayAs(b, a, codeArray32, true)
}

// appendArrayAs writes a with format code array8 or array32; with shrink, an
// array32 becomes array8 when it fits.
func appendArrayAs(b []byte, a *Array, code byte, shrink bool) ([]byte, error) {
	start := len(b)
	b = appendHeader(b, code)
	if a.Descriptor != nil {
		b = append(b, codeDescribed)
		var err error
		if b, err = AppendValue(b, a.Descriptor); err != nil {
			return b, err
		}
	}
	if a.Code == codeDescribed || !validCodes[a.Code] {
		return b, fmt.Errorf("%w: array of format code 0x%02x", ErrUnsupportedType, a.Code)
	}
	b = append(b, a.Code)
	for _, v := range a.Values {
		if d, ok := v.(*Described); ok && a.Descriptor != nil {
			v = d.Value // the descriptor is written once, before the element constructor
		}
		var err error
		if b, err = appendElement(b, a.Code, v); err != nil {
			return b, err
		}
	}
	return patchSized(b, start, len(a.Values), shrink)
}

// patchSized fills in size and count of the list, map or array whose header
// (8- or 32-bit, by its format code) starts at start. With shrink, a 32-bit
// header is rewritten in 8 bits when size and count fit.
func patchSized(b []byte, start, count int, shrink bool) ([]byte, error) {
	if b[start]&0x10 == 0 { // list8, map8, array8
		size := len(b) - start - 2
		if size > 255 || count > 255 {
			return b, fmt.Errorf("%w: %d bytes, %d elements in an 8-bit compound", ErrUnsupportedType, size, count)
		}
		b[start+1], b[start+2] = byte(size), byte(count)
		return b, nil
	}
	if shrink {
		return patchCompound(b, start, count), nil
	}
	binary.BigEndian.PutUint32(b[start+1:], uint32(len(b)-start-5))
	binary.BigEndian.PutUint32(b[start+5:], uint32(count))
	return b, nil
}

// appendElement writes v without its constructor, in the form the array's
// element constructor code implies.
func appendElement(b []byte, code byte, v any) ([]byte, error) {
	ok := false
	switch code >> 4 {
	case 0x4: // zero-width: nothing to write, but v must be the value the code means
		ok = zeroWidthHolds(code, v)
	case 0xa, 0xb:
		return appendVariable(b, code, v)
	case 0xc, 0xd, 0xe, 0xf:
		return appendCompoundElement(b, code, v)
	default:
		b, ok = appendFixed(b, code, v)
	}
	if !ok {
		return b, fmt.Errorf("%w: %s in an array of 0x%02x", ErrUnsupportedType, typeName(v), code)
	}
	return b, nil
}

// zeroWidthHolds reports whether v is the one value a zero-width code encodes.
func zeroWidthHolds(code byte, v any) bool {
	switch code {
	case codeNull:
		return v == nil
	case codeTrue:
		return v == true
	case codeFalse:
		return v == false
	case codeUint0:
		return v == uint32(0)
	case codeUlong0:
		return v == uint64(0)
	case codeList0:
		l, ok := v.(List)
		return ok && len(l) == 0
	}
	return false
}

// appendFixed writes a fixed-width element, reporting false when v is not of
// the code's type or does not fit its small form.
func appendFixed(b []byte, code byte, v any) ([]byte, bool) {
	be := binary.BigEndian
	switch x := v.(type) {
	case bool:
		if code == codeBool {
			if x {
				return append(b, 1), true
			}
			return append(b, 0), true
		}
	case uint8:
		if code == codeUbyte {
			return append(b, x), true
		}
	case uint16:
		if code == codeUshort {
			return be.AppendUint16(b, x), true
		}
	case uint32:
		switch {
		case code == codeUint:
			return be.AppendUint32(b, x), true
		case code == codeSmallUint && x < 256:
			return append(b, byte(x)), true
		}
	case uint64:
		switch {
		case code == codeUlong:
			return be.AppendUint64(b, x), true
		case code == codeSmallUlong && x < 256:
			return append(b, byte(x)), true
		}
	case int8:
		if code == codeByte {
			return append(b, byte(x)), true
		}
	case int16:
		if code == codeShort {
			return be.AppendUint16(b, uint16(x)), true
		}
	case int32:
		switch {
		case code == codeInt:
			return be.AppendUint32(b, uint32(x)), true
		case code == codeSmallInt && x >= -128 && x <= 127:
			return append(b, byte(int8(x))), true
		}
	case int64:
		switch {
		case code == codeLong:
			return be.AppendUint64(b, uint64(x)), true
		case code == codeSmallLong && x >= -128 && x <= 127:
			return append(b, byte(int8(x))), true
		}
	case float32:
		if code == codeFloat {
			return be.AppendUint32(b, math.Float32bits(x)), true
		}
	case float64:
		if code == codeDouble {
			return be.AppendUint64(b, math.Float64bits(x)), true
		}
	case Decimal32:
		if code == codeDecimal32 {
			return append(b, x[:]...), true
		}
	case Decimal64:
		if code == codeDecimal64 {
			return append(b, x[:]...), true
		}
	case Decimal128:
		if code == codeDecimal128 {
			return append(b, x[:]...), true
		}
	case Char:
		if code == codeChar {
			return be.AppendUint32(b, uint32(x)), true
		}
	case Timestamp:
		if code == codeTimestamp {
			return be.AppendUint64(b, uint64(x)), true
		}
	case UUID:
		if code == codeUUID {
			return append(b, x[:]...), true
		}
	}
	return b, false
}

// appendCompoundElement writes a list, map or array element in the width
// code gives, without the format code the array's constructor already gave.
func appendCompoundElement(b []byte, code byte, v any) ([]byte, error) {
	start := len(b)
	var err error
	switch x := v.(type) {
	case List:
		if code != codeList8 && code != codeList32 {
			break
		}
		b, err = appendListAs(b, x, code, false)
		return dropCode(b, start, err)
	case Map:
		if code != codeMap8 && code != codeMap32 {
			break
		}
		b, err = appendMapAs(b, x, code, false)
		return dropCode(b, start, err)
	case *Array:
		if code != codeArray8 && code != codeArray32 {
			break
		}
		b, err = appendArrayAs(b, x, code, false)
		return dropCode(b, start, err)
	}
	return b, fmt.Errorf("%w: %s in an array of 0x%02x", ErrUnsupportedType, typeName(v), code)
}

// dropCode removes the format code written at start: array elements share
// the array's constructor and do not repeat it.
func dropCode(b []byte, start int, err error) ([]byte, error) {
	if err != nil {
		return b, err
	}
	copy(b[start:], b[start+1:])
	return b[:len(b)-1], nil
}

// appendVariable writes a binary, string or symbol array element: its length
// in the width code implies, then its bytes. The three kinds share a layout,
// so any of them may fill any variable-width array.
func appendVariable(b []byte, code byte, v any) ([]byte, error) {
	var n int
	switch x := v.(type) {
	case []byte:
		n = len(x)
	case string:
		n = len(x)
	case Symbol:
		n = len(x)
	default:
		return b, fmt.Errorf("%w: %s in an array of 0x%02x", ErrUnsupportedType, typeName(v), code)
	}
	if code&0x10 == 0 {
		if n > 255 {
			return b, fmt.Errorf("%w: %d bytes in an array of 0x%02x", ErrUnsupportedType, n, code)
		}
		b = append(b, byte(n))
	} else {
		b = binary.BigEndian.AppendUint32(b, uint32(n))
	}
	switch x := v.(type) {
	case []byte:
		return append(b, x...), nil
	case string:
		return append(b, x...), nil
	}
	return append(b, v.(Symbol)...), nil
}
