package frames

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// splitCapture cuts a recorded byte stream into frames, after the protocol
// header(s) that start the stream and the one that starts the AMQP layer
// after SASL.
func splitCapture(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if bytes.HasPrefix(b, []byte("AMQP")) {
			b = b[8:]
			continue
		}
		h, err := ParseHeader(b)
		if err != nil {
			t.Fatalf("header: %v", err)
		}
		if int(h.Size) > len(b) {
			t.Fatalf("frame of %d bytes with %d left", h.Size, len(b))
		}
		out = append(out, b[:h.Size])
		b = b[h.Size:]
	}
	return out
}

// TestCaptures decodes every frame the four client libraries and the server
// sent, re-encodes each body and checks it decodes to the same value.
func TestCaptures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bin")
	if len(files) == 0 {
		t.Fatal("no captures in testdata")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for i, fr := range splitCapture(t, raw) {
				h, _ := ParseHeader(fr)
				body, payload, err := ParseBody(h.Type, fr[int(h.DataOffset)*4:])
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if body == nil {
					continue
				}
				again, payload2, err := ParseBody(h.Type, append(body.Append(nil), payload...))
				if err != nil {
					t.Fatalf("frame %d (%v) re-encoded: %v", i, body, err)
				}
				if !reflect.DeepEqual(body, again) || !bytes.Equal(payload, payload2) {
					t.Fatalf("frame %d round trip:\n got %#v\nwant %#v", i, again, body)
				}
			}
		})
	}
}
