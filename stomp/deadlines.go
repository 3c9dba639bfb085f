package stomp

import (
	"net"
	"sync"
	"time"
)

// deadlineCause is which deadline a read was given.
type deadlineCause uint8

const (
	causeNone      deadlineCause = iota
	causeHandshake               // CONNECT or SUBSCRIBE is due
	causeIdle                    // the client promised heart-beats
	causeStop                    // the server is shutting down
)

// deadlines sets the socket's deadlines. The read deadline is set before
// every read from the socket, so any byte arriving, a frame or a bare EOL,
// counts as the client's heart-beat (§Heart-beating). Its mutex orders
// those reads against stop, so that stop's deadline is never overwritten.
type deadlines struct {
	nc           net.Conn
	writeTimeout time.Duration

	mu        sync.Mutex
	handshake time.Time     // CONNECT or SUBSCRIBE due by then; zero when none is due
	idle      time.Duration // longest client silence allowed; zero when unlimited
	stopped   string        // why the server stopped the connection; "" while it runs
	closeBy   time.Time     // when stopped or ending: the last moment to write
	last      deadlineCause // the deadline the last read was given
}

// Read reads from the socket under the current read deadline.
func (d *deadlines) Read(p []byte) (int, error) {
	d.mu.Lock()
	if d.stopped != "" {
		d.last = causeStop
		d.mu.Unlock()
		return 0, errStopped
	}
	at, cause := d.handshake, causeHandshake
	if d.idle > 0 {
		if idleAt := time.Now().Add(d.idle); at.IsZero() || idleAt.Before(at) {
			at, cause = idleAt, causeIdle
		}
	}
	if at.IsZero() {
		cause = causeNone
	}
	d.last = cause
	d.nc.SetReadDeadline(at)
	d.mu.Unlock()
	return d.nc.Read(p)
}

// Write writes to the socket within the write timeout, or by closeBy once
// the connection is ending.
func (d *deadlines) Write(p []byte) (int, error) {
	d.mu.Lock()
	at := d.closeBy
	if at.IsZero() {
		at = time.Now().Add(d.writeTimeout)
	}
	d.nc.SetWriteDeadline(at)
	d.mu.Unlock()
	return d.nc.Write(p)
}

// expect sets the deadline of the next handshake step (zero: none due) and
// the longest silence allowed.
func (d *deadlines) expect(handshake time.Time, idle time.Duration) {
	d.mu.Lock()
	d.handshake, d.idle = handshake, idle
	d.mu.Unlock()
}

// cause tells which deadline the last read was given, and whether the
// server has stopped the connection.
func (d *deadlines) cause() (deadlineCause, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last, d.stopped
}

// stop interrupts the reader, whose next read fails with errStopped, and
// bounds the writer's remaining writes by grace.
func (d *deadlines) stop(reason string, grace time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped != "" {
		return
	}
	d.stopped = reason
	d.closeBy = time.Now().Add(grace)
	d.nc.SetReadDeadline(time.Now())
	d.nc.SetWriteDeadline(d.closeBy)
}

// ending bounds the writer's remaining writes by grace (a writer blocked
// on a client that does not read must not hold the connection open).
func (d *deadlines) ending(grace time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closeBy.IsZero() {
		d.closeBy = time.Now().Add(grace)
	}
	d.nc.SetWriteDeadline(d.closeBy)
}

// lingerUntil sets the read deadline of the drain after an ERROR frame,
// unless the server is stopping (then there is no time to linger).
func (d *deadlines) lingerUntil(at time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped != "" {
		return false
	}
	d.nc.SetReadDeadline(at)
	return true
}
