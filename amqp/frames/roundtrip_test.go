package frames

import (
	"bytes"
	"testing"

	"github.com/amqpemu/amqpemu/amqp/encoding"
)

func ptr[T any](v T) *T { return &v }

var testError = &Error{
	Condition:   ErrCondNotFound,
	Description: "no queue /queue/x",
	Info:        encoding.Map{{Key: encoding.Symbol("address"), Value: "/queue/x"}},
}

var fullSource = &Source{
	Address:               "/queue/cap1",
	Durable:               2,
	ExpiryPolicy:          ExpiryNever,
	Timeout:               30,
	Dynamic:               true,
	DynamicNodeProperties: encoding.Map{{Key: encoding.Symbol("lifetime-policy"), Value: &encoding.Described{Descriptor: encoding.DescDeleteOnClose, Value: encoding.List{}}}},
	DistributionMode:      DistributionCopy,
	Filter: encoding.Map{{Key: encoding.Symbol("apache.org:selector-filter:string"),
		Value: &encoding.Described{Descriptor: uint64(0x0000468c00000004), Value: "color = 'red'"}}},
	DefaultOutcome: &Modified{DeliveryFailed: true},
	Outcomes:       []encoding.Symbol{"amqp:accepted:list", "amqp:rejected:list"},
	Capabilities:   []encoding.Symbol{"queue"},
}

var fullTarget = &Target{
	Address:               "/queue/cap2",
	Durable:               1,
	ExpiryPolicy:          ExpiryLinkDetach,
	Timeout:               5,
	Dynamic:               true,
	DynamicNodeProperties: encoding.Map{{Key: encoding.Symbol("x"), Value: int64(1)}},
	Capabilities:          []encoding.Symbol{"topic", "shared"},
}

