package encoding

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// ListWriter writes the fields of a described list (a performative, a section,
// a source…). Absent fields are written as null and trailing nulls are dropped
// when the list is closed (§1.4: "null ... trailing fields may be omitted").
//
//	w := encoding.BeginList(b, encoding.DescOpen)
//	w.String(containerID)
//	w.OmitUint(...)
//	b = w.End()
type ListWriter struct {
	B       []byte
	start   int // offset of the list32 constructor
	count   int // fields written
	kept    int // fields up to and including the last non-null one
	keptEnd int // len(B) after the last non-null field
}

// BeginList appends the constructor of a described list and returns its writer.
func BeginList(b []byte, descriptor uint64) ListWriter {
	b = AppendDescriptor(b, descriptor)
	b, start := appendCompoundHeader(b, codeList32)
	return ListWriter{B: b, start: start, keptEnd: len(b)}
}

func (w *ListWriter) present() {
	w.count++
	w.kept = w.count
	w.keptEnd = len(w.B)
}

// End drops trailing null fields, fixes up the header and returns the buffer.
func (w *ListWriter) End() []byte {
	return patchCompound(w.B[:w.keptEnd], w.start, w.kept)
}

// Appended records a non-null field the caller appended to B directly
// (a nested described list such as a source or an error).
func (w *ListWriter) Appended() { w.present() }

// Null writes an absent field.
func (w *ListWriter) Null() { w.B = append(w.B, codeNull); w.count++ }

func (w *ListWriter) Bool(v bool)           { w.B = AppendBool(w.B, v); w.present() }
func (w *ListWriter) Ubyte(v uint8)         { w.B = AppendUbyte(w.B, v); w.present() }
func (w *ListWriter) Ushort(v uint16)       { w.B = AppendUshort(w.B, v); w.present() }
func (w *ListWriter) Uint(v uint32)         { w.B = AppendUint(w.B, v); w.present() }
func (w *ListWriter) Ulong(v uint64)        { w.B = AppendUlong(w.B, v); w.present() }
func (w *ListWriter) String(v string)       { w.B = AppendString(w.B, v); w.present() }
func (w *ListWriter) Symbol(v Symbol)       { w.B = AppendSymbol(w.B, v); w.present() }
func (w *ListWriter) Binary(v []byte)       { w.B = AppendBinary(w.B, v); w.present() }
func (w *ListWriter) Timestamp(v Timestamp) { w.B = AppendTimestamp(w.B, v); w.present() }

// Raw writes an already encoded value (null when empty).
func (w *ListWriter) Raw(v []byte) {
	if len(v) == 0 {
		w.Null()
		return
	}
	w.B = append(w.B, v...)
	w.present()
}

// OptBool writes v, or null when v is nil.
func (w *ListWriter) OptBool(v *bool) {
	if v == nil {
		w.Null()
		return
	}
	w.Bool(*v)
}

// OptUint writes v, or null when v is nil.
func (w *ListWriter) OptUint(v *uint32) {
	if v == nil {
		w.Null()
		return
	}
	w.Uint(*v)
}

// OptString writes v, or null when empty.
func (w *ListWriter) OptString(v string) {
	if v == "" {
		w.Null()
		return
	}
	w.String(v)
}

// OptSymbol writes v, or null when empty.
func (w *ListWriter) OptSymbol(v Symbol) {
	if v == "" {
		w.Null()
		return
	}
	w.Symbol(v)
}

// OptBinary writes v, or null when nil.
func (w *ListWriter) OptBinary(v []byte) {
	if v == nil {
		w.Null()
		return
	}
	w.Binary(v)
}

// Symbols writes a multiple-symbol field, or null when empty.
func (w *ListWriter) Symbols(v []Symbol) {
	if len(v) == 0 {
		w.Null()
		return
	}
	w.B = AppendSymbolArray(w.B, v)
	w.present()
}

// Map writes a map field (fields, properties), or null when empty.
func (w *ListWriter) Map(m Map) error {
	if len(m) == 0 {
		w.Null()
		return nil
	}
	var err error
	w.B, err = appendMap(w.B, m)
	w.present()
	return err
}

// Value writes any value; nil writes null.
func (w *ListWriter) Value(v any) error {
	if v == nil {
		w.Null()
		return nil
	}
	var err error
	w.B, err = AppendValue(w.B, v)
	w.present()
	return err
}

