package frames

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/amqpemu/amqpemu/amqp/encoding"
)

// FuzzFrame parses arbitrary bytes as a frame. It must never panic; a body it
// accepts must re-encode into a frame that parses to an equal body and the
// same payload, and that re-encoding must be a fixed point.
//
// Seeds (testdata/fuzz/FuzzFrame): every frame of every capture and every
// body of the round-trip table; see TestFuzzSeeds.
func FuzzFrame(f *testing.F) {
	f.Fuzz(checkFrameRoundTrip)
}

// checkFrameRoundTrip is FuzzFrame's property, shared with the regression table.
func checkFrameRoundTrip(t *testing.T, in []byte) {
	h, err := ParseHeader(in)
	if err != nil || int(h.Size) > len(in) {
		return
	}
	body, payload, err := ParseBody(h.Type, in[int(h.DataOffset)*4:h.Size])
	if err != nil || body == nil {
		return
	}
	_ = body.String()
	enc := AppendFrame(nil, h.Type, h.Channel, body, payload)
	h2, err := ParseHeader(enc)
	if err != nil || h2.Type != h.Type || h2.Channel != h.Channel || int(h2.Size) != len(enc) {
		t.Fatalf("re-encoded header %+v, %v; want type %d channel %d size %d", h2, err, h.Type, h.Channel, len(enc))
	}
	body2, payload2, err := ParseBody(h2.Type, enc[HeaderSize:])
	if err != nil {
		t.Fatalf("%v re-encoded as % x does not parse: %v", body, enc, err)
	}
	if !deepEqual(body, body2) || !bytes.Equal(payload, payload2) {
		t.Fatalf("round trip of % x\n got %#v\nwant %#v", in[:h.Size], body2, body)
	}
	if enc2 := AppendFrame(nil, h2.Type, h2.Channel, body2, payload2); !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not a fixed point:\n% x\n% x", enc, enc2)
	}
}

// TestFuzzRegressions replays, by name, frames the fuzzers failed on.
func TestFuzzRegressions(t *testing.T) {
	// begin declaring count fields: remote-channel 0x3030, ids 0x30303030,
	// outgoing-window uint0, handle-max, two arrays of one sym32 "0", then
	// the given properties.
	begin := func(count byte, props ...byte) []byte {
		body := append([]byte{0x00, 0x53, 0x11, 0xc0, 0x00, count,
			0x60, '0', '0', 0x70, '0', '0', '0', '0', 0x70, '0', '0', '0', '0', 0x43, 0x70, '0', '0', '0', '0',
			0xf0, 0, 0, 0, 0x0a, 0, 0, 0, 1, 0xb3, 0, 0, 0, 1, '0',
			0xf0, 0, 0, 0, 0x0a, 0, 0, 0, 1, 0xb3, 0, 0, 0, 1, '0'}, props...)
		body[4] = byte(len(body) - 5)
		return AppendFrame(nil, TypeAMQP, 0x3030, rawBody(body), nil)
	}
	tests := []struct {
		name    string
		in      []byte
		wantErr bool
	}{
		// Found by FuzzFrame on eb5f436 (testdata/fuzz/FuzzFrame/ee3f18d9d7b5ef1d,
		// exactly this input): its properties map8 declares 4 bytes more than
		// its elements, and the list 48 fields where it holds 8. Both are now
		// refused; eb5f436 accepted them.
		{"fuzz ee3f18d9d7b5ef1d as found", begin(0x30, 0xc1, 0x05, 0x00, '0', '0', '0', '0'), true},
		// What failed there: an empty map decoded as Map{}, was written back
		// as null and decoded as nil. Empty maps and symbol arrays now decode
		// as nil.
		{"fuzz ee3f18d9d7b5ef1d: empty properties map", begin(8, 0xc1, 0x01, 0x00), false},
		{"fuzz ee3f18d9d7b5ef1d: map8 with bytes after its elements", begin(8, 0xc1, 0x05, 0x00, '0', '0', '0', '0'), true},
		{"fuzz ee3f18d9d7b5ef1d: list declaring 48 fields, holding 8", begin(0x30, 0xc1, 0x01, 0x00), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHeader(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := ParseBody(h.Type, tc.in[HeaderSize:]); (err != nil) != tc.wantErr {
				t.Fatalf("ParseBody error = %v, want error %t", err, tc.wantErr)
			}
			checkFrameRoundTrip(t, tc.in)
		})
	}
}

// rawBody is a Body already encoded, to build frames a Body type cannot.
type rawBody []byte

func (b rawBody) Append(dst []byte) []byte { return append(dst, b...) }
func (b rawBody) String() string           { return "raw" }

// FuzzMessage splits arbitrary bytes into message sections. It must never
// panic; when it succeeds the sections in order are exactly the input, and
// Bare is the slice of the input from properties to the last body section.
// Each section's decoder must then not panic either.
//
// Seeds (testdata/fuzz/FuzzMessage): every delivery of every capture,
// reassembled, and the messages of sampleMessages.
func FuzzMessage(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ParseMessage(in)
		if err != nil {
			return
		}
		before := [][]byte{m.Header, m.DeliveryAnnotations, m.MessageAnnotations}
		bare := append([][]byte{m.Properties, m.ApplicationProperties}, m.Body...)
		all := append(append(append([][]byte{}, before...), bare...), m.Footer)
		if got := bytes.Join(all, nil); !bytes.Equal(got, in) {
			t.Fatalf("sections\n% x\nare not the input\n% x", got, in)
		}
		start, want := len(bytes.Join(before, nil)), bytes.Join(bare, nil)
		if !bytes.Equal(m.Bare, want) {
			t.Fatalf("Bare % x, want % x", m.Bare, want)
		}
		if len(want) > 0 && &m.Bare[0] != &in[start] {
			t.Fatal("Bare is not a slice of the input")
		}
		if m.Header != nil {
			_, _ = DecodeHeader(m.Header)
		}
		if m.Properties != nil {
			_, _ = DecodeProperties(m.Properties)
		}
		for _, s := range [][]byte{m.DeliveryAnnotations, m.MessageAnnotations, m.ApplicationProperties, m.Footer} {
			if s != nil {
				_, _ = DecodeAnnotatedMap(s)
			}
		}
		for _, s := range m.Body {
			_, _ = DataPayload(s)
		}
	})
}