// bodies holds every performative and SASL frame, each with every field set,
// and each again with only its mandatory fields, so both the written and the
// omitted (default) form of every field round-trip. Values are in the form
// the decoder produces: a present-but-empty list or map decodes as nil, and a
// terminus expiry-policy as session-end when absent.
var bodies = []struct {
	name string
	typ  uint8
	body Body
}{
	{"open full", TypeAMQP, &Open{
		ContainerID: "c1", Hostname: "localhost", MaxFrameSize: 65536, ChannelMax: 255, IdleTimeOut: 30000,
		OutgoingLocales: []encoding.Symbol{"en-US"}, IncomingLocales: []encoding.Symbol{"en-US", "de-DE"},
		OfferedCapabilities: []encoding.Symbol{"ANONYMOUS-RELAY"}, DesiredCapabilities: []encoding.Symbol{"DELAYED_DELIVERY"},
		Properties: encoding.Map{{Key: encoding.Symbol("product"), Value: "amqpemu"}, {Key: encoding.Symbol("version"), Value: "0.1"}},
	}},
	{"open minimal", TypeAMQP, &Open{ContainerID: "c", MaxFrameSize: 4294967295, ChannelMax: 65535}},
	{"begin full", TypeAMQP, &Begin{
		RemoteChannel: ptr[uint16](7), NextOutgoingID: 4294967295, IncomingWindow: 5000, OutgoingWindow: 0,
		HandleMax: 1023, OfferedCapabilities: []encoding.Symbol{"a"}, DesiredCapabilities: []encoding.Symbol{"b"},
		Properties: encoding.Map{{Key: encoding.Symbol("k"), Value: true}},
	}},
	{"begin minimal", TypeAMQP, &Begin{NextOutgoingID: 1, IncomingWindow: 2, OutgoingWindow: 3, HandleMax: 4294967295}},
	{"attach full receiver", TypeAMQP, &Attach{
		Name: "link-1", Handle: 3, Role: RoleReceiver, SndSettleMode: SndUnsettled, RcvSettleMode: RcvSecond,
		Source: fullSource, Target: fullTarget,
		Unsettled:           encoding.Map{{Key: []byte{0, 0, 0, 1}, Value: &encoding.Described{Descriptor: encoding.DescAccepted, Value: encoding.List{}}}},
		IncompleteUnsettled: true, InitialDeliveryCount: ptr[uint32](0), MaxMessageSize: 1 << 20,
		OfferedCapabilities: []encoding.Symbol{"SHARED-SUBS"}, DesiredCapabilities: []encoding.Symbol{"x"},
		Properties: encoding.Map{{Key: encoding.Symbol("com.microsoft:timeout"), Value: uint32(60000)}},
	}},
	{"attach minimal sender", TypeAMQP, &Attach{Name: "l", Handle: 0, Role: RoleSender, SndSettleMode: SndMixed, RcvSettleMode: RcvFirst}},
	{"attach refused: null source", TypeAMQP, &Attach{Name: "l", Handle: 1, Role: RoleSender, SndSettleMode: SndSettled,
		Target: &Target{Address: "q", ExpiryPolicy: ExpirySessionEnd}}},
	{"flow full", TypeAMQP, &Flow{
		NextIncomingID: ptr[uint32](10), IncomingWindow: 2048, NextOutgoingID: 11, OutgoingWindow: 4294967295,
		Handle: ptr[uint32](0), DeliveryCount: ptr[uint32](4294967290), LinkCredit: ptr[uint32](1000),
		Available: ptr[uint32](3), Drain: true, Echo: true, Properties: encoding.Map{{Key: encoding.Symbol("p"), Value: nil}},
	}},
	{"flow session only", TypeAMQP, &Flow{IncomingWindow: 1, NextOutgoingID: 2, OutgoingWindow: 3}},
	{"transfer first frame", TypeAMQP, &Transfer{
		Handle: 1, DeliveryID: 4294967295, HasDeliveryID: true, DeliveryTag: []byte("tag-1"),
		MessageFormat: 0, HasFormat: true, Settled: false, HasSettled: true, More: true,
		RcvSettleMode: ptr(RcvSecond), State: &Received{SectionNumber: 2, SectionOffset: 100},
		Resume: true, Aborted: true, Batchable: true,
	}},
	{"transfer continuation", TypeAMQP, &Transfer{Handle: 1, More: true}},
	{"transfer settled", TypeAMQP, &Transfer{Handle: 0, DeliveryID: 0, HasDeliveryID: true, DeliveryTag: []byte{}, HasFormat: true, Settled: true, HasSettled: true}},
	{"transfer vendor message-format", TypeAMQP, &Transfer{Handle: 0, HasDeliveryID: true, DeliveryTag: []byte{1}, MessageFormat: 0x80013700, HasFormat: true}},
	{"disposition range rejected", TypeAMQP, &Disposition{Role: RoleReceiver, First: 0, Last: ptr[uint32](3), Settled: true, State: &Rejected{Error: testError}, Batchable: true}},
	{"disposition minimal", TypeAMQP, &Disposition{Role: RoleSender, First: 9}},
	{"detach closed with error", TypeAMQP, &Detach{Handle: 2, Closed: true, Error: testError}},
	{"detach minimal", TypeAMQP, &Detach{Handle: 0}},
	{"end with error", TypeAMQP, &End{Error: &Error{Condition: ErrCondWindowViolation}}},
	{"end", TypeAMQP, &End{}},
	{"close with error", TypeAMQP, &Close{Error: &Error{Condition: ErrCondConnectionForced, Description: "shutdown"}}},
	{"close", TypeAMQP, &Close{}},
	{"sasl-mechanisms", TypeSASL, &SASLMechanisms{Mechanisms: []encoding.Symbol{"ANONYMOUS", "PLAIN"}}},
	{"sasl-mechanisms none", TypeSASL, &SASLMechanisms{}},
	{"sasl-init full", TypeSASL, &SASLInit{Mechanism: "PLAIN", InitialResponse: []byte("\x00user\x00pass"), Hostname: "example.com"}},
	{"sasl-init minimal", TypeSASL, &SASLInit{Mechanism: "ANONYMOUS"}},
	{"sasl-challenge", TypeSASL, &SASLChallenge{Challenge: []byte("nonce")}},
	{"sasl-challenge empty", TypeSASL, &SASLChallenge{Challenge: []byte{}}},
	{"sasl-response", TypeSASL, &SASLResponse{Response: []byte("answer")}},
	{"sasl-outcome ok", TypeSASL, &SASLOutcome{Code: SASLOK}},
	{"sasl-outcome auth with data", TypeSASL, &SASLOutcome{Code: SASLAuth, AdditionalData: []byte("why")}},
}

