package frame

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

var testLimits = Limits{MaxHeader: 256, MaxFrame: 1024}

// vectors are raw bytes and the frames they hold; each also re-encodes to
// canon (raw itself when canon is empty).
var vectors = []struct {
	name  string
	raw   string
	canon string
	want  []Frame
}{
	{name: "connect as stomp.py sends it: unescaped, colon in value",
		raw:  "STOMP\naccept-version:1.2\nhost:localhost\nlogin:c|authMode=aksign,timestamp=1|\npasscode:a+b/c=\nheart-beat:0,300\n\n\x00",
		want: []Frame{{Command: Stomp, Headers: []Header{{"accept-version", "1.2"}, {"host", "localhost"}, {"login", "c|authMode=aksign,timestamp=1|"}, {"passcode", "a+b/c="}, {"heart-beat", "0,300"}}}}},
	{name: "connect keeps backslashes and colons raw",
		raw:  "CONNECT\nlogin:a\\c:b\n\n\x00",
		want: []Frame{{Command: Connect, Headers: []Header{{"login", "a\\c:b"}}}}},
	{name: "1.2 escapes in a subscribe",
		raw:  "SUBSCRIBE\nid:a\\cb\\\\c\\nd\\re\ndestination:/topic/#\n\n\x00",
		want: []Frame{{Command: Subscribe, Headers: []Header{{"id", "a:b\\c\nd\re"}, {"destination", "/topic/#"}}}}},
	{name: "escaped key",
		raw:  "ACK\nx\\cy:1\n\n\x00",
		want: []Frame{{Command: Ack, Headers: []Header{{"x:y", "1"}}}}},
	{name: "raw colon in an escaped value is tolerated, re-encoded escaped",
		raw:   "ACK\nid:a:b\n\n\x00",
		canon: "ACK\nid:a\\cb\n\n\x00",
		want:  []Frame{{Command: Ack, Headers: []Header{{"id", "a:b"}}}}},
	{name: "repeated header: all kept, first wins in Get",
		raw:  "SEND\nfoo:1\nfoo:2\n\n\x00",
		want: []Frame{{Command: Send, Headers: []Header{{"foo", "1"}, {"foo", "2"}}}}},
	{name: "CRLF line ends and heart-beats between frames",
		raw:   "\n\r\n\nDISCONNECT\r\nreceipt:77\r\n\r\n\x00\r\n\nACK\nid:1\n\n\x00\n",
		canon: "DISCONNECT\nreceipt:77\n\n\x00ACK\nid:1\n\n\x00",
		want:  []Frame{{Command: Disconnect, Headers: []Header{{"receipt", "77"}}}, {Command: Ack, Headers: []Header{{"id", "1"}}}}},
	{name: "body up to the NUL",
		raw:  "SEND\ndestination:/q\n\nhello\x00",
		want: []Frame{{Command: Send, Headers: []Header{{"destination", "/q"}}, Body: []byte("hello")}}},
	{name: "content-length body may hold NULs",
		raw:  "MESSAGE\ncontent-length:5\n\na\x00b\x00c\x00",
		want: []Frame{{Command: Message, Headers: []Header{{"content-length", "5"}}, Body: []byte("a\x00b\x00c")}}},
	{name: "content-length 0",
		raw:  "MESSAGE\ncontent-length:0\n\n\x00",
		want: []Frame{{Command: Message, Headers: []Header{{"content-length", "0"}}}}},
	{name: "content-length with spaces (1.0 style)",
		raw:  "SEND\ncontent-length: 2 \n\nab\x00",
		want: []Frame{{Command: Send, Headers: []Header{{"content-length", " 2 "}}, Body: []byte("ab")}}},
	{name: "second content-length ignored",
		raw:  "SEND\ncontent-length:1\ncontent-length:x\n\na\x00",
		want: []Frame{{Command: Send, Headers: []Header{{"content-length", "1"}, {"content-length", "x"}}, Body: []byte("a")}}},
	{name: "empty header value",
		raw:  "SEND\nreceipt:\n\n\x00",
		want: []Frame{{Command: Send, Headers: []Header{{"receipt", ""}}}}},
	{name: "unknown command is a frame all the same",
		raw:  "FLY\n\n\x00",
		want: []Frame{{Command: "FLY"}}},
}

