package encoding

import (
	"encoding/xml"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// specDir is where Debian's amqp-specs package installs the AMQP 1.0 XML.
const specDir = "/usr/share/amqp/specs/1-0/"

type specEncoding struct {
	Name     string `xml:"name,attr"`
	Code     string `xml:"code,attr"`
	Category string `xml:"category,attr"`
	Width    int    `xml:"width,attr"`
}

type specPrimitive struct {
	Name      string         `xml:"name,attr"`
	Class     string         `xml:"class,attr"`
	Encodings []specEncoding `xml:"encoding"`
}

// goTypes is the Go type ReadValue returns for each primitive type of §1.6.
var goTypes = map[string]reflect.Type{
	"null":       nil,
	"boolean":    reflect.TypeFor[bool](),
	"ubyte":      reflect.TypeFor[uint8](),
	"ushort":     reflect.TypeFor[uint16](),
	"uint":       reflect.TypeFor[uint32](),
	"ulong":      reflect.TypeFor[uint64](),
	"byte":       reflect.TypeFor[int8](),
	"short":      reflect.TypeFor[int16](),
	"int":        reflect.TypeFor[int32](),
	"long":       reflect.TypeFor[int64](),
	"float":      reflect.TypeFor[float32](),
	"double":     reflect.TypeFor[float64](),
	"decimal32":  reflect.TypeFor[Decimal32](),
	"decimal64":  reflect.TypeFor[Decimal64](),
	"decimal128": reflect.TypeFor[Decimal128](),
	"char":       reflect.TypeFor[Char](),
	"timestamp":  reflect.TypeFor[Timestamp](),
	"uuid":       reflect.TypeFor[UUID](),
	"binary":     reflect.TypeFor[[]byte](),
	"string":     reflect.TypeFor[string](),
	"symbol":     reflect.TypeFor[Symbol](),
	"list":       reflect.TypeFor[List](),
	"map":        reflect.TypeFor[Map](),
	"array":      reflect.TypeFor[*Array](),
}

// TestSpecPrimitiveEncodings checks every encoding in types.bare.xml against
// the decoder: the code is known, a minimal value of that encoding is exactly
// as wide as the XML says, and it decodes to the Go type of its AMQP type.
// It also checks that the decoder accepts no code the XML does not define.
func TestSpecPrimitiveEncodings(t *testing.T) {
	raw, err := os.ReadFile(specDir + "types.bare.xml")
	if os.IsNotExist(err) {
		t.Skip("amqp-specs not installed")
	}
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Types []specPrimitive `xml:"section>type"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	inSpec := map[byte]bool{}
	for _, typ := range doc.Types {
		want, ok := goTypes[typ.Name]
		if !ok {
			t.Errorf("spec type %s has no Go mapping", typ.Name)
			continue
		}
		for _, enc := range typ.Encodings {
			c, err := strconv.ParseUint(enc.Code, 0, 8)
			if err != nil {
				t.Fatalf("%s: code %q: %v", typ.Name, enc.Code, err)
			}
			code := byte(c)
			inSpec[code] = true
			t.Run(typ.Name+"/"+enc.Code, func(t *testing.T) {
				b := minimalEncoding(t, code, enc.Category, enc.Width)
				r := NewReader(append(b, 0xee)) // a trailing byte the value must not take
				v, err := r.ReadValue()
				if err != nil {
					t.Fatalf("ReadValue(% x): %v", b, err)
				}
				if r.Offset() != len(b) {
					t.Fatalf("ReadValue(% x) took %d bytes, want %d", b, r.Offset(), len(b))
				}
				if got := reflect.TypeOf(v); got != want {
					t.Fatalf("ReadValue(% x) is %v, want %v", b, got, want)
				}
			})
		}
	}
	for c := range 256 {
		if validCodes[c] != inSpec[byte(c)] {
			t.Errorf("code 0x%02x: decoder accepts it = %t, spec defines it = %t", c, validCodes[c], inSpec[byte(c)])
		}
	}
}

// minimalEncoding builds the smallest value of an encoding from its XML
// category and width: zero bytes, an empty variable value, an empty compound,
// or an empty array of nulls.
func minimalEncoding(t *testing.T, code byte, category string, width int) []byte {
	t.Helper()
	b := []byte{code}
	switch {
	case category == "fixed":
		return append(b, make([]byte, width)...)
	case category == "variable" && (width == 1 || width == 4):
		return append(b, make([]byte, width)...) // length 0
	case category == "compound" && width == 1:
		return append(b, 1, 0) // size 1 (the count), count 0
	case category == "compound" && width == 4:
		return append(b, 0, 0, 0, 4, 0, 0, 0, 0)
	case category == "array" && width == 1:
		return append(b, 2, 0, codeNull) // size, count 0, element constructor
	case category == "array" && width == 4:
		return append(b, 0, 0, 0, 5, 0, 0, 0, 0, codeNull)
	}
	t.Fatalf("code 0x%02x: unknown category %q width %d", code, category, width)
	return nil
}

// descConstants names each Desc constant by the spec type it describes.
var descConstants = map[string]uint64{
	"open": DescOpen, "begin": DescBegin, "attach": DescAttach, "flow": DescFlow,
	"transfer": DescTransfer, "disposition": DescDisposition, "detach": DescDetach,
	"end": DescEnd, "close": DescClose, "error": DescError,
	"received": DescReceived, "accepted": DescAccepted, "rejected": DescRejected,
	"released": DescReleased, "modified": DescModified, "source": DescSource, "target": DescTarget,
	"delete-on-close": DescDeleteOnClose, "delete-on-no-links": DescDeleteOnNoLinks,
	"delete-on-no-messages": DescDeleteOnNoMessages, "delete-on-no-links-or-messages": DescDeleteOnNoLinksOrMessages,
	"coordinator": DescCoordinator, "declare": DescDeclare, "discharge": DescDischarge,
	"declared": DescDeclared, "transactional-state": DescTxState,
	"sasl-mechanisms": DescSASLMechanisms, "sasl-init": DescSASLInit, "sasl-challenge": DescSASLChallenge,
	"sasl-response": DescSASLResponse, "sasl-outcome": DescSASLOutcome,
	"header": DescHeader, "delivery-annotations": DescDeliveryAnnotations,
	"message-annotations": DescMessageAnnotations, "properties": DescProperties,
	"application-properties": DescApplicationProperties, "data": DescData,
	"amqp-sequence": DescAMQPSequence, "amqp-value": DescAMQPValue, "footer": DescFooter,
}

// TestSpecDescriptors checks every descriptor the spec XML defines against
// the Desc constants and descriptorNames, in both directions.
func TestSpecDescriptors(t *testing.T) {
	type descType struct {
		Name       string `xml:"name,attr"`
		Descriptor *struct {
			Name string `xml:"name,attr"`
			Code string `xml:"code,attr"`
		} `xml:"descriptor"`
	}
	seen := map[string]bool{}
	for _, file := range []string{"transport", "messaging", "security", "transactions"} {
		raw, err := os.ReadFile(specDir + file + ".bare.xml")
		if os.IsNotExist(err) {
			t.Skip("amqp-specs not installed")
		}
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Types []descType `xml:"section>type"`
		}
		if err := xml.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, typ := range doc.Types {
			if typ.Descriptor == nil {
				continue
			}
			seen[typ.Name] = true
			code, err := parseDescriptorCode(typ.Descriptor.Code)
			if err != nil {
				t.Errorf("%s: %v", typ.Name, err)
				continue
			}
			if c, ok := descConstants[typ.Name]; !ok || c != code {
				t.Errorf("%s: Desc constant 0x%x (defined %t), spec code 0x%x", typ.Name, c, ok, code)
			}
			if c, ok := descriptorNames[Symbol(typ.Descriptor.Name)]; !ok || c != code {
				t.Errorf("descriptorNames[%q] = 0x%x (present %t), spec code 0x%x", typ.Descriptor.Name, c, ok, code)
			}
		}
	}
	for name := range descConstants {
		if !seen[name] {
			t.Errorf("Desc constant for %s, which the spec XML does not define", name)
		}
	}
	if len(descriptorNames) != len(seen) {
		t.Errorf("descriptorNames has %d names, the spec %d", len(descriptorNames), len(seen))
	}
}

// parseDescriptorCode reads the spec's "0xDOMAIN:0xID" form as one ulong.
func parseDescriptorCode(s string) (uint64, error) {
	domain, id, ok := strings.Cut(s, ":")
	if !ok {
		return 0, fmt.Errorf("descriptor code %q", s)
	}
	d, err := strconv.ParseUint(domain, 0, 32)
	if err != nil {
		return 0, err
	}
	i, err := strconv.ParseUint(id, 0, 32)
	return d<<32 | i, err
}