func TestBodyRoundTrip(t *testing.T) {
	for _, tc := range bodies {
		t.Run(tc.name, func(t *testing.T) {
			payload := []byte(nil)
			if _, ok := tc.body.(*Transfer); ok {
				payload = []byte{0x00, 0x53, 0x75, 0xa0, 0x01, 0x2a} // a data section
			}
			frame := AppendFrame([]byte{0xee}, tc.typ, 5, tc.body, payload)[1:]
			h, err := ParseHeader(frame)
			if err != nil {
				t.Fatal(err)
			}
			if h != (Header{Size: uint32(len(frame)), DataOffset: 2, Type: tc.typ, Channel: 5}) {
				t.Fatalf("header %+v for a %d-byte frame", h, len(frame))
			}
			got, rest, err := ParseBody(h.Type, frame[HeaderSize:])
			if err != nil {
				t.Fatalf("ParseBody(% x): %v", frame[HeaderSize:], err)
			}
			if !deepEqual(got, tc.body) {
				t.Fatalf("round trip\n got %#v\nwant %#v", got, tc.body)
			}
			if !bytes.Equal(rest, payload) {
				t.Fatalf("payload % x, want % x", rest, payload)
			}
			if got.String() == "" {
				t.Fatal("empty String()")
			}
		})
	}
}

// frameVectors pins the exact encoding of frames whose bytes matter to peers.
var frameVectors = []struct {
	name string
	body Body
	b    []byte // body bytes, after the frame header
}{
	// Transfer: handle 0, delivery-id 0 (uint0), tag vbin8 "1", message-format
	// uint0. Clients (go-amqp, rhea) reject a first frame without message-format,
	// so it must be written even though it is 0.
	{"transfer message-format 0 is written", &Transfer{Handle: 0, HasDeliveryID: true, DeliveryTag: []byte("1"), HasFormat: true},
		[]byte{0x00, 0x53, 0x14, 0xc0, 0x07, 0x04, 0x43, 0x43, 0xa0, 0x01, '1', 0x43}},
	// Continuation: only the handle; every trailing null is dropped.
	{"transfer continuation is handle only", &Transfer{Handle: 2, More: true},
		[]byte{0x00, 0x53, 0x14, 0xc0, 0x08, 0x06, 0x52, 0x02, 0x40, 0x40, 0x40, 0x40, 0x41}},
	// Disposition: receiver, first 3, settled, accepted (00 53 24 45).
	{"disposition accepted", &Disposition{Role: RoleReceiver, First: 3, Settled: true, State: &Accepted{}},
		[]byte{0x00, 0x53, 0x15, 0xc0, 0x0a, 0x05, 0x41, 0x52, 0x03, 0x40, 0x41, 0x00, 0x53, 0x24, 0x45}},
	// Close without error: list0.
	{"close empty", &Close{}, []byte{0x00, 0x53, 0x18, 0x45}},
	// Flow on a link: the optional fields that are set are written as uints.
	{"flow link credit", &Flow{IncomingWindow: 100, NextOutgoingID: 0, OutgoingWindow: 100, Handle: ptr[uint32](0), DeliveryCount: ptr[uint32](0), LinkCredit: ptr[uint32](20)},
		[]byte{0x00, 0x53, 0x13, 0xc0, 0x0b, 0x07, 0x40, 0x52, 0x64, 0x43, 0x52, 0x64, 0x43, 0x43, 0x52, 0x14}},
	// sasl-outcome ok: code ubyte 0.
	{"sasl-outcome ok", &SASLOutcome{Code: SASLOK}, []byte{0x00, 0x53, 0x44, 0xc0, 0x03, 0x01, 0x50, 0x00}},
}

func TestFrameVectors(t *testing.T) {
	for _, tc := range frameVectors {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.body.Append(nil); !bytes.Equal(got, tc.b) {
				t.Fatalf("Append\n got % x\nwant % x", got, tc.b)
			}
			typ := TypeAMQP
			if _, ok := tc.body.(*SASLOutcome); ok {
				typ = TypeSASL
			}
			got, _, err := ParseBody(typ, tc.b)
			if err != nil || !deepEqual(got, tc.body) {
				t.Fatalf("ParseBody = %#v, %v; want %#v", got, err, tc.body)
			}
		})
	}
}

