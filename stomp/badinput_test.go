package stomp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/stomp"
)

const connectUnsigned = "CONNECT\naccept-version:1.2\nhost:x\nlogin:plain\npasscode:x\n\n\x00"

// TestBadInput sends each kind of bad input on a fresh connection: the
// client gets an ERROR frame whose message says what was wrong, the
// connection closes, and a fresh client is served as before.
func TestBadInput(t *testing.T) {
	e := start(t, withConfig(func(c *stomp.Config) {
		c.MaxFrameSize = 64 << 10
		c.MaxHeaderSize = 4 << 10
	}))
	user, pass := signedLogin(t, "c1", broker.DefaultGroupID, "")
	connect := "CONNECT\naccept-version:1.2\nlogin:" + user + "\npasscode:" + pass + "\n\n\x00"
	subscribe := "SUBSCRIBE\nid:1\ndestination:/topic/#\n\n\x00"
	badSig := strings.Replace(connect, "passcode:"+pass, "passcode:AAAA", 1)
	tests := []struct {
		name    string
		send    string // after CONNECTED when connected
		connect bool   // sign in first
		want    string // in the ERROR frame's message header
	}{
		{"frame before CONNECT", subscribe, false, "expected a CONNECT or STOMP frame first, got SUBSCRIBE"},
		{"malformed user name", "CONNECT\nlogin:c1|authMode=aksign,signMethod=hmacsha1|\npasscode:x\n\n\x00", false, "authentication failed: malformed signed user name: consumerGroupId is missing"},
		{"unknown access key", strings.Replace(connect, "authId="+testAK, "authId=nobody", 1), false, `authentication failed: unknown access key id: "nobody"`},
		{"bad signature", badSig, false, "authentication failed: signature does not match"},
		{"unsupported version", "CONNECT\naccept-version:2.0\n\n\x00", false, `unsupported protocol versions "2.0"`},
		{"bad heart-beat", "CONNECT\nheart-beat:fast\n\n\x00", false, `heart-beat header "fast"`},
		{"second CONNECT", connect, true, "already connected"},
		{"unknown command", "FLY\n\n\x00", true, `unknown command "FLY"`},
		{"header line without colon", "SUBSCRIBE\nid\n\n\x00", true, "malformed frame: SUBSCRIBE: header line \"id\" has no colon"},
		{"undefined escape", "SUBSCRIBE\nid:a\\tb\n\n\x00", true, `undefined escape sequence "\\t"`},
		{"oversized header", "SEND\nx:" + strings.Repeat("y", 5000) + "\n\n\x00", true, "frame too large: command and headers exceed 4096 bytes"},
		{"oversized body", "SEND\ndestination:/q\n\n" + strings.Repeat("y", 70<<10) + "\x00", true, "frame too large: body exceeds"},
		{"oversized content-length", "SEND\ncontent-length:100000\n\n" + strings.Repeat("y", 100000) + "\x00", true, "content-length 100000 exceeds"},
		{"bad content-length", "SEND\ncontent-length:12a\n\n\x00", true, `content-length "12a" is not a non-negative decimal number`},
		{"no NUL after content-length", "SEND\ncontent-length:2\n\nabc\x00", true, "no NUL after the 2 bytes of content-length"},
		{"SEND", "SEND\ndestination:/pk/dn/user/update\n\nhi\x00", true, "publishing over STOMP is not offered"},
		{"BEGIN", "BEGIN\ntransaction:t1\n\n\x00", true, "transactions are not supported"},
		{"COMMIT", "COMMIT\ntransaction:t1\n\n\x00", true, "transactions are not supported"},
		{"wrong destination", "SUBSCRIBE\nid:1\ndestination:/queue/foo\n\n\x00", true, `destination "/queue/foo" is not served: subscribe to /topic/#; the consumer group comes from the user name`},
		{"bad ack mode", "SUBSCRIBE\nid:1\ndestination:/topic/#\nack:sometimes\n\n\x00", true, `ack header "sometimes"`},
		{"SUBSCRIBE without id", "SUBSCRIBE\ndestination:/topic/#\n\n\x00", true, "SUBSCRIBE needs an id header"},
		{"second SUBSCRIBE", subscribe + "SUBSCRIBE\nid:2\ndestination:/topic/#\n\n\x00", true, `already has subscription "1": one subscription per connection`},
		{"UNSUBSCRIBE of nothing", "UNSUBSCRIBE\nid:9\n\n\x00", true, `no subscription "9"`},
		{"ACK of an id never sent", subscribe + "ACK\nid:42\n\n\x00", true, `ACK of id "42": no MESSAGE carried that ack header`},
		{"ACK without id", "ACK\n\n\x00", true, "ACK needs an id header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, e.addr)
			if tt.connect {
				c.raw(connect)
				c.expect("CONNECTED")
			}
			c.raw(tt.send)
			c.expectError(tt.want)
			e.good(t)
		})
	}
}