// sampleMessages are hand-built messages for the FuzzMessage seeds: every
// section, each body kind, and an annotated vendor message.
func sampleMessages(t testing.TB) map[string][]byte {
	t.Helper()
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	header := (&MessageHeader{Durable: true, Priority: 7, TTL: 1000, FirstAcquirer: true, DeliveryCount: 1}).Append(nil)
	da := must(AppendMapSection(nil, encoding.DescDeliveryAnnotations, encoding.Map{{Key: encoding.Symbol("x-opt-lock"), Value: encoding.UUID{1}}}))
	ma := must(AppendMapSection(nil, encoding.DescMessageAnnotations, encoding.Map{{Key: encoding.Symbol("x-opt-partition-key"), Value: "dev1"}}))
	props := must((&Properties{MessageID: "1700000000000000001", To: "/queue/a", ContentType: "application/json", CreationTime: 1700000000000}).Append(nil))
	ap := must(AppendMapSection(nil, encoding.DescApplicationProperties, encoding.Map{
		{Key: "topic", Value: "/a1PK/dev1/user/update"}, {Key: "generateTime", Value: int64(1700000000123)},
		{Key: "offset", Value: &encoding.Described{Descriptor: encoding.Symbol("com.microsoft:datetime-offset"), Value: int64(638356000000000000)}},
	}))
	seq := must(encoding.AppendValue(encoding.AppendDescriptor(nil, encoding.DescAMQPSequence), encoding.List{int32(1), "two"}))
	val := must(encoding.AppendValue(encoding.AppendDescriptor(nil, encoding.DescAMQPValue), encoding.Map{{Key: "k", Value: encoding.List{1.5, nil}}}))
	footer := must(AppendMapSection(nil, encoding.DescFooter, encoding.Map{{Key: encoding.Symbol("x-opt-hash"), Value: []byte{1, 2}}}))
	return map[string][]byte{
		"every-section":  cat(header, da, ma, props, ap, AppendData(nil, []byte("a")), AppendData(nil, []byte("b")), footer),
		"vendor":         cat(props, ap, AppendData(nil, bytes.Repeat([]byte("x"), 200))),
		"amqp-sequences": cat(header, seq, seq),
		"amqp-value":     cat(ma, val, footer),
	}
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpora under testdata/fuzz")

// TestFuzzSeeds checks that the seed corpora hold every capture frame,
// delivery and message section, and every table case; with -update-seeds it
// writes them. Crashers the fuzzer adds keep their own names and are left
// alone. FuzzDecode's corpus lives in the encoding package: it gets every
// frame body and message section here, since only this package splits them.
func TestFuzzSeeds(t *testing.T) {
	frames, messages, values := map[string][]byte{}, map[string][]byte{}, map[string][]byte{}
	for _, file := range captureFiles(t) {
		base := strings.TrimSuffix(file, ".bin")
		for i, fr := range readCapture(t, file) {
			frames[fmt.Sprintf("capture-%s-frame-%02d", base, i)] = fr.raw
			if body := fr.body(); len(body) > 0 {
				values[fmt.Sprintf("capture-%s-frame-%02d-body", base, i)] = body
			}
		}
		for _, d := range deliveries(t, readCapture(t, file)) {
			name := fmt.Sprintf("capture-%s-delivery-%d", base, d.id)
			messages[name] = d.payload
			m, err := ParseMessage(d.payload)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range append([][]byte{m.Header, m.DeliveryAnnotations, m.MessageAnnotations, m.Properties, m.ApplicationProperties, m.Footer}, m.Body...) {
				if s != nil {
					values[fmt.Sprintf("%s-section-%d", name, i)] = s
				}
			}
		}
	}
	for _, tc := range bodies {
		frames["body-"+tc.name] = AppendFrame(nil, tc.typ, 1, tc.body, nil)
	}
	for _, tc := range frameVectors {
		frames["vector-"+tc.name] = AppendFrame(nil, TypeAMQP, 0, tc.body, []byte{0x00, 0x53, 0x75, 0xa0, 0x00})
	}
	for name, m := range sampleMessages(t) {
		messages["sample-"+name] = m
	}
	seedCorpus(t, "testdata/fuzz/FuzzFrame", frames)
	seedCorpus(t, "testdata/fuzz/FuzzMessage", messages)
	seedCorpus(t, "../encoding/testdata/fuzz/FuzzDecode", values)
}

var unsafeName = regexp.MustCompile(`[^a-z0-9.-]+`)

// seedCorpus writes (with -update-seeds) or checks one seed file per input,
// in the format of go test's corpus files.
func seedCorpus(t *testing.T, dir string, seeds map[string][]byte) {
	t.Helper()
	if *updateSeeds {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range seeds {
		path := filepath.Join(dir, strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(name), "-"), "-"))
		content := []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n")
		if *updateSeeds {
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, content) {
			t.Errorf("seed %s missing or stale (%v): run go test ./amqp/frames -run TestFuzzSeeds -update-seeds", path, err)
		}
	}
}
