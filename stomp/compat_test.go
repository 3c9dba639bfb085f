package stomp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
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

// STOMP 1.0 clients (node stomp-client, Perl Net::Stomp, PHP's PECL stomp)
// SUBSCRIBE without an id header, which 1.0 allows: the destination is the
// subscription's id, ACK names the message-id and UNSUBSCRIBE the
// destination.
func TestStomp10SubscribeWithoutID(t *testing.T) {
	e := start(t)
	c := dial(t, e.addr)
	c.raw("CONNECT\nlogin:old\npasscode:x\n\n\x00")
	if f := c.expect("CONNECTED"); f.Value("version") != "1.0" {
		t.Fatalf("version %q, want 1.0", f.Value("version"))
	}
	c.send("SUBSCRIBE", "destination", "/topic/#", "ack", "client", "receipt", "s")
	c.expectReceipt("s")
	ids := e.publish(t, "pk1", payloads("old", 3)...)
	msgs := c.messages(3)
	if got := messageIDs(msgs); !slices.Equal(got, sorted(ids)) {
		t.Fatalf("got %v, want %v", got, ids)
	}
	for _, m := range msgs {
		if s := m.Value("subscription"); s != "/topic/#" {
			t.Errorf("subscription header %q, want the destination", s)
		}
	}
	// ack:client is cumulative: the last one acknowledges all three.
	c.send("ACK", "message-id", msgs[2].Value("message-id"), "receipt", "a")
	c.expectReceipt("a")
	e.waitBacklog(t, broker.DefaultGroupID, 0)

	c.send("UNSUBSCRIBE", "destination", "/topic/#", "receipt", "u")
	c.expectReceipt("u")
	if n := len(e.b.Members(broker.DefaultGroupID)); n != 0 {
		t.Fatalf("%d members after UNSUBSCRIBE", n)
	}
	// And it may subscribe again, this time with an id, and leave by either.
	c.send("SUBSCRIBE", "id", "sub-7", "destination", "/topic/#", "receipt", "s2")
	c.expectReceipt("s2")
	c.send("UNSUBSCRIBE", "destination", "/topic/#", "receipt", "u2")
	c.expectReceipt("u2")
	c.send("DISCONNECT", "receipt", "bye")
	c.expectReceipt("bye")
	c.expectClosed()
}

// STOMP 1.1 and 1.2 require the id of SUBSCRIBE and UNSUBSCRIBE.
func TestSubscribeIDRequiredSince11(t *testing.T) {
	e := start(t)
	for _, v := range []string{"1.1", "1.2"} {
		t.Run(v, func(t *testing.T) {
			c := dial(t, e.addr)
			c.raw("CONNECT\naccept-version:" + v + "\nhost:x\nlogin:new\npasscode:x\n\n\x00")
			c.expect("CONNECTED")
			c.send("SUBSCRIBE", "destination", "/topic/#")
			c.expectError("SUBSCRIBE needs an id header")

			c = dial(t, e.addr)
			c.raw("CONNECT\naccept-version:" + v + "\nhost:x\nlogin:new\npasscode:x\n\n\x00")
			c.expect("CONNECTED")
			c.subscribe("auto")
			c.send("UNSUBSCRIBE", "destination", "/topic/#")
			c.expectError("UNSUBSCRIBE needs an id header")
		})
	}
}

// A frame's body beyond the broker's message size limit is refused with an
// ERROR frame that says the size and the limit, before the body is read
// when a content-length announces it.
func TestBodyOverMessageSizeLimit(t *testing.T) {
	e := start(t, withBroker(func(c *broker.Config) { c.MaxMessageSize = 1000 }))
	if e.b.MaxMessageSize() != 1000 {
		t.Fatalf("broker limit %d", e.b.MaxMessageSize())
	}
	tests := []struct{ name, send, want string }{
		{"content-length", "SEND\ndestination:/pk/dn/user/update\ncontent-length:2000\n\n" + strings.Repeat("y", 2000) + "\x00",
			"message too large: SEND body of 2000 bytes exceeds the message size limit of 1000 bytes"},
		{"body to the NUL", "SEND\ndestination:/pk/dn/user/update\n\n" + strings.Repeat("y", 1500) + "\x00",
			"exceeds the message size limit of 1000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, e.addr)
			c.connect("plain", "x")
			c.raw(tt.send)
			f := c.expectError(tt.want)
			if !strings.HasPrefix(string(f.Body), "message too large: SEND body of ") {
				t.Errorf("ERROR body %q", f.Body)
			}
			e.good(t)
		})
	}
	// At the limit, the body is read and SEND refused for what it is.
	c := dial(t, e.addr)
	c.connect("plain", "x")
	c.raw("SEND\ndestination:/pk/dn/user/update\ncontent-length:1000\n\n" + strings.Repeat("y", 1000) + "\x00")
	c.expectError("publishing over STOMP is not offered")
}

// With a message size limit above the default frame limit, the frame limit
// grows with it: a body under the message limit is read.
func TestFrameLimitFollowsMessageSize(t *testing.T) {
	e := start(t, withBroker(func(c *broker.Config) { c.MaxMessageSize = 2 << 20 }))
	c := dial(t, e.addr)
	c.connect("plain", "x")
	c.raw("SEND\ndestination:/pk/dn/user/update\ncontent-length:1500000\n\n" + strings.Repeat("y", 1500000) + "\x00")
	c.expectError("publishing over STOMP is not offered")
}

// STOMP 1.0 has no header escapes: a 1.0 client gets colons as they are (a
// device name may hold them; ERROR messages do), not "\c", and its own
// header values are taken literally.
func TestStomp10HeadersUnescaped(t *testing.T) {
	e := start(t)
	t.Run("MESSAGE and RECEIPT", func(t *testing.T) {
		c := dial(t, e.addr)
		c.raw("CONNECT\nlogin:old10\npasscode:x\n\n\x00")
		c.raw("SUBSCRIBE\ndestination:/topic/#\nreceipt:r:1\\x\n\n\x00")
		e.waitMember(t, broker.DefaultGroupID, "old10")
		if _, err := e.b.Publish(context.Background(), broker.DeviceMessage{ProductKey: "pk", DeviceName: "AA:BB",
			Topic: "/pk/AA:BB/user/update", Payload: []byte("hi")}); err != nil {
			t.Fatal(err)
		}
		b := string(readNULs(t, c.nc, 3)) // CONNECTED, RECEIPT, MESSAGE
		for _, want := range []string{"receipt-id:r:1\\x\n", "destination:/pk/AA:BB/user/update\n", "topic:/pk/AA:BB/user/update\n"} {
			if !strings.Contains(b, want) {
				t.Errorf("no %q in %q", want, b)
			}
		}
	})
	t.Run("ERROR", func(t *testing.T) {
		c := dial(t, e.addr)
		user, _ := signedLogin(t, "old10", broker.DefaultGroupID, "")
		c.raw("CONNECT\nlogin:" + user + "\npasscode:AAAA\n\n\x00")
		if b := string(readToEOF(t, c.nc)); !strings.Contains(b, "\nmessage:authentication failed: signature does not match") {
			t.Fatalf("ERROR %q", b)
		}
	})
}
