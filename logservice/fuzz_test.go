package logservice

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecodeLogGroup: the decoder never panics, and what it accepts
// re-encodes to bytes that decode to the same group.
func FuzzDecodeLogGroup(f *testing.F) {
	for _, v := range logGroupVectors {
		f.Add(v.wire)
	}
	for _, v := range badLogGroups {
		f.Add(v.wire)
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		g, err := DecodeLogGroup(wire)
		if err != nil {
			return
		}
		again, err := DecodeLogGroup(AppendLogGroup(nil, g))
		if err != nil || !reflect.DeepEqual(g, again) {
			t.Fatalf("re-encoding %+v gave %+v, %v", g, again, err)
		}
	})
}

// FuzzParseAuthorization: a parsed header puts back together as it was.
func FuzzParseAuthorization(f *testing.F) {
	for _, v := range authorizationVectors {
		f.Add(v.header)
	}
	f.Fuzz(func(t *testing.T, h string) {
		ak, sig, ok := parseAuthorization(h)
		if ok && "LOG "+ak+":"+sig != h {
			t.Fatalf("%q parsed as %q, %q", h, ak, sig)
		}
	})
}

// FuzzDecodeCursor: an accepted cursor is exactly the encoding of its value.
func FuzzDecodeCursor(f *testing.F) {
	for _, c := range []string{encodeCursor(0), encodeCursor(1), encodeCursor(1 << 63), "MDE=", "bm90", ""} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, c string) {
		seq, err := decodeCursor(c)
		if err == nil && encodeCursor(seq) != c {
			t.Fatalf("%q decoded to %d, which encodes as %q", c, seq, encodeCursor(seq))
		}
	})
}

// FuzzDecompress: no input makes decompression panic or return other than
// the announced size.
func FuzzDecompress(f *testing.F) {
	_, lz, _ := compress(compressLZ4, bytes.Repeat([]byte("ab"), 100))
	_, zs, _ := compress(compressZSTD, bytes.Repeat([]byte("ab"), 100))
	f.Add(lz, 200, true)
	f.Add(zs, 200, false)
	f.Fuzz(func(t *testing.T, body []byte, size int, useLZ4 bool) {
		if size < 0 || size > 1<<16 {
			return
		}
		typ := compressZSTD
		if useLZ4 {
			typ = compressLZ4
		}
		out, err := decompress(typ, body, size)
		if err == nil && len(out) != size {
			t.Fatalf("%s gave %d bytes, announced %d", typ, len(out), size)
		}
	})
}
