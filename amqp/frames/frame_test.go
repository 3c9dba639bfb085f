package frames

import (
	"bytes"
	"errors"
	"testing"

	"github.com/amqpemu/amqpemu/amqp/encoding"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want Header
		err  bool
	}{
		{"heartbeat", EmptyFrame, Header{Size: 8, DataOffset: 2, Type: TypeAMQP}, false},
		{"sasl frame on channel 0", []byte{0, 0, 0, 17, 2, 1, 0, 0}, Header{Size: 17, DataOffset: 2, Type: TypeSASL}, false},
		{"channel 0xfffe", []byte{0, 0, 1, 0, 2, 0, 0xff, 0xfe}, Header{Size: 256, DataOffset: 2, Type: TypeAMQP, Channel: 0xfffe}, false},
		{"extended header doff 4", []byte{0, 0, 0, 16, 4, 0, 0, 1}, Header{Size: 16, DataOffset: 4, Type: TypeAMQP, Channel: 1}, false},
		{"max size", []byte{0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0}, Header{Size: 0xffffffff, DataOffset: 2}, false},
		{"fewer than 8 bytes", []byte{0, 0, 0, 8, 2, 0, 0}, Header{}, true},
		{"nothing", nil, Header{}, true},
		{"size 0", []byte{0, 0, 0, 0, 2, 0, 0, 0}, Header{}, true},
		{"size 7", []byte{0, 0, 0, 7, 2, 0, 0, 0}, Header{}, true},
		{"doff 0", []byte{0, 0, 0, 8, 0, 0, 0, 0}, Header{}, true},
		{"doff 1", []byte{0, 0, 0, 8, 1, 0, 0, 0}, Header{}, true},
		{"doff past the frame", []byte{0, 0, 0, 12, 4, 0, 0, 0}, Header{}, true},
		{"doff 255 in a small frame", []byte{0, 0, 2, 0, 255, 0, 0, 0}, Header{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHeader(tc.b)
			if tc.err {
				if !errors.Is(err, ErrFrame) {
					t.Fatalf("ParseHeader(% x) = %+v, %v; want ErrFrame", tc.b, h, err)
				}
				return
			}
			if err != nil || h != tc.want {
				t.Fatalf("ParseHeader(% x) = %+v, %v; want %+v", tc.b, h, err, tc.want)
			}
		})
	}
}

func TestBeginEndFrame(t *testing.T) {
	b, start := BeginFrame([]byte("prefix"), TypeAMQP, 0x0102)
	b = append(b, "body"...)
	b = EndFrame(b, start)
	want := []byte{0, 0, 0, 12, 2, 0, 1, 2, 'b', 'o', 'd', 'y'}
	if string(b[:6]) != "prefix" || !bytes.Equal(b[6:], want) {
		t.Fatalf("% x", b)
	}
}

// attach builds an attach body from raw field encodings.
func attach(fields ...[]byte) []byte {
	body := bytes.Join(fields, nil)
	return append([]byte{0x00, 0x53, 0x12, 0xc0, byte(1 + len(body)), byte(len(fields))}, body...)
}

var (
	nameL  = []byte{0xa1, 0x01, 'l'}
	handle = []byte{0x43}
	sender = []byte{0x42}
	null   = []byte{0x40}
)

func TestParseBodyErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  uint8
		b    []byte
		want error
	}{
		{"unknown numeric descriptor", TypeAMQP, []byte{0x00, 0x53, 0x19, 0x45}, ErrUnknownBody},
		{"unknown symbolic descriptor", TypeAMQP, []byte{0x00, 0xa3, 0x03, 'x', ':', 'y', 0x45}, ErrUnknownBody},
		{"a section is not a performative", TypeAMQP, []byte{0x00, 0x53, 0x70, 0x45}, ErrUnknownBody},
		{"sasl frame in an amqp frame", TypeAMQP, []byte{0x00, 0x53, 0x44, 0xc0, 0x03, 0x01, 0x50, 0x00}, ErrUnknownBody},
		{"performative in a sasl frame", TypeSASL, []byte{0x00, 0x53, 0x18, 0x45}, ErrUnknownBody},
		{"unknown frame type", 0x02, []byte{0x00, 0x53, 0x18, 0x45}, ErrFrame},
		{"not described", TypeAMQP, []byte{0x45}, ErrFrame},
		{"descriptor truncated", TypeAMQP, []byte{0x00, 0x53}, ErrFrame},
		{"body is not a list", TypeAMQP, []byte{0x00, 0x53, 0x18, 0xa1, 0x00}, ErrFrame},
		{"list truncated", TypeAMQP, []byte{0x00, 0x53, 0x10, 0xc0, 0x10, 0x01}, ErrFrame},
		{"open without container-id", TypeAMQP, []byte{0x00, 0x53, 0x10, 0x45}, ErrMissingField},
		{"attach without handle", TypeAMQP, attach(nameL, null, sender), ErrMissingField},
		{"attach without role", TypeAMQP, attach(nameL, handle), ErrMissingField},
		{"attach without name", TypeAMQP, attach(null, handle, sender), ErrMissingField},
		{"attach handle of the wrong type", TypeAMQP, attach(nameL, []byte{0xa1, 0x01, '0'}, sender), encoding.ErrDecode},
		{"attach source of the wrong type", TypeAMQP, attach(nameL, handle, sender, null, null, []byte{0x41}), encoding.ErrDecode},
		{"begin without outgoing-window", TypeAMQP, []byte{0x00, 0x53, 0x11, 0xc0, 0x04, 0x03, 0x40, 0x43, 0x43}, ErrMissingField},
		{"flow without incoming-window", TypeAMQP, []byte{0x00, 0x53, 0x13, 0x45}, ErrMissingField},
		{"transfer without handle", TypeAMQP, []byte{0x00, 0x53, 0x14, 0x45}, ErrMissingField},
		{"disposition without first", TypeAMQP, []byte{0x00, 0x53, 0x15, 0xc0, 0x02, 0x01, 0x41}, ErrMissingField},
		{"detach without handle", TypeAMQP, []byte{0x00, 0x53, 0x16, 0x45}, ErrMissingField},
		{"close with error lacking condition", TypeAMQP, []byte{0x00, 0x53, 0x18, 0xc0, 0x05, 0x01, 0x00, 0x53, 0x1d, 0x45}, ErrMissingField},
		{"sasl-init without mechanism", TypeSASL, []byte{0x00, 0x53, 0x41, 0x45}, ErrMissingField},
		{"sasl-outcome without code", TypeSASL, []byte{0x00, 0x53, 0x44, 0x45}, ErrMissingField},
		{"bytes after close", TypeAMQP, []byte{0x00, 0x53, 0x18, 0x45, 0x00}, ErrFrame},
		// end: 4 fields declared, 2 held (null, str8 "xy"): 4 ≤ the 5 bytes, so
		// only reading past the last field end finds the fields missing.
		{"end declaring fields it lacks", TypeAMQP, []byte{0x00, 0x53, 0x17, 0xc0, 0x06, 0x04, 0x40, 0xa1, 0x02, 'x', 'y'}, encoding.ErrDecode},
		{"end with a malformed extra field", TypeAMQP, []byte{0x00, 0x53, 0x17, 0xc0, 0x03, 0x02, 0x40, 0x46}, encoding.ErrDecode},
		{"bytes after flow", TypeAMQP, append((&Flow{IncomingWindow: 1}).Append(nil), 0x40), ErrFrame},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, _, err := ParseBody(tc.typ, tc.b)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrFrame) {
				t.Fatalf("ParseBody(% x) = %v, %v; want %v", tc.b, body, err, tc.want)
			}
		})
	}
}

func TestParseBodyEmptyIsHeartbeat(t *testing.T) {
	body, payload, err := ParseBody(TypeAMQP, nil)
	if body != nil || payload != nil || err != nil {
		t.Fatalf("got %v, %v, %v", body, payload, err)
	}
}

// TestParseBodySymbolicDescriptor accepts a performative named by its symbolic
// descriptor (§1.5), which a peer may use instead of the code.
func TestParseBodySymbolicDescriptor(t *testing.T) {
	b := append([]byte{0x00, 0xa3, 0x0f}, "amqp:close:list"...)
	body, _, err := ParseBody(TypeAMQP, append(b, 0x45))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := body.(*Close); !ok {
		t.Fatalf("got %T", body)
	}
}

// TestParseBodyIgnoresExtraFields accepts fields beyond those this version of
// the spec defines, as a later minor version may add some.
func TestParseBodyIgnoresExtraFields(t *testing.T) {
	body, _, err := ParseBody(TypeAMQP, []byte{0x00, 0x53, 0x17, 0xc0, 0x03, 0x02, 0x40, 0x41})
	if err != nil {
		t.Fatal(err)
	}
	if e := body.(*End); e.Error != nil {
		t.Fatalf("got %v", e)
	}
}

// TestTransferPayloadAliasesInput checks that the payload and delivery-tag of
// a decoded transfer point into the frame, so decoding copies no message.
func TestTransferPayloadAliasesInput(t *testing.T) {
	frame := AppendFrame(nil, TypeAMQP, 0, &Transfer{Handle: 0, HasDeliveryID: true, DeliveryTag: []byte("t"), HasFormat: true}, []byte("payload"))
	body, payload, err := ParseBody(TypeAMQP, frame[HeaderSize:])
	if err != nil {
		t.Fatal(err)
	}
	frame[len(frame)-1] = '!'
	frame[HeaderSize+10] = 'T' // the tag's byte
	if string(payload) != "payloa!" || string(body.(*Transfer).DeliveryTag) != "T" {
		t.Fatalf("payload %q tag %q do not alias the frame", payload, body.(*Transfer).DeliveryTag)
	}
}

