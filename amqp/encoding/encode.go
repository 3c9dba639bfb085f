package encoding

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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

// AppendMapHeader starts a map32; call PatchMap with the returned offset once
// its count*2 items are written.
func appendCompoundHeader(b []byte, code byte) ([]byte, int) {
	start := len(b)
	return append(b, code, 0, 0, 0, 0, 0, 0, 0, 0), start
}

// patchCompound fills in size and count of a list32/map32 started at start and
// shrinks it to the 8-bit form when it fits (or list0 when empty).
func patchCompound(b []byte, start, count int) []byte {
	body := len(b) - start - 9
	code := b[start]
	if count == 0 && code == codeList32 {
		b[start] = codeList0
		return b[:start+1]
	}
	if body+1 <= 255 && count <= 255 {
		b[start] = code - 0x10 // list32→list8, map32→map8
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
	return b, fmt.Errorf("%w: %T", ErrUnsupportedType, v)
}

func appendList(b []byte, l List) ([]byte, error) {
	b, start := appendCompoundHeader(b, codeList32)
	var err error
	for _, e := range l {
		if b, err = AppendValue(b, e); err != nil {
			return b, err
		}
	}
	return patchCompound(b, start, len(l)), nil
}

func appendMap(b []byte, m Map) ([]byte, error) {
	b, start := appendCompoundHeader(b, codeMap32)
	var err error
	for _, e := range m {
		if b, err = AppendValue(b, e.Key); err != nil {
			return b, err
		}
		if b, err = AppendValue(b, e.Value); err != nil {
			return b, err
		}
	}
	return patchCompound(b, start, 2*len(m)), nil
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

// appendArray writes an array32 with the element constructor a.Code (and
// a.Descriptor); each element is encoded with that fixed constructor.
func appendArray(b []byte, a *Array) ([]byte, error) {
	start := len(b)
	b = append(b, codeArray32, 0, 0, 0, 0, 0, 0, 0, 0)
	if a.Descriptor != nil {
		b = append(b, codeDescribed)
		var err error
		if b, err = AppendValue(b, a.Descriptor); err != nil {
			return b, err
		}
	}
	b = append(b, a.Code)
	for _, v := range a.Values {
		if d, ok := v.(*Described); ok && a.Descriptor != nil {
			v = d.Value // the descriptor is written once, before the element constructor
		}
		var err error
		if b, err = appendArrayElement(b, a.Code, v); err != nil {
			return b, err
		}
	}
	binary.BigEndian.PutUint32(b[start+1:], uint32(len(b)-start-5))
	binary.BigEndian.PutUint32(b[start+5:], uint32(len(a.Values)))
	return b, nil
}

// appendArrayElement writes v without its constructor, in the width code implies.
func appendArrayElement(b []byte, code byte, v any) ([]byte, error) {
	enc, err := AppendValue(nil, v)
	if err != nil {
		return b, err
	}
	widened, err := widen(enc, code)
	if err != nil {
		return b, err
	}
	return append(b, widened...), nil
}

// widen converts a single encoded value to the element encoding code, dropping
// the constructor. Compact encodings (uint0, smalluint, str8, list8...) are
// widened to the array's fixed-width form.
func widen(enc []byte, code byte) ([]byte, error) {
	r := NewReader(enc)
	v, err := r.ReadValue()
	if err != nil {
		return nil, err
	}
	var out []byte
	switch code {
	case codeNull, codeTrue, codeFalse, codeUint0, codeUlong0, codeList0:
		return nil, nil
	case codeBool:
		if v == true {
			return []byte{1}, nil
		}
		return []byte{0}, nil
	case codeUint:
		n, ok := v.(uint32)
		if !ok {
			return nil, fmt.Errorf("%w: %T in uint array", ErrUnsupportedType, v)
		}
		return binary.BigEndian.AppendUint32(out, n), nil
	case codeUlong:
		n, ok := v.(uint64)
		if !ok {
			return nil, fmt.Errorf("%w: %T in ulong array", ErrUnsupportedType, v)
		}
		return binary.BigEndian.AppendUint64(out, n), nil
	case codeInt:
		n, ok := v.(int32)
		if !ok {
			return nil, fmt.Errorf("%w: %T in int array", ErrUnsupportedType, v)
		}
		return binary.BigEndian.AppendUint32(out, uint32(n)), nil
	case codeLong:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("%w: %T in long array", ErrUnsupportedType, v)
		}
		return binary.BigEndian.AppendUint64(out, uint64(n)), nil
	case codeVbin32, codeStr32, codeSym32:
		var s []byte
		switch x := v.(type) {
		case []byte:
			s = x
		case string:
			s = []byte(x)
		case Symbol:
			s = []byte(x)
		default:
			return nil, fmt.Errorf("%w: %T in variable-width array", ErrUnsupportedType, v)
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(s)))
		return append(out, s...), nil
	case codeList32, codeMap32:
		// Re-encode compound values in their 32-bit form.
		inner := enc[1:]
		if enc[0] == codeList0 {
			return []byte{0, 0, 0, 4, 0, 0, 0, 0}, nil
		}
		if enc[0] == codeList8 || enc[0] == codeMap8 {
			size, count := int(inner[0]), int(inner[1])
			out = binary.BigEndian.AppendUint32(out, uint32(size+3))
			out = binary.BigEndian.AppendUint32(out, uint32(count))
			return append(out, inner[2:]...), nil
		}
		return inner, nil
	}
	// Fixed-width encodings whose compact form is the only form.
	if enc[0] != code {
		return nil, fmt.Errorf("%w: %T in array of 0x%02x", ErrUnsupportedType, v, code)
	}
	return enc[1:], nil
}