// TestDeliveryStates round-trips every delivery state through the three places
// one is carried: a disposition, a transfer and a source's default-outcome.
func TestDeliveryStates(t *testing.T) {
	states := []struct {
		name  string
		state DeliveryState
		b     []byte // its encoding
	}{
		{"received", &Received{SectionNumber: 1, SectionOffset: 300},
			[]byte{0x00, 0x53, 0x23, 0xc0, 0x0c, 0x02, 0x52, 0x01, 0x80, 0, 0, 0, 0, 0, 0, 0x01, 0x2c}},
		{"received at zero", &Received{}, []byte{0x00, 0x53, 0x23, 0xc0, 0x03, 0x02, 0x43, 0x44}},
		{"accepted", &Accepted{}, []byte{0x00, 0x53, 0x24, 0x45}},
		{"rejected without error", &Rejected{}, []byte{0x00, 0x53, 0x25, 0x45}},
		{"rejected with error", &Rejected{Error: &Error{Condition: ErrCondDecodeError}},
			// rejected list8 (size 26) holding error list8 (size 20) holding sym8 (17 bytes).
			[]byte{0x00, 0x53, 0x25, 0xc0, 0x1a, 0x01, 0x00, 0x53, 0x1d, 0xc0, 0x14, 0x01, 0xa3, 0x11,
				'a', 'm', 'q', 'p', ':', 'd', 'e', 'c', 'o', 'd', 'e', '-', 'e', 'r', 'r', 'o', 'r'}},
		{"released", &Released{}, []byte{0x00, 0x53, 0x26, 0x45}},
		{"modified", &Modified{DeliveryFailed: true, UndeliverableHere: true,
			MessageAnnotations: encoding.Map{{Key: encoding.Symbol("x-opt-n"), Value: int32(1)}}},
			// two trues, then a map8 (size 12) of one symbol key and a smallint.
			[]byte{0x00, 0x53, 0x27, 0xc0, 0x11, 0x03, 0x41, 0x41, 0xc1, 0x0c, 0x02, 0xa3, 0x07,
				'x', '-', 'o', 'p', 't', '-', 'n', 0x54, 0x01}},
		{"modified empty", &Modified{}, []byte{0x00, 0x53, 0x27, 0x45}},
		// transactional-state (0x34): txn-id, outcome accepted. Kept raw.
		{"transactional state kept raw", &UnknownState{Raw: []byte{0x00, 0x53, 0x34, 0xc0, 0x0a, 0x02,
			0xa0, 0x03, 't', 'x', '1', 0x00, 0x53, 0x24, 0x45}}, nil},
		{"vendor state kept raw", &UnknownState{Raw: []byte{0x00, 0xa3, 0x03, 'x', ':', 's', 0x45}}, nil},
	}
	for _, tc := range states {
		t.Run(tc.name, func(t *testing.T) {
			enc := tc.state.Append(nil)
			if tc.b != nil && !bytes.Equal(enc, tc.b) {
				t.Fatalf("Append\n got % x\nwant % x", enc, tc.b)
			}
			got, err := DecodeDeliveryState(enc)
			if err != nil || !deepEqual(got, tc.state) {
				t.Fatalf("DecodeDeliveryState = %#v, %v; want %#v", got, err, tc.state)
			}
			for _, body := range []Body{
				&Disposition{Role: RoleReceiver, First: 1, Settled: true, State: tc.state},
				&Transfer{Handle: 0, State: tc.state},
				&Attach{Name: "n", Role: RoleSender, SndSettleMode: SndMixed,
					Source: &Source{ExpiryPolicy: ExpirySessionEnd, DefaultOutcome: tc.state}},
			} {
				again, _, err := ParseBody(TypeAMQP, body.Append(nil))
				if err != nil || !deepEqual(again, body) {
					t.Fatalf("in %T: got %#v, %v", body, again, err)
				}
			}
		})
	}
}

func TestDeliveryStateErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"not described", []byte{0x45}},
		{"received without section-offset", []byte{0x00, 0x53, 0x23, 0xc0, 0x02, 0x01, 0x43}},
		{"rejected error of the wrong type", []byte{0x00, 0x53, 0x25, 0xc0, 0x02, 0x01, 0x41}},
		{"accepted holding a map", []byte{0x00, 0x53, 0x24, 0xc1, 0x01, 0x00}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := DecodeDeliveryState(tc.b); err == nil {
				t.Fatalf("DecodeDeliveryState(% x) = %v, want an error", tc.b, s)
			}
		})
	}
}

