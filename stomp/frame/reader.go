package frame

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits bound what a Reader accepts.
type Limits struct {
	// MaxHeader bounds the command line and header lines, EOLs included.
	MaxHeader int
	// MaxFrame bounds the whole frame: command, headers and body.
	MaxFrame int
	// MaxBody bounds a frame's body, the message it carries; zero leaves
	// only MaxFrame. A body beyond it is a *BodyTooLargeError.
	MaxBody int
}

// BodyTooLargeError refuses a body beyond Limits.MaxBody. It wraps
// ErrTooLarge.
type BodyTooLargeError struct {
	Command string
	Size    int  // the content-length; without one, the bytes read before giving up
	AtLeast bool // no content-length: the body has at least Size bytes
	Limit   int  // Limits.MaxBody
}

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("%v: %s body of %s bytes exceeds the limit of %d bytes", ErrTooLarge, e.Command, e.SizeText(), e.Limit)
}

// SizeText is the body's size for a message: "300000", or "at least 266240".
func (e *BodyTooLargeError) SizeText() string {
	if e.AtLeast {
		return "at least " + strconv.Itoa(e.Size)
	}
	return strconv.Itoa(e.Size)
}

func (e *BodyTooLargeError) Unwrap() error { return ErrTooLarge }

// Reader reads frames from a stream.
type Reader struct {
	br   *bufio.Reader
	lim  Limits
	line []byte // reused across lines
	raw  bool   // headers are not escaped: STOMP 1.0
}

// SetVersion10 makes the Reader take header lines as STOMP 1.0 writes them,
// with no escapes: a backslash is a backslash.
func (r *Reader) SetVersion10() { r.raw = true }

// NewReader returns a Reader of r that refuses frames beyond lim.
func NewReader(r io.Reader, lim Limits) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 4096), lim: lim}
}

// ReadFrame returns the next frame, skipping the EOLs that are heart-beats
// or end a previous frame. It returns io.EOF when the stream ends between
// frames, an error wrapping ErrMalformed or ErrTooLarge for a bad frame,
// and the stream's error otherwise (io.ErrUnexpectedEOF inside a frame).
func (r *Reader) ReadFrame() (*Frame, error) {
	if err := r.skipEOLs(); err != nil {
		return nil, err
	}
	used := 0
	line, err := r.readLine(&used)
	if err != nil {
		return nil, err
	}
	if err := checkLine(line); err != nil {
		return nil, fmt.Errorf("%w: command line: %w", ErrMalformed, err)
	}
	f := &Frame{Command: command(line)}
	if err := r.readHeaders(f, &used); err != nil {
		return nil, err
	}
	if f.Body, err = r.readBody(f, r.lim.MaxFrame-used); err != nil {
		return nil, err
	}
	return f, nil
}

// skipEOLs consumes LF and CRLF before a frame (§Heart-beating: "the sender
// MUST send ... an EOL", and frames may be followed by EOLs).
func (r *Reader) skipEOLs() error {
	for {
		b, err := r.br.Peek(1)
		if err != nil {
			return err
		}
		switch b[0] {
		case '\n':
			r.br.Discard(1)
		case '\r':
			b, err := r.br.Peek(2)
			if err != nil || b[1] != '\n' {
				return r.eofInside(err) // a lone CR starts a (malformed) command line
			}
			r.br.Discard(2)
		default:
			return nil
		}
	}
}

// eofInside turns the end of the stream inside a frame into
// io.ErrUnexpectedEOF; nil stays nil.
func (r *Reader) eofInside(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readLine returns the next line without its EOL, counting its bytes into
// *used and failing once they pass MaxHeader.
func (r *Reader) readLine(used *int) ([]byte, error) {
	r.line = r.line[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		*used += len(chunk)
		if *used > r.lim.MaxHeader {
			return nil, fmt.Errorf("%w: command and headers exceed %d bytes", ErrTooLarge, r.lim.MaxHeader)
		}
		r.line = append(r.line, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, r.eofInside(err)
		}
	}
	line := r.line[:len(r.line)-1]
	return bytes.TrimSuffix(line, []byte{'\r'}), nil
}

// checkLine refuses what an EOL-delimited line cannot carry back out: an
// empty command, a raw CR (1.2 escapes it), or a NUL (it ends frames).
func checkLine(line []byte) error {
	switch {
	case len(line) == 0:
		return errors.New("empty")
	case bytes.IndexByte(line, '\r') >= 0:
		return fmt.Errorf("%q holds a carriage return", line)
	case bytes.IndexByte(line, 0) >= 0:
		return fmt.Errorf("%q holds a NUL (is a blank line missing before the body?)", line)
	}
	return nil
}

// readHeaders reads header lines up to the blank line that ends them.
func (r *Reader) readHeaders(f *Frame, used *int) error {
	esc := Escaped(f.Command) && !r.raw
	f.Headers = make([]Header, 0, 4)
	for {
		line, err := r.readLine(used)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			if len(f.Headers) == 0 {
				f.Headers = nil
			}
			return nil
		}
		h, err := parseHeader(line, esc)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrMalformed, f.Command, err)
		}
		f.Headers = append(f.Headers, h)
	}
}