func readAll(t *testing.T, raw []byte, lim Limits) ([]Frame, error) {
	t.Helper()
	r := NewReader(bytes.NewReader(raw), lim)
	var out []Frame
	for {
		f, err := r.ReadFrame()
		if err != nil {
			return out, err
		}
		out = append(out, *f)
	}
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			got, err := readAll(t, []byte(v.raw), testLimits)
			if err != io.EOF {
				t.Fatalf("read: %v", err)
			}
			if !reflect.DeepEqual(got, v.want) {
				t.Fatalf("got  %q\nwant %q", got, v.want)
			}
			var enc []byte
			for i := range v.want {
				enc = Append(enc, &v.want[i])
			}
			canon := v.canon
			if canon == "" {
				canon = v.raw
			}
			if string(enc) != canon {
				t.Fatalf("encoded %q\nwant    %q", enc, canon)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		lim     Limits
		wantErr error
		detail  string
	}{
		{"header without colon", "SEND\nfoo\n\n\x00", testLimits, ErrMalformed, "no colon"},
		{"empty header name", "SEND\n:v\n\n\x00", testLimits, ErrMalformed, "empty name"},
		{"undefined escape", "SEND\nfoo:a\\tb\n\n\x00", testLimits, ErrMalformed, `"\\t"`},
		{"lone backslash", "SEND\nfoo:a\\\n\n\x00", testLimits, ErrMalformed, "lone backslash"},
		{"raw CR in header", "SEND\nfoo:a\rb\n\n\x00", testLimits, ErrMalformed, "carriage return"},
		{"lone CR before command", "\rSEND\n\n\x00", testLimits, ErrMalformed, "carriage return"},
		{"NUL before blank line", "DISCONNECT\n\x00\n", testLimits, ErrMalformed, "NUL"},
		{"bad content-length", "SEND\ncontent-length:abc\n\n\x00", testLimits, ErrMalformed, "not a non-negative decimal"},
		{"negative content-length", "SEND\ncontent-length:-1\n\n\x00", testLimits, ErrMalformed, "not a non-negative decimal"},
		{"empty content-length", "SEND\ncontent-length:\n\n\x00", testLimits, ErrMalformed, "empty"},
		{"huge content-length", "SEND\ncontent-length:99999999999999999999999\n\n\x00", testLimits, ErrMalformed, "out of range"},
		{"no NUL after content-length", "SEND\ncontent-length:1\n\nab\x00", testLimits, ErrMalformed, "no NUL after the 1 bytes"},
		{"content-length beyond the frame limit", "SEND\ncontent-length:2000\n\n", testLimits, ErrTooLarge, "exceeds"},
		{"body beyond the frame limit", "SEND\n\n" + strings.Repeat("x", 2000) + "\x00", testLimits, ErrTooLarge, "without a NUL"},
		{"headers beyond the limit", "SEND\nfoo:" + strings.Repeat("x", 300) + "\n\n\x00", testLimits, ErrTooLarge, "exceed 256 bytes"},
		{"endless command line", strings.Repeat("X", 10000), testLimits, ErrTooLarge, "exceed"},
		{"eof in headers", "SEND\nfoo:1", testLimits, io.ErrUnexpectedEOF, ""},
		{"eof in body", "SEND\n\nabc", testLimits, io.ErrUnexpectedEOF, ""},
		{"eof in content-length body", "SEND\ncontent-length:5\n\nab", testLimits, io.ErrUnexpectedEOF, ""},
		{"eof after CR", "\r", testLimits, io.ErrUnexpectedEOF, ""},
		{"only heart-beats", "\n\r\n\n", testLimits, io.EOF, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(t, []byte(tt.raw), tt.lim)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("err %q does not say %q", err, tt.detail)
			}
		})
	}
}