// FieldReader reads the fields of a list in order. A missing trailing field
// reads as null. Errors are sticky: check Err once after the last field.
type FieldReader struct {
	r     Reader
	left  int
	err   error
	index int
}

// ReadList reads a list constructor (list0, list8 or list32) from r and
// returns a FieldReader over its fields.
func (r *Reader) ReadList() (FieldReader, error) {
	code, err := r.byte1()
	if err != nil {
		return FieldReader{}, err
	}
	switch code {
	case codeList0:
		return FieldReader{}, nil
	case codeList8, codeList32:
	default:
		return FieldReader{}, fmt.Errorf("%w: expected list, got 0x%02x", ErrDecode, code)
	}
	sub, count, err := r.compoundHeader(code)
	if err != nil {
		return FieldReader{}, err
	}
	if count > sub.Len() {
		return FieldReader{}, errBadLength
	}
	return FieldReader{r: sub, left: count}, nil
}

// Err returns the first error met.
func (f *FieldReader) Err() error { return f.err }

// Index is the position of the next field.
func (f *FieldReader) Index() int { return f.index }

// fail records err against the field just started: every caller has already
// advanced index past it, so the message names index-1, the 0-based position.
func (f *FieldReader) fail(err error) {
	if f.err == nil {
		f.err = fmt.Errorf("field %d: %w", f.index-1, err)
	}
}

// next returns the format code of the next field, consuming it, or ok=false
// for an absent or null field.
func (f *FieldReader) next() (byte, bool) {
	if f.err != nil || f.left == 0 {
		f.index++
		return 0, false
	}
	f.left--
	f.index++
	code, err := f.r.byte1()
	if err != nil {
		f.fail(err)
		return 0, false
	}
	return code, code != codeNull
}

// Skip consumes the next field whatever its type.
func (f *FieldReader) Skip() {
	if f.err != nil || f.left == 0 {
		f.index++
		return
	}
	f.left--
	f.index++
	if _, err := f.r.Skip(); err != nil {
		f.fail(err)
	}
}

// RawField returns the next field's raw encoding, or nil when it is null or absent.
func (f *FieldReader) RawField() []byte {
	if f.err != nil || f.left == 0 {
		f.index++
		return nil
	}
	f.left--
	f.index++
	raw, err := f.r.Skip()
	if err != nil {
		f.fail(err)
		return nil
	}
	if len(raw) == 1 && raw[0] == codeNull {
		return nil
	}
	return raw
}

// Value reads the next field as any value (nil when absent).
func (f *FieldReader) Value() any {
	if f.err != nil || f.left == 0 {
		f.index++
		return nil
	}
	f.left--
	f.index++
	v, err := f.r.ReadValue()
	if err != nil {
		f.fail(err)
	}
	return v
}

func (f *FieldReader) body(code byte) []byte {
	n, err := f.r.bodyLen(code)
	if err != nil {
		f.fail(err)
		return nil
	}
	s, err := f.r.next(n)
	if err != nil {
		f.fail(err)
	}
	return s
}

func (f *FieldReader) typeErr(want string, code byte) {
	f.fail(fmt.Errorf("%w: expected %s, got format code 0x%02x", ErrDecode, want, code))
}

// Bool reads a boolean field into dst; it reports whether the field was present.
func (f *FieldReader) Bool(dst *bool) bool {
	code, ok := f.next()
	if !ok {
		return false
	}
	switch code {
	case codeTrue:
		*dst = true
	case codeFalse:
		*dst = false
	case codeBool:
		if s := f.body(code); s != nil {
			*dst = s[0] != 0
		}
	default:
		f.typeErr("boolean", code)
		return false
	}
	return f.err == nil
}

// Codes accepted for each unsigned field type: narrower encodings widen.
var (
	ubyteCodes  = []byte{codeUbyte}
	ushortCodes = []byte{codeUbyte, codeUshort}
	uintCodes   = []byte{codeUint0, codeSmallUint, codeUbyte, codeUshort, codeUint}
	ulongCodes  = []byte{codeUlong0, codeUint0, codeSmallUlong, codeSmallUint, codeUbyte, codeUshort, codeUint, codeUlong}
)

