package frame

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// fuzzLimits are small so the fuzzer reaches them.
var fuzzLimits = Limits{MaxHeader: 512, MaxFrame: 2048}

// FuzzReadFrame feeds arbitrary bytes to the Reader. It must never panic
// nor accept a frame beyond its limits, and every frame it accepts must
// re-encode to bytes that parse to an equal frame and are a fixed point of
// encode∘parse.
//
// Seeds (testdata/fuzz/FuzzReadFrame): every vector and error case of
// frame_test.go (written by TestFuzzSeeds with -update-seeds), plus the
// frames stomp.py and the server exchange.
func FuzzReadFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), fuzzLimits)
		for range 16 {
			fr, err := r.ReadFrame()
			if err != nil {
				return
			}
			checkLimits(t, fr)
			roundTrip(t, fr)
		}
	})
}

func checkLimits(t *testing.T, fr *Frame) {
	t.Helper()
	n := len(fr.Command)
	for _, h := range fr.Headers {
		n += len(h.Key) + len(h.Value)
	}
	if n > fuzzLimits.MaxHeader {
		t.Fatalf("accepted %d bytes of command and headers, limit %d", n, fuzzLimits.MaxHeader)
	}
	if len(fr.Body) > fuzzLimits.MaxFrame {
		t.Fatalf("accepted a body of %d bytes, frame limit %d", len(fr.Body), fuzzLimits.MaxFrame)
	}
}

func roundTrip(t *testing.T, fr *Frame) {
	t.Helper()
	enc := Append(nil, fr)
	// Escaping a raw ':' makes the encoding longer than the input.
	wide := Limits{MaxHeader: 2 * len(enc), MaxFrame: 2 * len(enc)}
	fr2, err := NewReader(bytes.NewReader(enc), wide).ReadFrame()
	if err != nil {
		t.Fatalf("re-encoding %q of %q does not parse: %v", enc, fr, err)
	}
	if !reflect.DeepEqual(fr, fr2) {
		t.Fatalf("round trip of %q\n got %q\nwant %q", enc, fr2, fr)
	}
	if enc2 := Append(nil, fr2); !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not a fixed point:\n%q\n%q", enc, enc2)
	}
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpus under testdata/fuzz")

// extraSeeds are frames the server and stomp.py exchange.
var extraSeeds = map[string]string{
	"server-connected":    "CONNECTED\nversion:1.2\nheart-beat:100,10000\nserver:amqpemu\nsession:amqpemu-1\n\n\x00",
	"server-message":      "MESSAGE\nsubscription:1\nmessage-id:1234567890123456789\ndestination:/pk/dn/user/update\nack:7\nmessageId:1234567890123456789\ngenerateTime:1763900000123\ntopic:/pk/dn/user/update\ncontent-length:3\n\n\x01\x00\x02\x00",
	"server-error":        "ERROR\nmessage:authentication failed: signature does not match\ncontent-type:text/plain\ncontent-length:5\n\nhello\x00",
	"stomppy-subscribe":   "SUBSCRIBE\nack:auto\ndestination:/topic/#\nid:1\n\n\x00",
	"stomppy-ack":         "ACK\nid:7\n\n\x00",
	"stomppy-disconnect":  "DISCONNECT\nreceipt:8f1c\n\n\x00",
	"php-connect-10":      "CONNECT\naccept-version:1.0,1.1,1.2\nhost:localhost\nlogin:u\npasscode:p\nheart-beat:0,10000\n\n\x00",
	"heartbeats-between":  "\n\n\r\nACK\nid:1\n\n\x00\n",
	"bad-content-length":  "SEND\ncontent-length:1x\n\n\x00",
	"nul-less-after-body": "SEND\ncontent-length:1\n\nab\x00",
}

// TestFuzzSeeds keeps the seed corpus in step with the vectors: with
// -update-seeds it writes it, otherwise it checks each seed is there.
func TestFuzzSeeds(t *testing.T) {
	seeds := map[string][]byte{}
	for i, v := range vectors {
		seeds[fmt.Sprintf("vector-%02d", i)] = []byte(v.raw)
	}
	for k, v := range extraSeeds {
		seeds[k] = []byte(v)
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzReadFrame")
	for name, data := range seeds {
		path := filepath.Join(dir, name)
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if *updateSeeds {
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Errorf("seed %s is missing or stale: run go test ./stomp/frame -run TestFuzzSeeds -update-seeds", name)
		}
	}
}
