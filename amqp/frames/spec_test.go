package frames

import (
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/amqpemu/amqpemu/amqp/encoding"
)

// specDir is where Debian's amqp-specs package installs the AMQP 1.0 XML.
const specDir = "/usr/share/amqp/specs/1-0/"

type specField struct {
	Name      string `xml:"name,attr"`
	Type      string `xml:"type,attr"`
	Requires  string `xml:"requires,attr"`
	Default   string `xml:"default,attr"`
	Mandatory bool   `xml:"mandatory,attr"`
	Multiple  bool   `xml:"multiple,attr"`
}

type specType struct {
	Name       string `xml:"name,attr"`
	Class      string `xml:"class,attr"`
	Source     string `xml:"source,attr"`
	Descriptor *struct {
		Name string `xml:"name,attr"`
		Code string `xml:"code,attr"`
	} `xml:"descriptor"`
	Fields  []specField `xml:"field"`
	Choices []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"choice"`
}

// loadSpec reads every type of the spec XML, or skips the test when the
// amqp-specs package is not installed.
func loadSpec(t *testing.T) map[string]*specType {
	t.Helper()
	types := map[string]*specType{}
	for _, file := range []string{"types", "transport", "messaging", "security", "transactions"} {
		raw, err := os.ReadFile(specDir + file + ".bare.xml")
		if os.IsNotExist(err) {
			t.Skip("amqp-specs not installed")
		}
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Types []*specType `xml:"section>type"`
		}
		if err := xml.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, typ := range doc.Types {
			types[typ.Name] = typ
		}
	}
	return types
}

// primitive resolves a restricted type to the primitive it restricts, and
// returns the restricted type that holds its choices, if any.
func primitive(types map[string]*specType, name string) (string, *specType) {
	var choices *specType
	for {
		typ, ok := types[name]
		if !ok || typ.Class != "restricted" {
			return name, choices
		}
		if choices == nil && len(typ.Choices) > 0 {
			choices = typ
		}
		name = typ.Source
	}
}

// codec decodes and encodes one composite type of ours.
type codec struct {
	decode func([]byte) (any, error)
	encode func(any) []byte
}

func bodyCodec(typ uint8) codec {
	return codec{
		decode: func(b []byte) (any, error) { body, _, err := ParseBody(typ, b); return body, err },
		encode: func(v any) []byte { return v.(Body).Append(nil) },
	}
}

var stateCodec = codec{
	decode: func(b []byte) (any, error) { return DecodeDeliveryState(b) },
	encode: func(v any) []byte { return v.(DeliveryState).Append(nil) },
}

// codecs lists every composite type of the spec that this package decodes.
var codecs = map[string]codec{
	"open": bodyCodec(TypeAMQP), "begin": bodyCodec(TypeAMQP), "attach": bodyCodec(TypeAMQP),
	"flow": bodyCodec(TypeAMQP), "transfer": bodyCodec(TypeAMQP), "disposition": bodyCodec(TypeAMQP),
	"detach": bodyCodec(TypeAMQP), "end": bodyCodec(TypeAMQP), "close": bodyCodec(TypeAMQP),
	"sasl-mechanisms": bodyCodec(TypeSASL), "sasl-init": bodyCodec(TypeSASL),
	"sasl-challenge": bodyCodec(TypeSASL), "sasl-response": bodyCodec(TypeSASL), "sasl-outcome": bodyCodec(TypeSASL),
	"error": {
		decode: func(b []byte) (any, error) { return DecodeError(b) },
		encode: func(v any) []byte { return v.(*Error).Append(nil) },
	},
	"source": {
		decode: func(b []byte) (any, error) { return DecodeSource(b) },
		encode: func(v any) []byte { return v.(*Source).Append(nil) },
	},
	"target": {
		decode: func(b []byte) (any, error) { return DecodeTarget(b) },
		encode: func(v any) []byte { return v.(*Target).Append(nil) },
	},
	"received": stateCodec, "accepted": stateCodec, "rejected": stateCodec, "released": stateCodec, "modified": stateCodec,
	"header": {
		decode: func(b []byte) (any, error) { return DecodeHeader(b) },
		encode: func(v any) []byte { h := v.(MessageHeader); return h.Append(nil) },
	},
	"properties": {
		decode: func(b []byte) (any, error) { return DecodeProperties(b) },
		encode: func(v any) []byte { p := v.(Properties); b, _ := p.Append(nil); return b },
	},
}

// claimedDefaults are defaults we apply that the installed bare XML does not
// state. OASIS AMQP 1.0 §3.2.1 gives header priority default="4"; Debian's
// amqp-specs copy of messaging.xml leaves the attribute out.
var claimedDefaults = map[string]any{"header.priority": uint8(4)}

// goFieldName maps a spec field name to our struct field: kebab-case to
// CamelCase with Go's initialisms, plus the one field we name differently.
func goFieldName(typ, field string) string {
	if typ == "sasl-mechanisms" && field == "sasl-server-mechanisms" {
		return "Mechanisms"
	}
	var b strings.Builder
	for _, w := range strings.Split(field, "-") {
		switch w {
		case "id", "ttl":
			b.WriteString(strings.ToUpper(w))
		default:
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// sample is a distinct value for field i of a composite, its encoding, and a
// check that a decoded struct field holds it.
type sample struct {
	enc   []byte
	holds func(f reflect.Value) bool
	show  string
}

func sampleFor(t *testing.T, types map[string]*specType, f specField, i int) sample {
	t.Helper()
	prim, choices := primitive(types, f.Type)
	if prim == "*" {
		prim = f.Requires
	}
	var v any
	switch prim {
	case "string", "address":
		v = fmt.Sprintf("f%d", i)
	case "uint":
		v = uint32(10 + i)
	case "ushort":
		v = uint16(20 + i)
	case "ubyte":
		v = uint8(30 + i)
	case "ulong", "message-id":
		v = uint64(100 + i)
	case "boolean":
		v = true
	case "symbol":
		v = encoding.Symbol(fmt.Sprintf("s%d", i))
	case "binary":
		v = []byte{0xb0, byte(i)}
	case "timestamp":
		v = encoding.Timestamp(1000 + i)
	case "map":
		v = encoding.Map{{Key: encoding.Symbol(fmt.Sprintf("k%d", i)), Value: true}}
	case "source":
		return sample{(&Source{Address: "src"}).Append(nil), func(f reflect.Value) bool {
			s, ok := f.Interface().(*Source)
			return ok && s != nil && s.Address == "src"
		}, "source(src)"}
	case "target":
		return sample{(&Target{Address: "tgt"}).Append(nil), func(f reflect.Value) bool {
			s, ok := f.Interface().(*Target)
			return ok && s != nil && s.Address == "tgt"
		}, "target(tgt)"}
	case "delivery-state", "outcome":
		return sample{(&Rejected{}).Append(nil), func(f reflect.Value) bool {
			_, ok := f.Interface().(*Rejected)
			return ok
		}, "rejected"}
	case "error":
		return sample{(&Error{Condition: "c"}).Append(nil), func(f reflect.Value) bool {
			e, ok := f.Interface().(*Error)
			return ok && e != nil && e.Condition == "c"
		}, "error(c)"}
	default:
		t.Fatalf("field %s: no sample for type %s", f.Name, prim)
	}
	// A restricted type's value is a choice: take one that is not the default.
	if choices != nil {
		for _, c := range choices.Choices {
			if c.Name != f.Default && c.Value != f.Default {
				v = convert(t, prim, c.Value)
				break
			}
		}
	}
	want := v
	var enc []byte
	if s, ok := v.(encoding.Symbol); ok && f.Multiple {
		two := []encoding.Symbol{s, s + "b"}
		enc, want = encoding.AppendSymbolArray(nil, two), two
	} else {
		var err error
		if enc, err = encoding.AppendValue(nil, v); err != nil {
			t.Fatal(err)
		}
	}
	return sample{enc, func(f reflect.Value) bool {
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				return false
			}
			f = f.Elem()
		}
		return reflect.DeepEqual(f.Interface(), want)
	}, fmt.Sprint(want)}
}

// convert reads a spec default or choice value as the Go type we decode to.
func convert(t *testing.T, prim, s string) any {
	t.Helper()
	parse := func(bits int) uint64 {
		n, err := strconv.ParseUint(s, 10, bits)
		if err != nil {
			t.Fatalf("%s value %q: %v", prim, s, err)
		}
		return n
	}
	switch prim {
	case "uint":
		return uint32(parse(32))
	case "ushort":
		return uint16(parse(16))
	case "ubyte":
		return uint8(parse(8))
	case "ulong":
		return parse(64)
	case "boolean":
		return s == "true"
	case "symbol":
		return encoding.Symbol(s)
	}
	t.Fatalf("no conversion for a %s default", prim)
	return nil
}

// composite encodes a described list with the given field encodings (nil
// entries written as null).
func composite(code uint64, fields [][]byte) []byte {
	var body []byte
	for _, f := range fields {
		if f == nil {
			f = []byte{0x40}
		}
		body = append(body, f...)
	}
	b := encoding.AppendDescriptor(nil, code)
	b = append(b, 0xd0)
	b = append(b, be32(4+len(body))...)
	b = append(b, be32(len(fields))...)
	return append(b, body...)
}

func be32(n int) []byte { return []byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} }

// structField returns the named field of a decoded struct (or pointer to one).
func structField(t *testing.T, v any, name string) reflect.Value {
	t.Helper()
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	f := rv.FieldByName(name)
	if !f.IsValid() {
		t.Fatalf("%T has no field %s", v, name)
	}
	return f
}

// TestSpecComposites checks every composite type we decode against the spec
// XML: its descriptor; that a list of nulls fails with ErrMissingField exactly
// when the type has mandatory fields, and that leaving out any one mandatory
// field fails; that absent fields decode to the spec defaults; and, by setting
// one field at a time to a distinct value, that each field is read from and
// written to its place in the spec's field order, as its spec type.
func TestSpecComposites(t *testing.T) {
	types := loadSpec(t)
	for name, c := range codecs {
		t.Run(name, func(t *testing.T) {
			typ, ok := types[name]
			if !ok || typ.Class != "composite" || typ.Descriptor == nil {
				t.Fatalf("spec has no composite %s", name)
			}
			code, known := encoding.DescriptorCode(encoding.Symbol(typ.Descriptor.Name))
			if !known || fmt.Sprintf("0x00000000:0x%08x", code) != typ.Descriptor.Code {
				t.Fatalf("descriptor %s maps to 0x%x, spec %s", typ.Descriptor.Name, code, typ.Descriptor.Code)
			}
			samples := make([]sample, len(typ.Fields))
			mandatory := make([][]byte, len(typ.Fields)) // only the mandatory fields set
			hasMandatory := false
			for i, f := range typ.Fields {
				samples[i] = sampleFor(t, types, f, i)
				if f.Mandatory {
					mandatory[i] = samples[i].enc
					hasMandatory = true
				}
			}
			_, err := c.decode(composite(code, make([][]byte, len(typ.Fields))))
			if hasMandatory != errors.Is(err, ErrMissingField) {
				t.Fatalf("list of nulls: err = %v, spec has mandatory fields: %t", err, hasMandatory)
			}
			// Only the mandatory fields present: the rest take their defaults.
			v, err := c.decode(composite(code, mandatory))
			if err != nil {
				t.Fatalf("mandatory fields only: %v", err)
			}
			for _, f := range typ.Fields {
				want, claimed := claimedDefaults[name+"."+f.Name]
				if f.Default != "" {
					prim, choices := primitive(types, f.Type)
					def := f.Default
					if choices != nil {
						for _, ch := range choices.Choices {
							if ch.Name == def {
								def = ch.Value
							}
						}
					}
					xmlWant := convert(t, prim, def)
					if claimed && want != xmlWant {
						t.Errorf("%s: we claim default %v, the spec says %v", f.Name, want, xmlWant)
					}
					want = xmlWant
				} else if !claimed {
					continue
				}
				got := structField(t, v, goFieldName(name, f.Name))
				if got.Kind() == reflect.Pointer && !got.IsNil() {
					got = got.Elem()
				}
				if !got.CanInterface() || got.Interface() != want {
					t.Errorf("%s absent decodes to %v, want the default %v", f.Name, got, want)
				}
			}
			for i, f := range typ.Fields {
				if f.Mandatory {
					without := append([][]byte{}, mandatory...)
					without[i] = nil
					if _, err := c.decode(composite(code, without)); !errors.Is(err, ErrMissingField) {
						t.Errorf("mandatory %s left out: err = %v, want ErrMissingField", f.Name, err)
					}
				}
				fields := append([][]byte{}, mandatory...)
				fields[i] = samples[i].enc
				v, err := c.decode(composite(code, fields))
				if err != nil {
					t.Fatalf("%s = %s: %v", f.Name, samples[i].show, err)
				}
				if got := structField(t, v, goFieldName(name, f.Name)); !samples[i].holds(got) {
					t.Errorf("field %d %s = %s decoded as %v", i, f.Name, samples[i].show, got)
				}
				again, err := c.decode(c.encode(v))
				if err != nil || !deepEqual(again, v) {
					t.Errorf("%s = %s: re-encoded decodes to %+v, %v; want %+v", f.Name, samples[i].show, again, err, v)
				}
			}
		})
	}
}

// TestSpecErrorConditions checks the ErrCond constants against the spec's
// error-condition choices: every one is defined, with the spec's spelling.
func TestSpecErrorConditions(t *testing.T) {
	types := loadSpec(t)
	ours := map[ErrCond]bool{}
	for _, c := range []ErrCond{
		ErrCondInternalError, ErrCondNotFound, ErrCondUnauthorizedAccess, ErrCondDecodeError,
		ErrCondResourceLimitExceeded, ErrCondNotAllowed, ErrCondInvalidField, ErrCondNotImplemented,
		ErrCondResourceLocked, ErrCondPreconditionFailed, ErrCondResourceDeleted, ErrCondIllegalState,
		ErrCondFrameSizeTooSmall, ErrCondConnectionForced, ErrCondFramingError, ErrCondConnectionRedirect,
		ErrCondWindowViolation, ErrCondErrantLink, ErrCondHandleInUse, ErrCondUnattachedHandle,
		ErrCondDetachForced, ErrCondTransferLimitExceeded, ErrCondMessageSizeExceeded, ErrCondLinkRedirect,
		ErrCondStolen,
	} {
		ours[c] = true
	}
	spec := map[ErrCond]bool{}
	for _, name := range []string{"amqp-error", "connection-error", "session-error", "link-error"} {
		for _, c := range types[name].Choices {
			spec[ErrCond(c.Value)] = true
			if !ours[ErrCond(c.Value)] {
				t.Errorf("no constant for %s", c.Value)
			}
		}
	}
	for c := range ours {
		if !spec[c] {
			t.Errorf("constant %s is not a spec condition", c)
		}
	}
}