// unsigned reads an unsigned integer field encoded with one of codes.
func (f *FieldReader) unsigned(want string, codes []byte) (uint64, bool) {
	code, ok := f.next()
	if !ok {
		return 0, false
	}
	if !slices.Contains(codes, code) {
		f.typeErr(want, code)
		return 0, false
	}
	if code == codeUint0 || code == codeUlong0 {
		return 0, true
	}
	s := f.body(code)
	if s == nil {
		return 0, false
	}
	var v uint64
	for _, c := range s { // big-endian, 1 to 8 bytes
		v = v<<8 | uint64(c)
	}
	return v, true
}

// Uint reads a uint (or a narrower unsigned) field.
func (f *FieldReader) Uint(dst *uint32) bool {
	v, ok := f.unsigned("uint", uintCodes)
	if ok {
		*dst = uint32(v)
	}
	return ok
}

// Ushort reads a ushort field.
func (f *FieldReader) Ushort(dst *uint16) bool {
	v, ok := f.unsigned("ushort", ushortCodes)
	if ok {
		*dst = uint16(v)
	}
	return ok
}

// Ubyte reads a ubyte field.
func (f *FieldReader) Ubyte(dst *uint8) bool {
	v, ok := f.unsigned("ubyte", ubyteCodes)
	if ok {
		*dst = uint8(v)
	}
	return ok
}

// Ulong reads a ulong (or narrower unsigned) field.
func (f *FieldReader) Ulong(dst *uint64) bool {
	v, ok := f.unsigned("ulong", ulongCodes)
	if ok {
		*dst = v
	}
	return ok
}

// Timestamp reads a timestamp field.
func (f *FieldReader) Timestamp(dst *Timestamp) bool {
	code, ok := f.next()
	if !ok {
		return false
	}
	if code != codeTimestamp {
		f.typeErr("timestamp", code)
		return false
	}
	s := f.body(code)
	if s == nil {
		return false
	}
	*dst = Timestamp(binary.BigEndian.Uint64(s))
	return true
}

// variable reads a field of a variable-width type with 8- and 32-bit forms.
func (f *FieldReader) variable(want string, code8, code32 byte) ([]byte, bool) {
	code, ok := f.next()
	if !ok {
		return nil, false
	}
	if code != code8 && code != code32 {
		f.typeErr(want, code)
		return nil, false
	}
	s := f.body(code)
	return s, f.err == nil
}

// Binary reads a binary field; the result aliases the input.
func (f *FieldReader) Binary(dst *[]byte) bool {
	s, ok := f.variable("binary", codeVbin8, codeVbin32)
	if ok {
		*dst = s
	}
	return ok
}

// String reads a string field.
func (f *FieldReader) String(dst *string) bool {
	s, ok := f.variable("string", codeStr8, codeStr32)
	if ok {
		*dst = string(s)
	}
	return ok
}

// Symbol reads a symbol field.
func (f *FieldReader) Symbol(dst *Symbol) bool {
	s, ok := f.variable("symbol", codeSym8, codeSym32)
	if ok {
		*dst = Symbol(s)
	}
	return ok
}

// Symbols reads a multiple-symbol field: a single symbol or an array of
// symbols. An empty array reads as present but leaves a nil slice, the form
// ListWriter.Symbols writes back as null, so decode → encode → decode is stable.
func (f *FieldReader) Symbols(dst *[]Symbol) bool {
	v := f.Value()
	switch v := v.(type) {
	case nil:
		return false
	case Symbol:
		*dst = []Symbol{v}
	case *Array:
		var out []Symbol
		if len(v.Values) > 0 {
			out = make([]Symbol, 0, len(v.Values))
		}
		for _, e := range v.Values {
			s, ok := e.(Symbol)
			if !ok {
				f.fail(fmt.Errorf("%w: expected array of symbols, got %T", ErrDecode, e))
				return false
			}
			out = append(out, s)
		}
		*dst = out
	default:
		f.fail(fmt.Errorf("%w: expected symbol or array of symbols, got %T", ErrDecode, v))
		return false
	}
	return true
}

// Map reads a map field. An empty map reads as present but leaves dst nil,
// the form ListWriter.Map writes back as null.
func (f *FieldReader) Map(dst *Map) bool {
	v := f.Value()
	switch v := v.(type) {
	case nil:
		return false
	case Map:
		if len(v) == 0 {
			v = nil
		}
		*dst = v
		return true
	}
	f.fail(fmt.Errorf("%w: expected map, got %T", ErrDecode, v))
	return false
}

// Left is the number of fields not yet read.
func (f *FieldReader) Left() int { return f.left }
