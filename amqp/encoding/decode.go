package encoding

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Decoding errors. Every decode error wraps ErrDecode.
var (
	ErrDecode    = errors.New("amqp: decode error")
	errShort     = fmt.Errorf("%w: truncated input", ErrDecode)
	errTooDeep   = fmt.Errorf("%w: values nested too deeply", ErrDecode)
	errBadLength = fmt.Errorf("%w: length exceeds input", ErrDecode)
)

// maxDepth bounds nesting of compound values so hostile input cannot exhaust the stack.
const maxDepth = 64

// Reader decodes AMQP values from a byte slice. Decoded binary values alias the
// input; copy them if the input buffer is reused.
type Reader struct {
	b     []byte
	off   int
	depth int
	// zeroUsed counts the zero-width array elements (null, true, uint0…)
	// decoded so far. They cost no input bytes, so without a cap a 10-byte
	// array32 of nulls could make the decoder allocate a 1 MiB []any. The cap
	// is a constant, not a share of the input, so that a value re-encoded in
	// its (shorter) canonical form still decodes.
	zeroUsed int
}

// maxZeroWidth caps the zero-width array elements one Reader decodes, which
// bounds what they can make it allocate to 16 bytes each: 64 KiB.
const maxZeroWidth = 4096

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Reset points the Reader at b, so one Reader can be reused without allocating.
func (r *Reader) Reset(b []byte) { *r = Reader{b: b} }

// Len is the number of unread bytes.
func (r *Reader) Len() int { return len(r.b) - r.off }

// Offset is the number of bytes consumed so far.
func (r *Reader) Offset() int { return r.off }

// Rest returns the unread bytes.
func (r *Reader) Rest() []byte { return r.b[r.off:] }

func (r *Reader) next(n int) ([]byte, error) {
	if n < 0 || r.Len() < n {
		return nil, errShort
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s, nil
}

func (r *Reader) byte1() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errShort
	}
	c := r.b[r.off]
	r.off++
	return c, nil
}

// PeekCode returns the next format code without consuming it.
func (r *Reader) PeekCode() (byte, error) {
	if r.off >= len(r.b) {
		return 0, errShort
	}
	return r.b[r.off], nil
}

// Skip consumes one whole value (described or not) without decoding it and
// returns its raw bytes. It checks format codes and lengths but not the
// contents of compound values.
func (r *Reader) Skip() ([]byte, error) {
	start := r.off
	if err := r.skip(r.depth); err != nil {
		return nil, err
	}
	return r.b[start:r.off], nil
}

// skip consumes one value; depth bounds the recursion through descriptors,
// which a run of 0x00 bytes would otherwise drive as deep as the input is long.
func (r *Reader) skip(depth int) error {
	code, err := r.byte1()
	if err != nil {
		return err
	}
	if code != codeDescribed {
		return r.skipBody(code)
	}
	if depth >= maxDepth {
		return errTooDeep
	}
	if err := r.skip(depth + 1); err != nil {
		return err
	}
	return r.skip(depth + 1)
}

// skipBody consumes the bytes that follow a (non-described) format code.
func (r *Reader) skipBody(code byte) error {
	n, err := r.bodyLen(code)
	if err != nil {
		return err
	}
	_, err = r.next(n)
	return err
}

// validCodes marks the format codes of §1.6; the width classes of bodyLen
// would otherwise accept undefined codes such as 0x46 or 0x57.
var validCodes = func() (v [256]bool) {
	for _, c := range []byte{
		codeNull, codeBool, codeTrue, codeFalse, codeUbyte, codeUshort,
		codeUint, codeSmallUint, codeUint0, codeUlong, codeSmallUlong, codeUlong0,
		codeByte, codeShort, codeInt, codeSmallInt, codeLong, codeSmallLong,
		codeFloat, codeDouble, codeDecimal32, codeDecimal64, codeDecimal128,
		codeChar, codeTimestamp, codeUUID, codeVbin8, codeVbin32, codeStr8,
		codeStr32, codeSym8, codeSym32, codeList0, codeList8, codeList32,
		codeMap8, codeMap32, codeArray8, codeArray32,
	} {
		v[c] = true
	}
	return v
}()

func invalidCode(code byte) error {
	return fmt.Errorf("%w: invalid format code 0x%02x", ErrDecode, code)
}