func TestSignedLoginRequired(t *testing.T) {
	e := start(t, withConfig(func(c *stomp.Config) { c.Authenticator = signedAuth(false) }))
	c := dial(t, e.addr)
	c.raw(connectUnsigned)
	c.expectError("authentication failed: a signed user name is required")
	if n := e.obs.protocolErrors.Load(); n != 1 {
		t.Errorf("%d protocol errors observed, want 1", n)
	}
}

// The ERROR frame names the frame at fault by its receipt (§ERROR).
func TestErrorCarriesReceiptID(t *testing.T) {
	e := start(t)
	c := dial(t, e.addr)
	c.raw(connectUnsigned)
	c.expect("CONNECTED")
	c.send("SEND", "destination", "/x", "receipt", "r-77")
	f := c.expectError("publishing over STOMP is not offered")
	if got := f.Value("receipt-id"); got != "r-77" {
		t.Fatalf("receipt-id %q, want r-77", got)
	}
	if !strings.Contains(string(f.Body), "publishing over STOMP") {
		t.Fatalf("body %q does not explain", f.Body)
	}
}

func TestHandshakeTimeouts(t *testing.T) {
	e := start(t, withConfig(func(c *stomp.Config) { c.HandshakeTimeout = 200 * time.Millisecond }))
	t.Run("no CONNECT", func(t *testing.T) {
		c := dial(t, e.addr)
		c.expectError("no CONNECT frame within 200ms")
	})
	t.Run("no SUBSCRIBE", func(t *testing.T) {
		c := dial(t, e.addr)
		c.raw(connectUnsigned)
		c.expect("CONNECTED")
		c.expectError("no SUBSCRIBE to /topic/# within 200ms")
	})
	t.Run("heart-beats do not replace CONNECT", func(t *testing.T) {
		c := dial(t, e.addr)
		for range 3 {
			c.raw("\n")
		}
		c.expectError("no CONNECT frame within 200ms")
	})
}

func TestClientHeartbeatMissing(t *testing.T) {
	e := start(t, withConfig(func(c *stomp.Config) { c.ClientHeartbeat = 100 * time.Millisecond }))
	c := dial(t, e.addr)
	f := c.connect("plain", "x", "heart-beat", "100,0")
	if got := f.Value("heart-beat"); got != "100,100" {
		t.Fatalf("CONNECTED heart-beat %q, want 100,100", got)
	}
	c.subscribe("auto")
	c.expectError("no heart-beat or frame from the client for 200ms")
}

// A client that beats as agreed stays connected.
func TestClientHeartbeatKeepsAlive(t *testing.T) {
	e := start(t, withConfig(func(c *stomp.Config) { c.ClientHeartbeat = 300 * time.Millisecond }))
	c := dial(t, e.addr)
	c.connect("plain", "x", "heart-beat", "50,0") // agreed: every 300 ms, closed after 600 ms
	c.subscribe("auto")
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for range 20 { // a second of beats: well past the 600 ms grace
		<-tick.C
		c.raw("\r\n")
	}
	c.send("UNSUBSCRIBE", "id", "1", "receipt", "still-here")
	c.expectReceipt("still-here")
}

