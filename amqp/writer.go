package amqp

import (
	"math"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp/frames"
)

// Output. The owner encodes frames into wbuf and hands it to a writer
// goroutine (writeOut) that it starts for that one buffer: the writer
// writes it, gives it back on wdone and ends. Until then the owner gathers
// the next output in the spare buffer, and hands that over once the first
// comes back, so there is one write in flight and output is batched while
// it lasts. A connection with nothing to write has no writer goroutine and
// holds no large output buffer.
//
// Heartbeats come from a timer (time.AfterFunc) rather than from a
// goroutine of their own. Whoever writes to the socket, a writer or the
// timer, holds wmu, so frames never interleave.

// Output buffers of up to keepWriteBuf bytes stay with their connection
// (an idle one holds a few hundred bytes); larger ones, grown by a burst of
// output, go back to writeBufPool as soon as the output is idle, and the
// next output takes one from there. maxPooledWriteBuf bounds what the pool
// keeps: a buffer grown past it by a backlog (up to WriteBufferLimit) is left
// to the collector.
const (
	keepWriteBuf      = 4 << 10
	maxPooledWriteBuf = 2 * flushThreshold
)

// writeBufPool holds *[]byte boxes. A connection keeps the box of a buffer
// it took (boxes) for the next one it gives back, so the pool costs no
// allocation once warm.
var writeBufPool sync.Pool

// outBuf is wbuf, taken from the pool if the connection was idle.
func (c *conn) outBuf() []byte {
	if c.wbuf != nil {
		return c.wbuf
	}
	if p, ok := writeBufPool.Get().(*[]byte); ok {
		c.wbuf, *p = (*p)[:0], nil
		if c.nboxes < len(c.boxes) {
			c.boxes[c.nboxes] = p
			c.nboxes++
		}
	}
	return c.wbuf
}

// putWriteBuf gives b to the pool if it is worth keeping there.
func (c *conn) putWriteBuf(b []byte) {
	if cap(b) > maxPooledWriteBuf {
		return
	}
	var p *[]byte
	if c.nboxes > 0 {
		c.nboxes--
		p, c.boxes[c.nboxes] = c.boxes[c.nboxes], nil
	} else {
		p = new([]byte)
	}
	*p = b[:0]
	writeBufPool.Put(p)
}

// send appends one frame to the output.
func (c *conn) send(channel uint16, body frames.Body) {
	if c.log.GetLevel() <= zerolog.TraceLevel {
		c.log.Trace().Uint16("channel", channel).Stringer("frame", body).Msg("send")
	}
	c.wbuf = frames.AppendFrame(c.outBuf(), frames.TypeAMQP, channel, body, nil)
}

// flush hands the pending output to a writer unless one is busy.
func (c *conn) flush() {
	if c.writerBusy || len(c.wbuf) == 0 {
		return
	}
	c.writerBusy = true
	buf := c.wbuf
	c.wbuf, c.spare = c.spare, nil
	if c.wbuf != nil {
		c.wbuf = c.wbuf[:0]
	}
	c.wout = buf
	c.rwg.Add(1)
	go c.startWriter() // a func value without arguments: no allocation
}

// writerDone takes back the buffer the writer finished with.
func (c *conn) writerDone(buf []byte) {
	c.writerBusy = false
	if cap(buf) > maxPooledWriteBuf {
		return // grown by a backlog: not worth keeping
	}
	c.spare = buf
}

// releaseWriteBufs gives the large output buffers back to the pool; the
// owner calls it when nothing is pending and no writer is busy.
func (c *conn) releaseWriteBufs() {
	if cap(c.wbuf) > keepWriteBuf {
		c.putWriteBuf(c.wbuf)
		c.wbuf = nil
	}
	if cap(c.spare) > keepWriteBuf {
		c.putWriteBuf(c.spare)
		c.spare = nil
	}
}

// flushAll writes all pending output and waits until it is written.
func (c *conn) flushAll() {
	for c.writerBusy || len(c.wbuf) > 0 {
		if c.writerBusy {
			c.writerDone(<-c.wdone)
		}
		c.flush()
	}
}

// writeOut is a writer goroutine: it writes the buffer flush handed over
// and gives it back.
func (c *conn) writeOut() {
	defer c.rwg.Done()
	buf := c.wout
	c.wmu.Lock()
	c.writeLocked(buf)
	c.wmu.Unlock()
	c.wdone <- buf[:0]
}

// writeLocked writes b to the socket; wmu is held.
func (c *conn) writeLocked(b []byte) {
	if c.wfail.Load() {
		return
	}
	// A peer that reads nothing for a whole idle period is treated as gone.
	c.nc.SetWriteDeadline(time.Now().Add(c.cfg.IdleTimeout))
	_, err := c.nc.Write(b)
	c.lastOut.Store(int64(time.Since(c.epoch)))
	if err != nil {
		c.wfail.Store(true)
		c.log.Debug().Err(err).Msg("write failed")
		c.nc.Close()
	}
}

// startHeartbeats sends an empty frame whenever the connection has been
// silent for every (§2.4.5). The owner calls it once, on the open frame.
func (c *conn) startHeartbeats(every time.Duration) {
	c.hbEvery = every
	c.lastOut.Store(int64(time.Since(c.epoch)))
	c.hbTimer = time.AfterFunc(math.MaxInt64, c.heartbeat)
	c.hbTimer.Reset(every)
}

// heartbeat runs on the timer's goroutine: it writes an empty frame if
// nothing went out for hbEvery, and sets the timer for the next check.
func (c *conn) heartbeat() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wclosed {
		return
	}
	next := c.hbEvery - (time.Since(c.epoch) - time.Duration(c.lastOut.Load()))
	if next <= 0 {
		c.writeLocked(frames.EmptyFrame)
		next = c.hbEvery
	}
	c.hbTimer.Reset(next)
}

// stopHeartbeats ends the heartbeats before the connection closes.
func (c *conn) stopHeartbeats() {
	c.wmu.Lock()
	c.wclosed = true
	c.wmu.Unlock()
	if c.hbTimer != nil {
		c.hbTimer.Stop()
	}
}

// halfClose ends our side after the last frame so the peer reads the close
// frame before the socket goes, then closes once the peer has closed too.
func (c *conn) halfClose() {
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok && !c.wfail.Load() {
		tc.CloseWrite()
		// readLoop sees the peer's EOF, or this deadline, and returns.
		c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		return
	}
	c.nc.Close()
}