// bodyLen returns how many bytes follow the format code, consuming any length prefix.
func (r *Reader) bodyLen(code byte) (int, error) {
	if !validCodes[code] {
		return 0, invalidCode(code)
	}
	switch code >> 4 {
	case 0x4:
		return 0, nil
	case 0x5:
		return 1, nil
	case 0x6:
		return 2, nil
	case 0x7:
		return 4, nil
	case 0x8:
		return 8, nil
	case 0x9:
		return 16, nil
	case 0xa, 0xc, 0xe:
		n, err := r.byte1()
		return int(n), err
	case 0xb, 0xd, 0xf:
		s, err := r.next(4)
		if err != nil {
			return 0, err
		}
		n := binary.BigEndian.Uint32(s)
		if uint64(n) > uint64(r.Len()) {
			return 0, errBadLength
		}
		return int(n), nil
	}
	return 0, invalidCode(code)
}

// ReadDescriptor reads a described-type constructor and returns its numeric
// code. Symbolic descriptors of the spec map to their codes; any other
// descriptor returns ok=false and its value in other.
func (r *Reader) ReadDescriptor() (code uint64, other any, ok bool, err error) {
	c, err := r.byte1()
	if err != nil {
		return 0, nil, false, err
	}
	if c != codeDescribed {
		return 0, nil, false, fmt.Errorf("%w: expected described type, got 0x%02x", ErrDecode, c)
	}
	d, err := r.ReadValue()
	if err != nil {
		return 0, nil, false, err
	}
	switch d := d.(type) {
	case uint64:
		return d, nil, true, nil
	case Symbol:
		if c, known := descriptorNames[d]; known {
			return c, nil, true, nil
		}
	}
	return 0, d, false, nil
}

// ReadValue decodes the next value into its Go form: nil, bool, uint8..uint64,
// int8..int64, float32/64, Decimal*, Char, Timestamp, UUID, []byte, string,
// Symbol, List, Map, *Array or *Described.
func (r *Reader) ReadValue() (any, error) {
	start := r.off
	code, err := r.byte1()
	if err != nil {
		return nil, err
	}
	if code == codeDescribed {
		return r.readDescribed(start)
	}
	return r.readBody(code)
}

func (r *Reader) readDescribed(start int) (any, error) {
	if r.depth >= maxDepth {
		return nil, errTooDeep
	}
	r.depth++
	defer func() { r.depth-- }()
	d, err := r.ReadValue()
	if err != nil {
		return nil, err
	}
	if s, ok := d.(Symbol); ok {
		if c, known := descriptorNames[s]; known {
			d = c
		}
	}
	v, err := r.ReadValue()
	if err != nil {
		return nil, err
	}
	return &Described{Descriptor: d, Value: v, Raw: r.b[start:r.off]}, nil
}

// readBody decodes the bytes after a non-described format code.
func (r *Reader) readBody(code byte) (any, error) {
	switch code {
	case codeNull:
		return nil, nil
	case codeTrue:
		return true, nil
	case codeFalse:
		return false, nil
	case codeUint0:
		return uint32(0), nil
	case codeUlong0:
		return uint64(0), nil
	case codeList0:
		return List{}, nil
	case codeList8, codeList32:
		return r.readList(code)
	case codeMap8, codeMap32:
		return r.readMap(code)
	case codeArray8, codeArray32:
		return r.readArray(code)
	}
	n, err := r.bodyLen(code)
	if err != nil {
		return nil, err
	}
	s, err := r.next(n)
	if err != nil {
		return nil, err
	}
	return fixed(code, s)
}

// fixed decodes a primitive whose bytes s follow the format code.
func fixed(code byte, s []byte) (any, error) {
	switch code {
	case codeBool:
		return s[0] != 0, nil
	case codeUbyte:
		return s[0], nil
	case codeUshort:
		return binary.BigEndian.Uint16(s), nil
	case codeUint:
		return binary.BigEndian.Uint32(s), nil
	case codeSmallUint:
		return uint32(s[0]), nil
	case codeUlong:
		return binary.BigEndian.Uint64(s), nil
	case codeSmallUlong:
		return uint64(s[0]), nil
	case codeByte:
		return int8(s[0]), nil
	case codeShort:
		return int16(binary.BigEndian.Uint16(s)), nil
	case codeInt:
		return int32(binary.BigEndian.Uint32(s)), nil
	case codeSmallInt:
		return int32(int8(s[0])), nil
	case codeLong:
		return int64(binary.BigEndian.Uint64(s)), nil
	case codeSmallLong:
		return int64(int8(s[0])), nil
	case codeFloat:
		return math.Float32frombits(binary.BigEndian.Uint32(s)), nil
	case codeDouble:
		return math.Float64frombits(binary.BigEndian.Uint64(s)), nil
	case codeDecimal32:
		return Decimal32(s), nil
	case codeDecimal64:
		return Decimal64(s), nil
	case codeDecimal128:
		return Decimal128(s), nil
	case codeChar:
		return Char(binary.BigEndian.Uint32(s)), nil
	case codeTimestamp:
		return Timestamp(binary.BigEndian.Uint64(s)), nil
	case codeUUID:
		return UUID(s), nil
	case codeVbin8, codeVbin32:
		return s, nil
	case codeStr8, codeStr32:
		return string(s), nil
	case codeSym8, codeSym32:
		return Symbol(s), nil
	}
	return nil, invalidCode(code)
}