func TestServerHeartbeats(t *testing.T) {
	e := start(t, withConfig(func(c *stomp.Config) { c.HeartbeatFloor = 20 * time.Millisecond }))
	c := dial(t, e.addr)
	f := c.connect("plain", "x", "heart-beat", "0,50")
	if got := f.Value("heart-beat"); got != "20,10000" {
		t.Fatalf("CONNECTED heart-beat %q, want 20,10000", got)
	}
	c.subscribe("auto")
	// Count EOLs straight off the socket: at least a few must come, and
	// never more than one per agreed 50 ms.
	began := time.Now()
	c.nc.SetReadDeadline(time.Now().Add(waitLong))
	beats := 0
	buf := make([]byte, 1)
	for beats < 5 {
		if _, err := c.nc.Read(buf); err != nil {
			t.Fatalf("after %d heart-beats: %v", beats, err)
		}
		if buf[0] != '\n' {
			t.Fatalf("got %q between frames, want only EOLs", buf)
		}
		beats++
	}
	if most := int(time.Since(began)/(50*time.Millisecond)) + 1; beats > most {
		t.Fatalf("%d heart-beats in %s: more than one per 50 ms", beats, time.Since(began))
	}
}

// The vendor's PHP sample asks for a beat every 10 s; a floor applies to
// clients asking for less than HeartbeatFloor.
func TestHeartbeatNegotiation(t *testing.T) {
	e := start(t)
	c := dial(t, e.addr)
	if got := c.connect("plain", "x", "heart-beat", "0,10000").Value("heart-beat"); got != "100,10000" {
		t.Fatalf("CONNECTED heart-beat %q, want 100,10000", got)
	}
}

func TestReceiptsAndDisconnect(t *testing.T) {
	e := start(t)
	c := dial(t, e.addr)
	f := c.connect("plain", "x")
	for _, h := range []string{"version", "server", "session", "heart-beat"} {
		if _, ok := f.Get(h); !ok {
			t.Errorf("CONNECTED lacks %s: %q", h, f.Headers)
		}
	}
	if f.Value("version") != "1.2" || f.Value("server") != "amqpemu" {
		t.Errorf("CONNECTED %q", f.Headers)
	}
	c.subscribe("auto")
	c.send("UNSUBSCRIBE", "id", "1", "receipt", "u1")
	c.expectReceipt("u1")
	c.subscribe("client")
	c.send("DISCONNECT", "receipt", "77")
	c.expectReceipt("77")
	c.expectClosed()
}

// STOMP 1.0 and 1.1 clients are served; CRLF line ends, the STOMP command
// and heart-beats between frames are tolerated.
func TestOlderClientsAndCRLF(t *testing.T) {
	e := start(t)
	for connect, version := range map[string]string{
		"CONNECT\r\nlogin:old\r\npasscode:x\r\n\r\n\x00\r\n":                "1.0",
		"\n\nSTOMP\naccept-version:1.0,1.1\nhost:x\n\n\x00\n":               "1.1",
		"STOMP\naccept-version:1.1,1.2,2.0\nhost:x\nheart-beat:0,0\n\n\x00": "1.2",
	} {
		c := dial(t, e.addr)
		c.raw(connect)
		if f := c.expect("CONNECTED"); f.Value("version") != version {
			t.Fatalf("version %q, want %s", f.Value("version"), version)
		}
		c.raw("\r\n\nSUBSCRIBE\r\nid:1\r\ndestination:/topic/#\r\nreceipt:s\r\n\r\n\x00\n\n")
		c.expectReceipt("s")
		c.send("DISCONNECT")
		c.expectClosed()
	}
}

func TestObserverCountsConnections(t *testing.T) {
	e := start(t)
	for range 3 {
		c := dial(t, e.addr)
		c.connect("plain", "x")
		c.send("DISCONNECT", "receipt", "bye")
		c.expectReceipt("bye")
		c.expectClosed()
	}
	deadline := time.Now().Add(waitLong)
	for e.obs.disconnected.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the counters
	}
	if c, d := e.obs.connected.Load(), e.obs.disconnected.Load(); c != 3 || d != 3 {
		t.Fatalf("observed %d connected, %d disconnected; want 3, 3", c, d)
	}
	if n := e.obs.protocolErrors.Load(); n != 0 {
		t.Fatalf("%d protocol errors for clean disconnects", n)
	}
}