// MaxBody bounds the body apart from the frame, saying the size and the
// limit.
func TestBodyLimit(t *testing.T) {
	lim := Limits{MaxHeader: 256, MaxFrame: 8192, MaxBody: 100}
	tests := []struct {
		name string
		raw  string
		want *BodyTooLargeError // nil: accepted
		text string
	}{
		{"content-length at the limit", "SEND\ncontent-length:100\n\n" + strings.Repeat("x", 100) + "\x00", nil, ""},
		{"body to the NUL at the limit", "SEND\n\n" + strings.Repeat("x", 100) + "\x00", nil, ""},
		{"content-length over the limit, refused before the body is read", "SEND\ncontent-length:101\n\n",
			&BodyTooLargeError{Command: Send, Size: 101, Limit: 100}, "frame too large: SEND body of 101 bytes exceeds the limit of 100 bytes"},
		{"body to the NUL over the limit", "SEND\n\n" + strings.Repeat("x", 150) + "\x00",
			&BodyTooLargeError{Command: Send, Size: 150, Limit: 100}, "SEND body of 150 bytes exceeds"},
		{"no NUL in sight", "SEND\n\n" + strings.Repeat("x", 6000),
			&BodyTooLargeError{Command: Send, Size: 4096, AtLeast: true, Limit: 100}, "SEND body of at least 4096 bytes exceeds the limit of 100 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.raw), lim).ReadFrame()
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var be *BodyTooLargeError
			if !errors.As(err, &be) || !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err %v, want a BodyTooLargeError", err)
			}
			if *be != *tt.want || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err %+v %q, want %+v %q", *be, err, *tt.want, tt.text)
			}
		})
	}
}

// STOMP 1.0 has no escapes: Append10 writes colons and backslashes as they
// are (only CR and LF, which no header line can carry, are escaped), and a
// Reader set to 1.0 takes backslashes literally.
func TestVersion10Headers(t *testing.T) {
	f := Frame{Command: Error, Headers: []Header{{"message", `failed: a\b`}, {"receipt-id", "r:1"}, {"x", "two\nlines\r"}}}
	want := "ERROR\nmessage:failed: a\\b\nreceipt-id:r:1\nx:two\\nlines\\r\n\n\x00"
	if got := string(Append10(nil, &f)); got != want {
		t.Fatalf("Append10 %q, want %q", got, want)
	}
	if got := string(AppendHeader10(nil, "destination", "/pk/AA:BB/user/update")); got != "destination:/pk/AA:BB/user/update\n" {
		t.Fatalf("AppendHeader10 %q", got)
	}
	r := NewReader(strings.NewReader("ACK\nmessage-id:a\\tb\\cc\ntopic:/pk/AA:BB/u\n\n\x00"), testLimits)
	r.SetVersion10()
	got, err := r.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	if got.Value("message-id") != `a\tb\cc` || got.Value("topic") != "/pk/AA:BB/u" {
		t.Fatalf("read %q", got.Headers)
	}
}

// The limit counts the body together with the headers.
func TestFrameLimitCountsHeaders(t *testing.T) {
	lim := Limits{MaxHeader: 64, MaxFrame: 20}
	ok := "SEND\n\n" + strings.Repeat("x", 14) + "\x00" // 6 header bytes + 14
	if _, err := NewReader(strings.NewReader(ok), lim).ReadFrame(); err != nil {
		t.Fatalf("frame at the limit: %v", err)
	}
	over := "SEND\n\n" + strings.Repeat("x", 15) + "\x00"
	if _, err := NewReader(strings.NewReader(over), lim).ReadFrame(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("frame over the limit: %v", err)
	}
}

func TestGet(t *testing.T) {
	f := Frame{Command: Send, Headers: []Header{{"a", "1"}, {"a", "2"}}}
	if v, ok := f.Get("a"); !ok || v != "1" {
		t.Fatalf("Get = %q %v, want the first", v, ok)
	}
	if _, ok := f.Get("b"); ok {
		t.Fatal("Get of an absent header")
	}
}

func TestAppendHeaderEscapes(t *testing.T) {
	got := AppendHeader(nil, "a:b", "x\\y\r\nz")
	if want := "a\\cb:x\\\\y\\r\\nz\n"; string(got) != want {
		t.Fatalf("%q, want %q", got, want)
	}
	if got := AppendHeaderInt(nil, "content-length", 42); string(got) != "content-length:42\n" {
		t.Fatalf("%q", got)
	}
}

// BenchmarkReadFrame reads 1000 ACK frames per op.
func BenchmarkReadFrame(b *testing.B) {
	raw := []byte("ACK\nid:12345\nreceipt:r-1\n\n\x00")
	buf := bytes.Repeat(raw, 1000)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		r := NewReader(bytes.NewReader(buf), Limits{MaxHeader: 65536, MaxFrame: 1 << 20})
		for {
			if _, err := r.ReadFrame(); err != nil {
				break
			}
		}
	}
}
