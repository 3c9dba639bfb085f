package amqp

import (
	"io"
	"sync"
)

// Sizes of a connection's read buffer. An idle connection spends its life
// blocked in Read, holding whatever buffer it reads into: that is the
// small one, a heartbeat or a flow fits in it. Only when a read fills it
// (more is waiting in the socket) does the reader take a large buffer from
// a pool, and it gives it back as soon as a read no longer fills it and
// everything read is consumed. As nats-server does, the memory of a
// connection follows its traffic: 10,000 idle connections do not each hold
// 64 KiB.
const (
	smallReadBuf = 512 // frames.MinMaxFrameSize: every peer's smallest frames fit
	largeReadBuf = 64 << 10
)

// largeReadPool holds the large read buffers of connections whose frames are
// arriving back to back.
var largeReadPool = sync.Pool{New: func() any { return new([largeReadBuf]byte) }}

// readBuf is a buffered reader of a connection's socket whose buffer is small
// while the connection is quiet and large while data keeps coming. The
// handshake uses it on the serve goroutine, then readLoop alone; nothing read
// out of it refers to its buffer (every frame body is a copy), so the large
// buffer can go back to the pool whenever it is empty.
type readBuf struct {
	rd    io.Reader
	buf   []byte // small[:] or large[:]; buf[r:w] is unread
	r, w  int
	full  bool // the last read filled buf: more is probably waiting
	err   error
	large *[largeReadBuf]byte // from largeReadPool while in use
	small [smallReadBuf]byte
}

func (b *readBuf) reset(rd io.Reader) {
	b.rd = rd
	b.buf = b.small[:]
}

// Read reads like bufio.Reader.Read: what is buffered, else one read of the
// socket, straight into p when p is at least as large as the buffer.
func (b *readBuf) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.r == b.w {
		if b.err != nil {
			return 0, b.takeErr()
		}
		if len(p) >= len(b.buf) && (b.large != nil || !b.full) {
			// Nothing to gain from copying: a large frame body goes
			// straight into its own allocation. (Not while data keeps
			// coming and the small buffer is in use: then the large
			// buffer takes in this frame and those behind it at once.)
			n, err := b.rd.Read(p)
			if n < len(p) {
				b.full = false // the socket had no more
			}
			return n, err
		}
		b.fill()
		if b.r == b.w {
			return 0, b.takeErr()
		}
	}
	n := copy(p, b.buf[b.r:b.w])
	b.r += n
	return n, nil
}

// fill reads once from the empty buffer's socket, first choosing the
// buffer: the large one after a read that filled the small one, the small
// one again (the large back to the pool) after a read that did not fill
// the large one. A frame that arrives across the switch is glued together
// by the caller's io.ReadFull: Read only fills an empty buffer.
func (b *readBuf) fill() {
	b.r, b.w = 0, 0
	switch {
	case b.large == nil && b.full:
		b.large = largeReadPool.Get().(*[largeReadBuf]byte)
		b.buf = b.large[:]
	case b.large != nil && !b.full:
		b.release()
	}
	n, err := b.rd.Read(b.buf)
	b.w = n
	b.full = n == len(b.buf)
	b.err = err
}

// release gives the large buffer back to the pool. Whatever it held unread
// is dropped: only for a buffer that is empty or no longer read.
func (b *readBuf) release() {
	if b.large == nil {
		return
	}
	largeReadPool.Put(b.large)
	b.large = nil
	b.buf, b.r, b.w, b.full = b.small[:], 0, 0, false
}

func (b *readBuf) takeErr() error {
	err := b.err
	b.err = nil
	return err
}
