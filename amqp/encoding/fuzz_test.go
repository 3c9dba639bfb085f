package encoding

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to ReadValue. It must never panic; a value
// it accepts must re-encode, and the re-encoding must decode to an equal value
// and be a fixed point of encode∘decode. Skip must agree with ReadValue on
// where an accepted value ends.
//
// Seeds (testdata/fuzz/FuzzDecode): every vector and error case of this
// package (see TestFuzzSeeds), and every frame body and message section of
// the frames captures (written by the frames package's TestFuzzSeeds).
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(in)
		v, err := r.ReadValue()
		if err != nil {
			return
		}
		n := r.Offset()
		s := NewReader(in)
		raw, err := s.Skip()
		if err != nil || len(raw) != n {
			t.Fatalf("ReadValue took %d bytes but Skip returned % x, %v", n, raw, err)
		}
		enc, err := AppendValue(nil, v)
		if err != nil {
			t.Fatalf("decoded %#v does not encode: %v", v, err)
		}
		r2 := NewReader(enc)
		v2, err := r2.ReadValue()
		if err != nil {
			t.Fatalf("re-encoding % x of %#v does not decode: %v", enc, v, err)
		}
		if r2.Len() != 0 {
			t.Fatalf("re-encoding % x has %d bytes left over", enc, r2.Len())
		}
		// A *Described's Raw is written verbatim, so it must come back
		// identical too; values compare by content (a NaN equals itself).
		if !valueEqual(v, v2, true) {
			t.Fatalf("round trip of % x\n got %#v\nwant %#v", in[:n], v2, v)
		}
		enc2, err := AppendValue(nil, v2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not a fixed point:\n% x\n% x (%v)", enc, enc2, err)
		}
	})
}

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpora under testdata/fuzz")

// TestFuzzSeeds checks that testdata/fuzz/FuzzDecode holds every vector and
// error case as a seed; with -update-seeds it writes them.
func TestFuzzSeeds(t *testing.T) {
	seeds := map[string][]byte{}
	for _, v := range vectors {
		seeds["vector-"+v.name] = v.b
	}
	for _, tc := range decodeErrors {
		if len(tc.b) <= 1024 {
			seeds["error-"+tc.name] = tc.b
		}
	}
	seedCorpus(t, "testdata/fuzz/FuzzDecode", seeds)
}

var unsafeName = regexp.MustCompile(`[^a-z0-9.-]+`)

// seedCorpus writes (with -update-seeds) or checks one seed file per input,
// in the format of go test's corpus files. Crashers the fuzzer adds keep their
// own names and are left alone.
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
			t.Errorf("seed %s missing or stale (%v): run go test ./amqp/encoding -run TestFuzzSeeds -update-seeds", path, err)
		}
	}
}
