package logservice

import (
	"errors"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Compression as the SDK uses it (x-log-compresstype): "lz4" is a raw LZ4
// block, not the frame format; "zstd" a zstd frame; none, an absent header.
const (
	compressNone = ""
	compressLZ4  = "lz4"
	compressZSTD = "zstd"
)

var errUncompress = errors.New("cannot decompress the body")

// maxZstdOutput bounds what one zstd body may decode to, well above any
// record the broker stores.
const maxZstdOutput = 64 << 20

// zstd coders are safe for concurrent EncodeAll/DecodeAll and costly to
// make: one each, made on first use.
var (
	zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
		// A frame that claims or produces more than this is refused
		// before it is decoded whole, whatever x-log-bodyrawsize said.
		return zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxZstdOutput))
	})
	zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
		return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	})
)

// decompress returns body decompressed as typ says, which must come to
// exactly rawSize bytes (the x-log-bodyrawsize header, already bounded by
// the caller so that a lying header cannot make us allocate much).
func decompress(typ string, body []byte, rawSize int) ([]byte, error) {
	switch typ {
	case compressNone:
		if len(body) != rawSize {
			return nil, fmt.Errorf("%w: %d bytes uncompressed, x-log-bodyrawsize says %d", errUncompress, len(body), rawSize)
		}
		return body, nil
	case compressLZ4:
		out := make([]byte, rawSize)
		n, err := lz4.UncompressBlock(body, out)
		if err != nil || n != rawSize {
			return nil, fmt.Errorf("%w: lz4 block gives %d of %d bytes (%v)", errUncompress, n, rawSize, err)
		}
		return out, nil
	case compressZSTD:
		return unzstd(body, rawSize)
	}
	return nil, fmt.Errorf("unknown compression %q", typ)
}

func unzstd(body []byte, rawSize int) ([]byte, error) {
	d, err := zstdDecoder()
	if err != nil {
		return nil, err
	}
	out, err := d.DecodeAll(body, make([]byte, 0, rawSize))
	if err != nil || len(out) != rawSize {
		return nil, fmt.Errorf("%w: zstd gives %d of %d bytes (%v)", errUncompress, len(out), rawSize, err)
	}
	return out, nil
}

// compress encodes raw for a PullLogs answer: zstd when asked for, lz4
// otherwise (the SDK accepts no uncompressed answer and asks for lz4
// unless it wants zstd).
func compress(typ string, raw []byte) (string, []byte, error) {
	if typ == compressZSTD {
		e, err := zstdEncoder()
		if err != nil {
			return "", nil, err
		}
		return compressZSTD, e.EncodeAll(raw, nil), nil
	}
	out := make([]byte, lz4.CompressBlockBound(len(raw)))
	var c lz4.Compressor
	n, err := c.CompressBlock(raw, out)
	if err != nil {
		return "", nil, err
	}
	if n == 0 { // incompressible: lz4 says so rather than expand it
		return compressLZ4, lz4Literals(raw), nil
	}
	return compressLZ4, out[:n], nil
}

// lz4Literals is an LZ4 block holding raw as one run of literals: a token
// whose high nibble is the literal count (15 = more count bytes follow:
// 255 each while at least 255 remain, then the rest), then the bytes. It
// is the block's last sequence, so no match offset follows.
func lz4Literals(raw []byte) []byte {
	n := len(raw)
	out := make([]byte, 0, n+n/255+2)
	if n < 15 {
		out = append(out, byte(n<<4))
	} else {
		out = append(out, 0xF0)
		for rest := n - 15; ; rest -= 255 {
			if rest < 255 {
				out = append(out, byte(rest))
				break
			}
			out = append(out, 255)
		}
	}
	return append(out, raw...)
}

// acceptedCompression picks the answer's compression from Accept-Encoding:
// the SDK sends exactly "lz4" or "zstd".
func acceptedCompression(accept string) string {
	if accept == compressZSTD {
		return compressZSTD
	}
	return compressLZ4
}
