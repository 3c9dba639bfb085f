package amqp

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/amqpemu/amqpemu/amqp/frames"
)

// chunkReader stands in for a socket: each Read hands out at most what is
// left of the next chunk, as a socket hands out what has arrived, and
// records the size of the buffer it was given. After the last chunk it
// reports io.EOF, where a real idle connection would block.
type chunkReader struct {
	chunks [][]byte
	sizes  []int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	r.sizes = append(r.sizes, len(p))
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

// chop cuts stream into chunks of the given sizes; the rest is the last.
func chop(stream []byte, sizes ...int) [][]byte {
	var chunks [][]byte
	for _, n := range sizes {
		chunks = append(chunks, stream[:n])
		stream = stream[n:]
	}
	if len(stream) > 0 {
		chunks = append(chunks, stream)
	}
	return chunks
}

func flowFrames(n int) [][]byte {
	var fs [][]byte
	for i := range n {
		h := uint32(i)
		fs = append(fs, frames.AppendFrame(nil, frames.TypeAMQP, 0, &frames.Flow{Handle: &h, IncomingWindow: 100, NextOutgoingID: uint32(i)}, nil))
	}
	return fs
}

func transferFrame(size int) []byte {
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
	return frames.AppendFrame(nil, frames.TypeAMQP, 1, &frames.Transfer{Handle: 0, DeliveryID: 7, HasDeliveryID: true, DeliveryTag: []byte{7}}, payload)
}

// TestReadBufFrames: whatever way the bytes arrive, every frame is read
// whole, and the reader waits for more with the small buffer unless its
// last read filled the large one. sizes are the buffers the socket reads
// were given, the last one the read that found the connection idle.
func TestReadBufFrames(t *testing.T) {
	empty := frames.EmptyFrame
	flows := flowFrames(4000) // 15 to 25 bytes each
	big := transferFrame(100 << 10)
	tests := []struct {
		name   string
		frames [][]byte
		chunks func(stream []byte) [][]byte
		sizes  []int
		// a frame must cross the end of the first, small read
		straddle bool
	}{
		{
			name:   "heartbeats one at a time stay in the small buffer",
			frames: [][]byte{empty, empty, empty},
			chunks: func(s []byte) [][]byte { return chop(s, 8, 8) },
			sizes:  []int{smallReadBuf, smallReadBuf, smallReadBuf, smallReadBuf},
		},
		{
			name:     "a frame straddling the switch from small to large arrives whole",
			frames:   flows[:40],
			chunks:   func(s []byte) [][]byte { return chop(s, smallReadBuf) },
			sizes:    []int{smallReadBuf, largeReadBuf, smallReadBuf},
			straddle: true,
		},
		{
			name:   "the large buffer is kept while reads fill it, given back after",
			frames: flows,
			chunks: func(s []byte) [][]byte { return chop(s, smallReadBuf, largeReadBuf) },
			sizes:  []int{smallReadBuf, largeReadBuf, largeReadBuf, smallReadBuf},
		},
		{
			name:   "a large frame after an idle heartbeat arrives whole",
			frames: [][]byte{empty, big, empty},
			chunks: func(s []byte) [][]byte { return chop(s, 8, 8, 70000) },
			// the heartbeat; the header in a small read; the body straight
			// into its own buffer (70000-8 bytes, then the rest); the last
			// heartbeat
			sizes: []int{smallReadBuf, smallReadBuf, len(big) - 8, len(big) - 8 - 70000, smallReadBuf, smallReadBuf},
		},
		{
			name:   "a large frame after small frames in the large buffer",
			frames: slices.Concat(flows[:100], [][]byte{big}, flows[:5]),
			chunks: func(s []byte) [][]byte { return chop(s, smallReadBuf) },
			sizes:  nil, // not pinned: only that the frames arrive whole and the reader ends small
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := slices.Concat(tt.frames...)
			if tt.straddle && frameEndsAt(tt.frames, smallReadBuf) {
				t.Fatalf("a frame ends exactly at %d bytes: nothing straddles", smallReadBuf)
			}
			sock := &chunkReader{chunks: tt.chunks(stream)}
			c := &conn{}
			c.maxFrameIn.Store(1 << 20)
			c.rd.reset(sock)
			var hb [frames.HeaderSize]byte
			for i, want := range tt.frames {
				got, err := c.readFrame(&c.rd, hb[:])
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if re := reencode(got); !bytes.Equal(re, want) {
					t.Fatalf("frame %d: read %d bytes %x…, want %d bytes %x…", i, len(re), head(re), len(want), head(want))
				}
			}
			if _, err := c.readFrame(&c.rd, hb[:]); !errors.Is(err, io.EOF) {
				t.Fatalf("after the last frame: %v, want EOF", err)
			}
			if tt.sizes != nil && !slices.Equal(sock.sizes, tt.sizes) {
				t.Errorf("socket reads into buffers of %v bytes, want %v", sock.sizes, tt.sizes)
			}
			if last := sock.sizes[len(sock.sizes)-1]; last != smallReadBuf {
				t.Errorf("the idle read had a buffer of %d bytes, want the small %d", last, smallReadBuf)
			}
			if c.rd.release(); c.rd.large != nil {
				t.Error("release kept the large buffer")
			}
		})
	}
}

// frameEndsAt reports whether a frame of the stream ends at offset off.
func frameEndsAt(fs [][]byte, off int) bool {
	n := 0
	for _, f := range fs {
		if n += len(f); n == off {
			return true
		}
	}
	return false
}

// reencode encodes a frame read back to its bytes.
func reencode(f inFrame) []byte {
	if f.body == nil {
		return frames.EmptyFrame
	}
	return frames.AppendFrame(nil, f.typ, f.channel, f.body, f.payload)
}

func head(b []byte) []byte { return b[:min(len(b), 16)] }

// TestReadBufError: data read together with an error is handed out first,
// the error after it, once.
func TestReadBufError(t *testing.T) {
	boom := errors.New("boom")
	var b readBuf
	b.reset(readerFunc(func(p []byte) (int, error) { return copy(p, "abc"), boom }))
	p := make([]byte, 2)
	if n, err := b.Read(p); n != 2 || err != nil {
		t.Fatalf("first read: %d, %v; want 2, nil", n, err)
	}
	if n, err := b.Read(p); n != 1 || err != nil {
		t.Fatalf("second read: %d, %v; want 1, nil", n, err)
	}
	if n, err := b.Read(p); n != 0 || !errors.Is(err, boom) {
		t.Fatalf("third read: %d, %v; want 0, boom", n, err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
