package frame

import (
	"errors"
	"fmt"
	"strconv"
)

// Client commands (§Client Frames) and server commands (§Server Frames).
const (
	Connect     = "CONNECT"
	Stomp       = "STOMP" // a CONNECT under another name (1.2)
	Send        = "SEND"
	Subscribe   = "SUBSCRIBE"
	Unsubscribe = "UNSUBSCRIBE"
	Ack         = "ACK"
	Nack        = "NACK"
	Begin       = "BEGIN"
	Commit      = "COMMIT"
	Abort       = "ABORT"
	Disconnect  = "DISCONNECT"

	Connected = "CONNECTED"
	Message   = "MESSAGE"
	Receipt   = "RECEIPT"
	Error     = "ERROR"
)

// Header names the server reads or writes.
const (
	HdrAcceptVersion = "accept-version"
	HdrHost          = "host"
	HdrLogin         = "login"
	HdrPasscode      = "passcode"
	HdrHeartBeat     = "heart-beat"
	HdrVersion       = "version"
	HdrServer        = "server"
	HdrSession       = "session"
	HdrID            = "id"
	HdrDestination   = "destination"
	HdrAck           = "ack"
	HdrSubscription  = "subscription"
	HdrMessageID     = "message-id"
	HdrReceipt       = "receipt"
	HdrReceiptID     = "receipt-id"
	HdrMessage       = "message"
	HdrContentLength = "content-length"
	HdrContentType   = "content-type"
	HdrTransaction   = "transaction"
)

// Errors the Reader wraps with the detail of what was wrong.
var (
	ErrMalformed = errors.New("malformed frame")
	ErrTooLarge  = errors.New("frame too large")
)

// Header is one header line. A frame keeps every line in order: when a
// header repeats, the first occurrence is the one that counts (§Repeated
// Header Entries), but the others are kept so a frame re-encodes as read.
type Header struct {
	Key, Value string
}

// Frame is one STOMP frame. Header keys and values are unescaped.
type Frame struct {
	Command string
	Headers []Header
	Body    []byte // nil when empty
}

// Get returns the first value of header key.
func (f *Frame) Get(key string) (string, bool) {
	for _, h := range f.Headers {
		if h.Key == key {
			return h.Value, true
		}
	}
	return "", false
}

// Value returns the first value of header key, or "".
func (f *Frame) Value(key string) string {
	v, _ := f.Get(key)
	return v
}

// Add appends a header.
func (f *Frame) Add(key, value string) {
	f.Headers = append(f.Headers, Header{Key: key, Value: value})
}

// Escaped reports whether the headers of command are escaped: "CONNECT and
// CONNECTED frames do not escape" (§Value Encoding), and STOMP is a CONNECT.
func Escaped(command string) bool {
	return command != Connect && command != Stomp && command != Connected
}

// Append appends f to dst exactly as it is, its headers escaped as STOMP
// 1.1 and 1.2 escape them: no content-length is added, so a frame whose
// body may hold a NUL needs one among its headers.
func Append(dst []byte, f *Frame) []byte {
	if Escaped(f.Command) {
		return appendFrame(dst, f, AppendHeader)
	}
	return appendFrame(dst, f, appendHeaderRaw)
}

// Append10 appends f as a STOMP 1.0 peer reads it: 1.0 has no escapes, so
// header values go out as they are (see AppendHeader10).
func Append10(dst []byte, f *Frame) []byte {
	return appendFrame(dst, f, AppendHeader10)
}

func appendFrame(dst []byte, f *Frame, header func(dst []byte, key, value string) []byte) []byte {
	dst = append(dst, f.Command...)
	dst = append(dst, '\n')
	for _, h := range f.Headers {
		dst = header(dst, h.Key, h.Value)
	}
	return AppendBody(dst, f.Body)
}

// appendHeaderRaw appends a header line of CONNECT or CONNECTED, which are
// never escaped.
func appendHeaderRaw(dst []byte, key, value string) []byte {
	dst = append(dst, key...)
	dst = append(dst, ':')
	dst = append(dst, value...)
	return append(dst, '\n')
}

// AppendHeader10 appends a header line for a STOMP 1.0 peer: colons and
// backslashes as they are (1.0 readers split a line at its first colon), but
// CR and LF, which no 1.0 header line can carry, escaped as 1.2 does.
func AppendHeader10(dst []byte, key, value string) []byte {
	dst = appendEOLEscaped(dst, key)
	dst = append(dst, ':')
	dst = appendEOLEscaped(dst, value)
	return append(dst, '\n')
}

func appendEOLEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\n':
			dst = append(dst, '\\', 'n')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// AppendHeader appends one escaped header line.
func AppendHeader(dst []byte, key, value string) []byte {
	dst = appendEscaped(dst, key)
	dst = append(dst, ':')
	dst = appendEscaped(dst, value)
	return append(dst, '\n')
}

// AppendHeaderInt appends a header line with a decimal value.
func AppendHeaderInt(dst []byte, key string, value int64) []byte {
	dst = appendEscaped(dst, key)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, value, 10)
	return append(dst, '\n')
}

// AppendBody ends the headers and appends the body and the closing NUL.
func AppendBody(dst, body []byte) []byte {
	dst = append(dst, '\n')
	dst = append(dst, body...)
	return append(dst, 0)
}

// appendEscaped applies the 1.2 escapes (§Value Encoding).
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\n':
			dst = append(dst, '\\', 'n')
		case ':':
			dst = append(dst, '\\', 'c')
		case '\\':
			dst = append(dst, '\\', '\\')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// unescape reverses appendEscaped; "Undefined escape sequences such as \t
// MUST be treated as a fatal protocol error" (§Value Encoding).
func unescape(b []byte) (string, error) {
	i := 0
	for i < len(b) && b[i] != '\\' {
		i++
	}
	if i == len(b) {
		return string(b), nil
	}
	out := make([]byte, i, len(b))
	copy(out, b)
	for ; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i+1 == len(b) {
			return "", errors.New("header ends with a lone backslash")
		}
		i++
		switch b[i] {
		case 'r':
			out = append(out, '\r')
		case 'n':
			out = append(out, '\n')
		case 'c':
			out = append(out, ':')
		case '\\':
			out = append(out, '\\')
		default:
			return "", fmt.Errorf("undefined escape sequence %q in header", []byte{'\\', b[i]})
		}
	}
	return string(out), nil
}