func TestParseMessageErrors(t *testing.T) {
	header := (&MessageHeader{Durable: true}).Append(nil)
	props := must((&Properties{MessageID: "m"}).Append(nil))
	data := AppendData(nil, []byte("x"))
	value := must(encoding.AppendValue(encoding.AppendDescriptor(nil, encoding.DescAMQPValue), "v"))
	seq := must(encoding.AppendValue(encoding.AppendDescriptor(nil, encoding.DescAMQPSequence), encoding.List{}))
	footer := must(AppendMapSection(nil, encoding.DescFooter, encoding.Map{{Key: encoding.Symbol("k"), Value: nil}}))
	tests := []struct {
		name     string
		sections [][]byte
	}{
		{"properties before header", [][]byte{props, header, data}},
		{"two headers", [][]byte{header, header, data}},
		{"two properties", [][]byte{props, props, data}},
		{"data after footer", [][]byte{data, footer, data}},
		{"two footers", [][]byte{data, footer, footer}},
		{"data then amqp-value", [][]byte{data, value}},
		{"amqp-value then data", [][]byte{value, data}},
		{"two amqp-values", [][]byte{value, value}},
		{"amqp-sequence then data", [][]byte{seq, data}},
		{"unknown section", [][]byte{{0x00, 0x53, 0x79, 0x45}}},
		{"a performative is not a section", [][]byte{{0x00, 0x53, 0x10, 0x45}}},
		{"not described", [][]byte{data, {0xa1, 0x01, 'x'}}},
		{"truncated data section", [][]byte{data[:len(data)-1]}},
		{"invalid code in a section", [][]byte{{0x00, 0x53, 0x77, 0x46}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Join(tc.sections, nil)
			if m, err := ParseMessage(b); !errors.Is(err, ErrMessage) {
				t.Fatalf("ParseMessage(% x) = %+v, %v; want ErrMessage", b, m, err)
			}
		})
	}
}

// TestParseMessageBare checks which sections Bare covers (§3.2: properties,
// application-properties and application-data) and that it is the input itself.
func TestParseMessageBare(t *testing.T) {
	header := (&MessageHeader{Durable: true}).Append(nil)
	ma := must(AppendMapSection(nil, encoding.DescMessageAnnotations, encoding.Map{{Key: encoding.Symbol("x-opt-a"), Value: int32(1)}}))
	props := must((&Properties{MessageID: uint64(7)}).Append(nil))
	ap := must(AppendMapSection(nil, encoding.DescApplicationProperties, encoding.Map{{Key: "k", Value: "v"}}))
	data := AppendData(nil, []byte("hello"))
	footer := must(AppendMapSection(nil, encoding.DescFooter, encoding.Map{{Key: encoding.Symbol("k"), Value: nil}}))
	tests := []struct {
		name     string
		sections [][]byte
		bare     [][]byte
	}{
		{"body only", [][]byte{data}, [][]byte{data}},
		{"annotated", [][]byte{header, ma, data, footer}, [][]byte{data}},
		{"everything", [][]byte{header, ma, props, ap, data, data, footer}, [][]byte{props, ap, data, data}},
		{"application-properties without body", [][]byte{header, ap}, [][]byte{ap}},
		{"header only", [][]byte{header}, nil},
		{"empty", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := bytes.Join(tc.sections, nil)
			m, err := ParseMessage(in)
			if err != nil {
				t.Fatal(err)
			}
			want := bytes.Join(tc.bare, nil)
			if !bytes.Equal(m.Bare, want) {
				t.Fatalf("Bare % x\nwant % x", m.Bare, want)
			}
			if len(want) > 0 && !aliases(in, m.Bare) {
				t.Fatal("Bare is a copy, not the input")
			}
		})
	}
}

// aliases reports whether sub is a slice of b's backing array.
func aliases(b, sub []byte) bool {
	if len(sub) == 0 || len(b) == 0 {
		return false
	}
	for i := range b {
		if &b[i] == &sub[0] {
			return len(b)-i >= len(sub)
		}
	}
	return false
}

// TestParseMessageNonCanonical keeps a section a client wrote in a wide form
// (go-amqp writes the header as a list32) byte for byte.
func TestParseMessageNonCanonical(t *testing.T) {
	// header list32: durable true, priority null, ttl uint 30000.
	header := []byte{0x00, 0x53, 0x70, 0xd0, 0, 0, 0, 0x0b, 0, 0, 0, 3, 0x41, 0x40, 0x70, 0, 0, 0x75, 0x30}
	data := AppendData(nil, []byte("x"))
	m, err := ParseMessage(append(append([]byte{}, header...), data...))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Header, header) || !bytes.Equal(m.Bare, data) {
		t.Fatalf("%+v", m)
	}
	h, err := DecodeHeader(m.Header)
	if err != nil || h != (MessageHeader{Durable: true, Priority: 4, TTL: 30000}) {
		t.Fatalf("DecodeHeader = %+v, %v", h, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