// compoundHeader reads size and count of a list/map/array and returns a
// Reader limited to its body. The Reader is returned by value so decoding a
// list does not allocate one; callers hand its zero-width budget back with done.
func (r *Reader) compoundHeader(code byte) (Reader, int, error) {
	wide := code&0x10 != 0
	var size, count int
	if wide {
		s, err := r.next(8)
		if err != nil {
			return Reader{}, 0, err
		}
		size = int(binary.BigEndian.Uint32(s))
		count = int(binary.BigEndian.Uint32(s[4:]))
		size -= 4
	} else {
		s, err := r.next(2)
		if err != nil {
			return Reader{}, 0, err
		}
		size, count = int(s[0])-1, int(s[1])
	}
	if size < 0 || size > r.Len() {
		return Reader{}, 0, errBadLength
	}
	if r.depth+1 > maxDepth {
		return Reader{}, 0, errTooDeep
	}
	body, _ := r.next(size)
	return Reader{b: body, depth: r.depth + 1, zeroUsed: r.zeroUsed}, count, nil
}

// done checks that a compound's elements filled exactly its declared size and
// carries its zero-width count back to r.
func (r *Reader) done(sub *Reader) error {
	r.zeroUsed = sub.zeroUsed
	if sub.Len() != 0 {
		return fmt.Errorf("%w: %d bytes after the last element of a compound value", ErrDecode, sub.Len())
	}
	return nil
}

func (r *Reader) readList(code byte) (any, error) {
	sub, count, err := r.compoundHeader(code)
	if err != nil {
		return nil, err
	}
	// Every element takes at least one byte: this bounds the allocation below.
	if count > sub.Len() {
		return nil, errBadLength
	}
	l := make(List, 0, count)
	for range count {
		v, err := sub.ReadValue()
		if err != nil {
			return nil, err
		}
		l = append(l, v)
	}
	return l, r.done(&sub)
}

func (r *Reader) readMap(code byte) (any, error) {
	sub, count, err := r.compoundHeader(code)
	if err != nil {
		return nil, err
	}
	if count%2 != 0 {
		return nil, fmt.Errorf("%w: map with odd element count %d", ErrDecode, count)
	}
	if count > sub.Len() {
		return nil, errBadLength
	}
	m := make(Map, 0, count/2)
	for range count / 2 {
		k, err := sub.ReadValue()
		if err != nil {
			return nil, err
		}
		v, err := sub.ReadValue()
		if err != nil {
			return nil, err
		}
		m = append(m, MapEntry{Key: k, Value: v})
	}
	return m, r.done(&sub)
}

func (r *Reader) readArray(code byte) (any, error) {
	sub, count, err := r.compoundHeader(code)
	if err != nil {
		return nil, err
	}
	a := &Array{}
	elemCode, err := sub.byte1()
	if err != nil {
		return nil, err
	}
	if elemCode == codeDescribed {
		if a.Descriptor, err = sub.ReadValue(); err != nil {
			return nil, err
		}
		// Name spec descriptors by code, as readDescribed does.
		if s, ok := a.Descriptor.(Symbol); ok {
			if c, known := descriptorNames[s]; known {
				a.Descriptor = c
			}
		}
		if elemCode, err = sub.byte1(); err != nil {
			return nil, err
		}
	}
	if elemCode == codeDescribed || !validCodes[elemCode] {
		return nil, invalidCode(elemCode)
	}
	a.Code = elemCode
	if zeroWidth(elemCode) {
		// Zero-width elements cost no input: count them against a cap instead.
		if count > maxZeroWidth-sub.zeroUsed {
			return nil, errBadLength
		}
		sub.zeroUsed += count
	} else if count > sub.Len() {
		return nil, errBadLength
	}
	a.Values = make([]any, 0, count)
	for range count {
		v, err := sub.readBody(elemCode)
		if err != nil {
			return nil, err
		}
		if a.Descriptor != nil {
			v = &Described{Descriptor: a.Descriptor, Value: v}
		}
		a.Values = append(a.Values, v)
	}
	return a, r.done(&sub)
}

func zeroWidth(code byte) bool { return code>>4 == 0x4 }