func parseHeader(line []byte, esc bool) (Header, error) {
	if err := checkLine(line); err != nil {
		return Header{}, fmt.Errorf("header line %w", err)
	}
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return Header{}, fmt.Errorf("header line %q has no colon", line)
	}
	if i == 0 {
		return Header{}, fmt.Errorf("header line %q has an empty name", line)
	}
	if !esc {
		return Header{Key: headerName(line[:i]), Value: string(line[i+1:])}, nil
	}
	k := headerName(line[:i])
	if bytes.IndexByte(line[:i], '\\') >= 0 {
		var err error
		if k, err = unescape(line[:i]); err != nil {
			return Header{}, err
		}
	}
	v, err := unescape(line[i+1:])
	if err != nil {
		return Header{}, err
	}
	return Header{Key: k, Value: v}, nil
}

// readBody reads content-length bytes and the NUL after them, or without a
// content-length everything up to the first NUL; at most max bytes, and at
// most MaxBody.
func (r *Reader) readBody(f *Frame, max int) ([]byte, error) {
	cl, ok := f.Get(HdrContentLength)
	if !ok {
		return r.readToNUL(f.Command, max)
	}
	n, err := parseLength(cl)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: content-length %q %w", ErrMalformed, f.Command, cl, err)
	}
	if r.lim.MaxBody > 0 && n > r.lim.MaxBody {
		return nil, &BodyTooLargeError{Command: f.Command, Size: n, Limit: r.lim.MaxBody}
	}
	if n > max {
		return nil, fmt.Errorf("%w: %s: content-length %d exceeds the %d bytes left of the frame limit", ErrTooLarge, f.Command, n, max)
	}
	var body []byte
	if n > 0 {
		body = make([]byte, n)
		if _, err := io.ReadFull(r.br, body); err != nil {
			return nil, r.eofInside(err)
		}
	}
	switch b, err := r.br.ReadByte(); {
	case err != nil:
		return nil, r.eofInside(err)
	case b != 0:
		return nil, fmt.Errorf("%w: %s: no NUL after the %d bytes of content-length", ErrMalformed, f.Command, n)
	}
	return body, nil
}

func (r *Reader) readToNUL(cmd string, max int) ([]byte, error) {
	var body []byte
	for {
		chunk, err := r.br.ReadSlice(0)
		if n := len(body) + len(chunk); r.lim.MaxBody > 0 && n > r.lim.MaxBody+1 { // +1: the NUL
			if err == nil {
				n-- // the NUL came: n is the size
			}
			return nil, &BodyTooLargeError{Command: cmd, Size: n, AtLeast: err != nil, Limit: r.lim.MaxBody}
		}
		if len(body)+len(chunk) > max+1 { // +1: the NUL
			return nil, fmt.Errorf("%w: body exceeds %d bytes without a NUL", ErrTooLarge, max)
		}
		if err == nil && body == nil && len(chunk) == 1 {
			return nil, nil // no body, as most client frames
		}
		body = append(body, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, r.eofInside(err)
		}
	}
	if len(body) == 1 {
		return nil, nil
	}
	return body[:len(body)-1], nil
}

// parseLength reads a content-length: decimal digits, surrounding spaces
// tolerated (some 1.0 clients write "content-length: 5").
func parseLength(s string) (int, error) {
	t := []byte(s)
	t = bytes.TrimSpace(t)
	if len(t) == 0 {
		return 0, errors.New("is empty")
	}
	for _, c := range t {
		if c < '0' || c > '9' {
			return 0, errors.New("is not a non-negative decimal number")
		}
	}
	n, err := strconv.Atoi(string(t))
	if err != nil {
		return 0, errors.New("is out of range")
	}
	return n, nil
}

// commands interns the known commands: a frame's command costs no allocation.
var commands = []string{Connect, Stomp, Send, Subscribe, Unsubscribe, Ack, Nack, Begin, Commit, Abort, Disconnect,
	Connected, Message, Receipt, Error}

func command(line []byte) string {
	for _, c := range commands {
		if string(line) == c {
			return c
		}
	}
	return string(line)
}

// headerNames interns the header names clients send, as commands does.
var headerNames = []string{HdrAcceptVersion, HdrHost, HdrLogin, HdrPasscode, HdrHeartBeat, HdrID, HdrDestination,
	HdrAck, HdrSubscription, HdrMessageID, HdrReceipt, HdrContentLength, HdrContentType, HdrTransaction}

func headerName(b []byte) string {
	for _, h := range headerNames {
		if string(b) == h {
			return h
		}
	}
	return string(b)
}