func TestTerminiAndError(t *testing.T) {
	t.Run("source full", func(t *testing.T) {
		got, err := DecodeSource(fullSource.Append(nil))
		if err != nil || !deepEqual(got, fullSource) {
			t.Fatalf("got %#v, %v", got, err)
		}
	})
	t.Run("target full", func(t *testing.T) {
		got, err := DecodeTarget(fullTarget.Append(nil))
		if err != nil || !deepEqual(got, fullTarget) {
			t.Fatalf("got %#v, %v", got, err)
		}
	})
	t.Run("empty source is list0 and decodes to the defaults", func(t *testing.T) {
		b := (&Source{}).Append(nil)
		if !bytes.Equal(b, []byte{0x00, 0x53, 0x28, 0x45}) {
			t.Fatalf("% x", b)
		}
		got, err := DecodeSource(b)
		if err != nil || !deepEqual(got, &Source{ExpiryPolicy: ExpirySessionEnd}) {
			t.Fatalf("got %#v, %v", got, err)
		}
	})
	t.Run("session-end is the default and left out", func(t *testing.T) {
		b := (&Target{Address: "q", ExpiryPolicy: ExpirySessionEnd}).Append(nil)
		if !bytes.Equal(b, []byte{0x00, 0x53, 0x29, 0xc0, 0x04, 0x01, 0xa1, 0x01, 'q'}) {
			t.Fatalf("% x", b)
		}
	})
	t.Run("error", func(t *testing.T) {
		got, err := DecodeError(testError.Append(nil))
		if err != nil || !deepEqual(got, testError) {
			t.Fatalf("got %#v, %v", got, err)
		}
		if got.Error() != "amqp:not-found: no queue /queue/x" {
			t.Fatal(got.Error())
		}
	})
	t.Run("source with a target descriptor", func(t *testing.T) {
		if _, err := DecodeSource(fullTarget.Append(nil)); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("error without condition", func(t *testing.T) {
		if _, err := DecodeError([]byte{0x00, 0x53, 0x1d, 0x45}); err == nil {
			t.Fatal("no error")
		}
	})
}

// TestSections round-trips each message section through its encoder and
// decoder, then checks ParseMessage splits the concatenation back into them.
func TestSections(t *testing.T) {
	header := MessageHeader{Durable: true, Priority: 9, TTL: 30000, FirstAcquirer: true, DeliveryCount: 2}
	// application-properties as a vendor sends them, including a described
	// com.microsoft:datetime-offset (the .NET DateTimeOffset) value.
	appProps := encoding.Map{
		{Key: "topic", Value: "/a1PK/dev1/user/update"},
		{Key: "messageId", Value: int64(1700000000000000001)},
		{Key: "generateTime", Value: int64(1700000000123)},
		{Key: "enqueued", Value: &encoding.Described{Descriptor: encoding.Symbol("com.microsoft:datetime-offset"), Value: int64(638356000000000000)}},
	}
	t.Run("header", func(t *testing.T) {
		for _, h := range []MessageHeader{header, {Priority: 4}, {Priority: 0}} {
			got, err := DecodeHeader(h.Append(nil))
			if err != nil || got != h {
				t.Fatalf("DecodeHeader = %+v, %v; want %+v", got, err, h)
			}
		}
		if b := (&MessageHeader{Priority: 4}).Append(nil); !bytes.Equal(b, []byte{0x00, 0x53, 0x70, 0x45}) {
			t.Fatalf("default header % x, want list0", b)
		}
	})
	t.Run("properties", func(t *testing.T) {
		ids := []struct {
			name string
			id   any
		}{
			{"ulong id", uint64(42)},
			{"uuid id", encoding.UUID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
			{"binary id", []byte{0xde, 0xad}},
			{"string id", "msg-1"},
			{"no id", nil},
		}
		for _, id := range ids {
			t.Run(id.name, func(t *testing.T) {
				p := Properties{
					MessageID: id.id, UserID: []byte("user"), To: "/queue/a", Subject: "s", ReplyTo: "/queue/r",
					CorrelationID: id.id, ContentType: "application/json", ContentEncoding: "gzip",
					AbsoluteExpiryTime: 1700000060000, CreationTime: 1700000000000,
					GroupID: "g", GroupSequence: 7, ReplyToGroupID: "rg",
				}
				b, err := p.Append(nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := DecodeProperties(b)
				if err != nil || !deepEqual(got, p) {
					t.Fatalf("got %#v, %v", got, err)
				}
			})
		}
	})
	t.Run("application-properties", func(t *testing.T) {
		b, err := AppendMapSection(nil, encoding.DescApplicationProperties, appProps)
		if err != nil {
			t.Fatal(err)
		}
		if b[3] != 0xc1 {
			t.Fatalf("small application-properties not a map8: % x", b[:4])
		}
		got, err := DecodeAnnotatedMap(b)
		if err != nil || !deepEqual(got, appProps) {
			t.Fatalf("got %#v, %v", got, err)
		}
		d := got[3].Value.(*encoding.Described)
		if d.Descriptor != encoding.Symbol("com.microsoft:datetime-offset") || d.Value != int64(638356000000000000) {
			t.Fatalf("datetime-offset decoded as %v", d)
		}
	})
	t.Run("map sections", func(t *testing.T) {
		m := encoding.Map{{Key: encoding.Symbol("x-opt-partition-key"), Value: "dev1"}}
		for _, desc := range []uint64{encoding.DescDeliveryAnnotations, encoding.DescMessageAnnotations, encoding.DescFooter} {
			b, err := AppendMapSection(nil, desc, m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeAnnotatedMap(b)
			if err != nil || !deepEqual(got, m) {
				t.Fatalf("0x%02x: got %#v, %v", desc, got, err)
			}
		}
		for _, notMap := range [][]byte{
			AppendData(nil, []byte("x")),
			(&MessageHeader{}).Append(nil),
			(&Open{ContainerID: "c"}).Append(nil), // not a section at all
		} {
			if _, err := DecodeAnnotatedMap(notMap); err == nil {
				t.Fatalf("DecodeAnnotatedMap(% x) accepted a non-map section", notMap)
			}
		}
	})
	t.Run("data", func(t *testing.T) {
		for _, n := range []int{0, 255, 256, 70000} {
			p := bytes.Repeat([]byte{0x5a}, n)
			got, err := DataPayload(AppendData(nil, p))
			if err != nil || !bytes.Equal(got, p) {
				t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
			}
		}
	})
	t.Run("message", func(t *testing.T) {
		var parts [][]byte
		add := func(b []byte, err error) []byte {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, b)
			return b
		}
		h := add(header.Append(nil), nil)
		da := add(AppendMapSection(nil, encoding.DescDeliveryAnnotations, encoding.Map{{Key: encoding.Symbol("x-opt-da"), Value: true}}))
		ma := add(AppendMapSection(nil, encoding.DescMessageAnnotations, encoding.Map{{Key: encoding.Symbol("x-opt-ma"), Value: int32(1)}}))
		pr := add((&Properties{MessageID: "m1"}).Append(nil))
		ap := add(AppendMapSection(nil, encoding.DescApplicationProperties, appProps))
		d1 := add(AppendData(nil, []byte("part one")), nil)
		d2 := add(AppendData(nil, []byte("part two")), nil)
		ft := add(AppendMapSection(nil, encoding.DescFooter, encoding.Map{{Key: encoding.Symbol("x-opt-hash"), Value: []byte{1}}}))
		msg := bytes.Join(parts, nil)
		m, err := ParseMessage(msg)
		if err != nil {
			t.Fatal(err)
		}
		for name, pair := range map[string][2][]byte{
			"header": {m.Header, h}, "delivery-annotations": {m.DeliveryAnnotations, da},
			"message-annotations": {m.MessageAnnotations, ma}, "properties": {m.Properties, pr},
			"application-properties": {m.ApplicationProperties, ap}, "footer": {m.Footer, ft},
		} {
			if !bytes.Equal(pair[0], pair[1]) {
				t.Errorf("%s: % x, want % x", name, pair[0], pair[1])
			}
		}
		if len(m.Body) != 2 || !bytes.Equal(m.Body[0], d1) || !bytes.Equal(m.Body[1], d2) {
			t.Errorf("body %q", m.Body)
		}
		if want := bytes.Join([][]byte{pr, ap, d1, d2}, nil); !bytes.Equal(m.Bare, want) {
			t.Errorf("bare % x\nwant % x", m.Bare, want)
		}
	})
	t.Run("amqp-sequence and amqp-value bodies", func(t *testing.T) {
		seq := func(v encoding.List) []byte {
			b, _ := encoding.AppendValue(encoding.AppendDescriptor(nil, encoding.DescAMQPSequence), v)
			return b
		}
		s1, s2 := seq(encoding.List{int32(1), "a"}), seq(encoding.List{})
		m, err := ParseMessage(append(append([]byte{}, s1...), s2...))
		if err != nil || len(m.Body) != 2 || !bytes.Equal(m.Body[1], s2) || len(m.Bare) != len(s1)+len(s2) {
			t.Fatalf("amqp-sequence: %+v, %v", m, err)
		}
		val, _ := encoding.AppendValue(encoding.AppendDescriptor(nil, encoding.DescAMQPValue),
			encoding.Map{{Key: "k", Value: encoding.List{1.5, nil}}})
		m, err = ParseMessage(val)
		if err != nil || len(m.Body) != 1 || !bytes.Equal(m.Bare, val) {
			t.Fatalf("amqp-value: %+v, %v", m, err)
		}
	})
}
