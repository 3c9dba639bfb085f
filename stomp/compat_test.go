package stomp_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
)

// readToEOF reads what the server sends until it closes the connection.
func readToEOF(t *testing.T, nc net.Conn) []byte {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(waitLong))
	b, err := io.ReadAll(nc)
	if err != nil && !isReset(err) && !errors.Is(err, net.ErrClosed) {
		t.Fatalf("reading to the end: %v (got %q)", err, b)
	}
	return b
}

// readNULs reads until n NULs have come.
func readNULs(t *testing.T, nc net.Conn, n int) []byte {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(waitLong))
	var b []byte
	buf := make([]byte, 4096)
	for bytes.Count(b, []byte{0}) < n {
		k, err := nc.Read(buf)
		b = append(b, buf[:k]...)
		if err != nil {
			t.Fatalf("after %q: %v", b, err)
		}
	}
	return b
}

// checkFramesEndWithEOL checks that every NUL in b, each ending a frame,
// is followed by an EOL (the bodies in these tests hold no NUL).
func checkFramesEndWithEOL(t *testing.T, b []byte, frames int) {
	t.Helper()
	if n := bytes.Count(b, []byte{0}); n != frames {
		t.Fatalf("%d frames, want %d: %q", n, frames, b)
	}
	for i, part := range bytes.Split(b, []byte{0})[1:] {
		if !bytes.HasPrefix(part, []byte("\n")) {
			t.Fatalf("frame %d ends with a NUL not followed by an EOL: %q", i+1, b)
		}
	}
}

// Every frame the server writes ends with NUL and an EOL, as RabbitMQ and
// ActiveMQ write them: PHP's PECL stomp reads the byte after a frame's NUL
// as part of that frame, and lost the next frame's first byte without it.
func TestFramesEndWithEOL(t *testing.T) {
	e := start(t)
	t.Run("CONNECTED RECEIPT MESSAGE", func(t *testing.T) {
		c := dial(t, e.addr)
		user, pass := signedLogin(t, "eol", broker.DefaultGroupID, "")
		c.raw("CONNECT\naccept-version:1.2\nlogin:" + user + "\npasscode:" + pass + "\n\n\x00")
		c.raw("SUBSCRIBE\nid:1\ndestination:/topic/#\nreceipt:s\n\n\x00")
		e.waitMember(t, broker.DefaultGroupID, "eol")
		e.publish(t, "pk", []byte("one"), []byte("two"))
		b := readNULs(t, c.nc, 4) // CONNECTED, RECEIPT, MESSAGE, MESSAGE
		c.raw("DISCONNECT\nreceipt:bye\n\n\x00")
		b = append(b, readToEOF(t, c.nc)...)
		checkFramesEndWithEOL(t, b, 5)
		if !bytes.HasPrefix(b, []byte("CONNECTED\n")) || !bytes.HasSuffix(b, []byte("receipt-id:bye\n\n\x00\n")) {
			t.Fatalf("frames %q", b)
		}
	})
	t.Run("ERROR", func(t *testing.T) {
		c := dial(t, e.addr)
		c.raw("FLY\n\n\x00")
		b := readToEOF(t, c.nc)
		checkFramesEndWithEOL(t, b, 1)
		if !bytes.HasPrefix(b, []byte("ERROR\n")) {
			t.Fatalf("frames %q", b)
		}
	})
}
