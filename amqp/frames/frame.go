package frames

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/amqpemu/amqpemu/amqp/encoding"
)

// Frame types (§2.3.1, §5.3.1).
const (
	TypeAMQP uint8 = 0x00
	TypeSASL uint8 = 0x01
)

// HeaderSize is the fixed frame header size; MinMaxFrameSize is the smallest
// max-frame-size a peer may announce (§2.7.1) and the limit before open.
const (
	HeaderSize      = 8
	MinMaxFrameSize = 512
)

// Protocol headers (§2.2, §5.3.2).
var (
	ProtocolAMQP = [8]byte{'A', 'M', 'Q', 'P', 0, 1, 0, 0}
	ProtocolTLS  = [8]byte{'A', 'M', 'Q', 'P', 2, 1, 0, 0}
	ProtocolSASL = [8]byte{'A', 'M', 'Q', 'P', 3, 1, 0, 0}
)

// EmptyFrame is a frame with no body, used as a heartbeat (§2.4.5).
var EmptyFrame = []byte{0, 0, 0, 8, 2, TypeAMQP, 0, 0}

// Errors returned by the frame parser. All wrap ErrFrame.
var (
	ErrFrame           = errors.New("amqp: malformed frame")
	ErrUnknownBody     = fmt.Errorf("%w: unknown performative", ErrFrame)
	ErrMissingField    = fmt.Errorf("%w: mandatory field missing", ErrFrame)
	errBadHeaderSize   = fmt.Errorf("%w: size smaller than the frame header", ErrFrame)
	errBadDataOffset   = fmt.Errorf("%w: data offset outside the frame", ErrFrame)
	errTrailingGarbage = fmt.Errorf("%w: bytes after the performative", ErrFrame)
)

// Header is the 8-byte frame header (§2.3.1).
type Header struct {
	Size       uint32 // whole frame, header included
	DataOffset uint8  // in 4-byte words, at least 2
	Type       uint8
	Channel    uint16
}

// ParseHeader decodes a frame header from the first 8 bytes of b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: short header", ErrFrame)
	}
	h := Header{
		Size:       binary.BigEndian.Uint32(b),
		DataOffset: b[4],
		Type:       b[5],
		Channel:    binary.BigEndian.Uint16(b[6:]),
	}
	if h.Size < HeaderSize {
		return h, errBadHeaderSize
	}
	if h.DataOffset < 2 || uint32(h.DataOffset)*4 > h.Size {
		return h, errBadDataOffset
	}
	return h, nil
}

// Body is a frame body: a performative or a SASL frame.
type Body interface {
	// Append encodes the body onto b.
	Append(b []byte) []byte
	fmt.Stringer
}

// BeginFrame appends a frame header with a placeholder size; EndFrame sets it.
func BeginFrame(b []byte, typ uint8, channel uint16) ([]byte, int) {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 2, typ, 0, 0)
	binary.BigEndian.PutUint16(b[start+6:], channel)
	return b, start
}

// EndFrame writes the size of the frame started at start.
func EndFrame(b []byte, start int) []byte {
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start))
	return b
}

// AppendFrame appends a whole frame carrying body and an optional payload.
func AppendFrame(b []byte, typ uint8, channel uint16, body Body, payload []byte) []byte {
	b, start := BeginFrame(b, typ, channel)
	b = body.Append(b)
	b = append(b, payload...)
	return EndFrame(b, start)
}

// ParseBody decodes the frame body that follows the header (from the data
// offset on). It returns the body and any payload that follows it, which only
// a transfer may carry. An empty body (heartbeat) returns nil, nil, nil.
func ParseBody(typ uint8, b []byte) (Body, []byte, error) {
	if len(b) == 0 {
		return nil, nil, nil
	}
	r := encoding.NewReader(b)
	code, other, known, err := r.ReadDescriptor()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrFrame, err)
	}
	if !known {
		return nil, nil, fmt.Errorf("%w: descriptor %v", ErrUnknownBody, other)
	}
	body, err := newBody(typ, code)
	if err != nil {
		return nil, nil, err
	}
	f, err := r.ReadList()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrFrame, body, err)
	}
	if err := decodeFields(body, &f); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrFrame, body, err)
	}
	// Step over fields this version does not define: a later minor version
	// may add some, but a list must hold every field it declares.
	for f.Left() > 0 && f.Err() == nil { // Skip does not advance past an error
		f.Skip()
	}
	if err := f.Err(); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrFrame, body, err)
	}
	rest := r.Rest()
	if _, isTransfer := body.(*Transfer); !isTransfer && len(rest) > 0 {
		return nil, nil, errTrailingGarbage
	}
	return body, rest, nil
}

// decodeFields calls the decode method of v's concrete type. Calling it
// directly rather than through an interface lets escape analysis keep the
// FieldReader on the caller's stack: one allocation less per frame.
func decodeFields(v any, f *encoding.FieldReader) error {
	switch v := v.(type) {
	case *Open:
		return v.decode(f)
	case *Begin:
		return v.decode(f)
	case *Attach:
		return v.decode(f)
	case *Flow:
		return v.decode(f)
	case *Transfer:
		return v.decode(f)
	case *Disposition:
		return v.decode(f)
	case *Detach:
		return v.decode(f)
	case *End:
		return v.decode(f)
	case *Close:
		return v.decode(f)
	case *SASLMechanisms:
		return v.decode(f)
	case *SASLInit:
		return v.decode(f)
	case *SASLChallenge:
		return v.decode(f)
	case *SASLResponse:
		return v.decode(f)
	case *SASLOutcome:
		return v.decode(f)
	case *Received:
		return v.decode(f)
	case *Accepted:
		return v.decode(f)
	case *Rejected:
		return v.decode(f)
	case *Released:
		return v.decode(f)
	case *Modified:
		return v.decode(f)
	}
	return fmt.Errorf("%w: no decoder for %T", ErrFrame, v)
}

// ptrTo returns a pointer to a copy of v, for optional fields: allocating
// only when a field is present, not for every one that might be.
func ptrTo[T any](v T) *T { return &v }

func newBody(typ uint8, code uint64) (Body, error) {
	if typ == TypeSASL {
		switch code {
		case encoding.DescSASLMechanisms:
			return &SASLMechanisms{}, nil
		case encoding.DescSASLInit:
			return &SASLInit{}, nil
		case encoding.DescSASLChallenge:
			return &SASLChallenge{}, nil
		case encoding.DescSASLResponse:
			return &SASLResponse{}, nil
		case encoding.DescSASLOutcome:
			return &SASLOutcome{}, nil
		}
		return nil, fmt.Errorf("%w: 0x%02x in a SASL frame", ErrUnknownBody, code)
	}
	if typ != TypeAMQP {
		return nil, fmt.Errorf("%w: frame type 0x%02x", ErrFrame, typ)
	}
	switch code {
	case encoding.DescOpen:
		return &Open{}, nil
	case encoding.DescBegin:
		return &Begin{}, nil
	case encoding.DescAttach:
		return &Attach{}, nil
	case encoding.DescFlow:
		return &Flow{}, nil
	case encoding.DescTransfer:
		return &Transfer{}, nil
	case encoding.DescDisposition:
		return &Disposition{}, nil
	case encoding.DescDetach:
		return &Detach{}, nil
	case encoding.DescEnd:
		return &End{}, nil
	case encoding.DescClose:
		return &Close{}, nil
	}
	return nil, fmt.Errorf("%w: 0x%02x", ErrUnknownBody, code)
}

// missing reports a mandatory field that was absent.
func missing(name string) error { return fmt.Errorf("%w: %s", ErrMissingField, name) }
