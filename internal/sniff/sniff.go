// Package sniff serves TLS and plain TCP on one port, as the IoT
// platform's MQTT port 1883 does: a connection whose first byte is a TLS
// handshake record (0x16) is served over TLS, any other as it is. An MQTT
// CONNECT starts with 0x10, so the two never collide.
package sniff

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"
)

// handshakeRecord is the first byte of a TLS ClientHello.
const handshakeRecord = 0x16

// Listener wraps ln: each accepted connection decides on its first read
// whether it is TLS (served with conf) or plain. Accept never waits for a
// client's first byte, so a silent client holds up nobody.
func Listener(ln net.Listener, conf *tls.Config) net.Listener {
	return &listener{Listener: ln, conf: conf}
}

type listener struct {
	net.Listener
	conf *tls.Config
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, raw: c, conf: l.conf}, nil
}

// conn is plain or TLS, which its first Read (or Write) finds out.
type conn struct {
	net.Conn // the raw connection until decided, then the one to use
	raw      net.Conn
	conf     *tls.Config
	once     sync.Once
	err      error
	isTLS    bool
}

// decide reads the first byte and puts it back in front of the stream.
func (c *conn) decide() {
	c.once.Do(func() {
		var first [1]byte
		if _, err := io.ReadFull(c.raw, first[:]); err != nil {
			c.err = err
			return
		}
		p := &prefixed{Conn: c.raw, first: first[0], pending: true}
		if first[0] == handshakeRecord {
			c.Conn, c.isTLS = tls.Server(p, c.conf), true
			return
		}
		c.Conn = p
	})
}

func (c *conn) Read(b []byte) (int, error) {
	c.decide()
	if c.err != nil {
		return 0, c.err
	}
	return c.Conn.Read(b)
}

func (c *conn) Write(b []byte) (int, error) {
	c.decide()
	if c.err != nil {
		return 0, c.err
	}
	return c.Conn.Write(b)
}

// TLS reports whether the connection turned out to be TLS (after the
// first Read).
func (c *conn) TLS() bool { return c.isTLS }

// Close, the deadlines and the addresses always act on the raw socket, so
// they work before the first byte came.
func (c *conn) Close() error                       { return c.raw.Close() }
func (c *conn) SetDeadline(t time.Time) error      { return c.raw.SetDeadline(t) }
func (c *conn) SetReadDeadline(t time.Time) error  { return c.raw.SetReadDeadline(t) }
func (c *conn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }
func (c *conn) LocalAddr() net.Addr                { return c.raw.LocalAddr() }
func (c *conn) RemoteAddr() net.Addr               { return c.raw.RemoteAddr() }

// prefixed is a connection with one byte already read from it.
type prefixed struct {
	net.Conn
	first   byte
	pending bool
}

func (p *prefixed) Read(b []byte) (int, error) {
	if p.pending && len(b) > 0 {
		b[0], p.pending = p.first, false
		if len(b) == 1 {
			return 1, nil
		}
		n, err := p.Conn.Read(b[1:])
		return n + 1, err
	}
	return p.Conn.Read(b)
}
