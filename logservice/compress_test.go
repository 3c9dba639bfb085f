package logservice

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/pierrec/lz4/v4"
)

func TestCompressRoundTrip(t *testing.T) {
	random := make([]byte, 3000)
	rand.Read(random)
	for _, raw := range [][]byte{[]byte("a"), bytes.Repeat([]byte("log line "), 500), random} {
		for _, typ := range []string{compressLZ4, compressZSTD} {
			got, body, err := compress(typ, raw)
			if err != nil || got != typ {
				t.Fatalf("compress(%s) = %s, %v", typ, got, err)
			}
			back, err := decompress(typ, body, len(raw))
			if err != nil || !bytes.Equal(back, raw) {
				t.Fatalf("%s round trip of %d bytes: %v", typ, len(raw), err)
			}
			if _, err := decompress(typ, body, len(raw)+1); err == nil {
				t.Fatalf("%s: a wrong x-log-bodyrawsize was accepted", typ)
			}
		}
	}
}

// TestLZ4Literals: the literal-only blocks we send for incompressible
// data decode with lz4's own decoder, at every length edge of the token.
func TestLZ4Literals(t *testing.T) {
	for _, n := range []int{0, 1, 14, 15, 16, 269, 270, 271, 1000} {
		raw := bytes.Repeat([]byte{'x'}, n)
		out := make([]byte, n)
		got, err := lz4.UncompressBlock(lz4Literals(raw), out)
		if err != nil || got != n || !bytes.Equal(out, raw) {
			t.Errorf("%d literals: decoded %d bytes, %v", n, got, err)
		}
	}
}
