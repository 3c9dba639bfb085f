package frames

import (
	"errors"
	"fmt"

	"github.com/amqpemu/amqpemu/amqp/encoding"
)

// ErrMessage wraps every message parsing error.
var ErrMessage = errors.New("amqp: malformed message")

// Message is an AMQP message split into its sections (§3.2). Every field is a
// slice of the input holding the section's whole encoding (descriptor
// included), so forwarding Bare keeps the bare message byte-identical.
type Message struct {
	Header                []byte
	DeliveryAnnotations   []byte
	MessageAnnotations    []byte
	Properties            []byte
	ApplicationProperties []byte
	Body                  [][]byte // data, amqp-sequence sections, or one amqp-value
	Footer                []byte

	// Bare is the bare message: properties through the last body section
	// (or application-data), exactly as received.
	Bare []byte
}

// section order ranks; sections must appear in this order, each at most once
// except body sections.
const (
	rankHeader = iota
	rankDeliveryAnnotations
	rankMessageAnnotations
	rankProperties
	rankApplicationProperties
	rankBody
	rankFooter
)

var sectionRank = map[uint64]int{
	encoding.DescHeader:                rankHeader,
	encoding.DescDeliveryAnnotations:   rankDeliveryAnnotations,
	encoding.DescMessageAnnotations:    rankMessageAnnotations,
	encoding.DescProperties:            rankProperties,
	encoding.DescApplicationProperties: rankApplicationProperties,
	encoding.DescData:                  rankBody,
	encoding.DescAMQPSequence:          rankBody,
	encoding.DescAMQPValue:             rankBody,
	encoding.DescFooter:                rankFooter,
}

// ParseMessage splits b into sections without decoding their contents.
func ParseMessage(b []byte) (Message, error) {
	var m Message
	r := encoding.NewReader(b)
	last := -1
	bareStart, bareEnd := -1, -1
	var bodyKind uint64
	for r.Len() > 0 {
		start := r.Offset()
		code, other, known, err := r.ReadDescriptor()
		if err != nil {
			return m, fmt.Errorf("%w: section at offset %d: %w", ErrMessage, start, err)
		}
		rank, ok := sectionRank[code]
		if !known || !ok {
			return m, fmt.Errorf("%w: unknown section descriptor %v at offset %d", ErrMessage, descName(code, other, known), start)
		}
		if _, err := r.Skip(); err != nil {
			return m, fmt.Errorf("%w: section 0x%02x: %w", ErrMessage, code, err)
		}
		sec := b[start:r.Offset()]
		if rank < last || (rank == last && rank != rankBody) {
			return m, fmt.Errorf("%w: section 0x%02x out of order", ErrMessage, code)
		}
		if rank == rankBody {
			if len(m.Body) > 0 && (code != bodyKind || code == encoding.DescAMQPValue) {
				return m, fmt.Errorf("%w: mixed or repeated body sections", ErrMessage)
			}
			bodyKind = code
		}
		last = rank
		if rank >= rankProperties && rank <= rankBody {
			if bareStart < 0 {
				bareStart = start
			}
			bareEnd = r.Offset()
		}
		m.assign(rank, sec)
	}
	if bareStart >= 0 {
		m.Bare = b[bareStart:bareEnd]
	}
	return m, nil
}

func descName(code uint64, other any, known bool) any {
	if known {
		return fmt.Sprintf("0x%02x", code)
	}
	return other
}

func (m *Message) assign(rank int, sec []byte) {
	switch rank {
	case rankHeader:
		m.Header = sec
	case rankDeliveryAnnotations:
		m.DeliveryAnnotations = sec
	case rankMessageAnnotations:
		m.MessageAnnotations = sec
	case rankProperties:
		m.Properties = sec
	case rankApplicationProperties:
		m.ApplicationProperties = sec
	case rankBody:
		m.Body = append(m.Body, sec)
	case rankFooter:
		m.Footer = sec
	}
}

// MessageHeader is the header section (§3.2.1).
type MessageHeader struct {
	Durable       bool
	Priority      uint8 // default 4
	TTL           uint32
	FirstAcquirer bool
	DeliveryCount uint32
}

// DecodeHeader decodes a header section.
func DecodeHeader(raw []byte) (MessageHeader, error) {
	h := MessageHeader{Priority: 4}
	f, err := openComposite(raw, encoding.DescHeader, "header")
	if err != nil {
		return h, err
	}
	f.Bool(&h.Durable)
	f.Ubyte(&h.Priority)
	f.Uint(&h.TTL)
	f.Bool(&h.FirstAcquirer)
	f.Uint(&h.DeliveryCount)
	return h, f.Err()
}

// Append encodes the header section.
func (h *MessageHeader) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescHeader)
	optTrue(&w, h.Durable)
	if h.Priority != 4 {
		w.Ubyte(h.Priority)
	} else {
		w.Null()
	}
	optUint(&w, h.TTL)
	optTrue(&w, h.FirstAcquirer)
	optUint(&w, h.DeliveryCount)
	return w.End()
}

// Properties is the properties section (§3.2.4). Message and correlation ids
// may be ulong, uuid, binary or string.
type Properties struct {
	MessageID          any
	UserID             []byte
	To                 string
	Subject            string
	ReplyTo            string
	CorrelationID      any
	ContentType        encoding.Symbol
	ContentEncoding    encoding.Symbol
	AbsoluteExpiryTime encoding.Timestamp
	CreationTime       encoding.Timestamp
	GroupID            string
	GroupSequence      uint32
	ReplyToGroupID     string
}

// DecodeProperties decodes a properties section.
func DecodeProperties(raw []byte) (Properties, error) {
	var p Properties
	f, err := openComposite(raw, encoding.DescProperties, "properties")
	if err != nil {
		return p, err
	}
	p.MessageID = f.Value()
	f.Binary(&p.UserID)
	f.String(&p.To)
	f.String(&p.Subject)
	f.String(&p.ReplyTo)
	p.CorrelationID = f.Value()
	f.Symbol(&p.ContentType)
	f.Symbol(&p.ContentEncoding)
	f.Timestamp(&p.AbsoluteExpiryTime)
	f.Timestamp(&p.CreationTime)
	f.String(&p.GroupID)
	f.Uint(&p.GroupSequence)
	f.String(&p.ReplyToGroupID)
	return p, f.Err()
}

// Append encodes the properties section.
func (p *Properties) Append(b []byte) ([]byte, error) {
	w := encoding.BeginList(b, encoding.DescProperties)
	if err := w.Value(p.MessageID); err != nil {
		return b, err
	}
	w.OptBinary(p.UserID)
	w.OptString(p.To)
	w.OptString(p.Subject)
	w.OptString(p.ReplyTo)
	if err := w.Value(p.CorrelationID); err != nil {
		return b, err
	}
	w.OptSymbol(p.ContentType)
	w.OptSymbol(p.ContentEncoding)
	optTime(&w, p.AbsoluteExpiryTime)
	optTime(&w, p.CreationTime)
	w.OptString(p.GroupID)
	optUint(&w, p.GroupSequence)
	w.OptString(p.ReplyToGroupID)
	return w.End(), nil
}

func optTime(w *encoding.ListWriter, t encoding.Timestamp) {
	if t != 0 {
		w.Timestamp(t)
	} else {
		w.Null()
	}
}

// DecodeAnnotatedMap decodes a map section: delivery-annotations,
// message-annotations, application-properties or footer.
func DecodeAnnotatedMap(raw []byte) (encoding.Map, error) {
	r := encoding.NewReader(raw)
	code, other, known, err := r.ReadDescriptor()
	if err != nil {
		return nil, err
	}
	switch {
	case !known:
		return nil, fmt.Errorf("%w: not a map section: descriptor %v", ErrMessage, other)
	case code != encoding.DescDeliveryAnnotations && code != encoding.DescMessageAnnotations &&
		code != encoding.DescApplicationProperties && code != encoding.DescFooter:
		return nil, fmt.Errorf("%w: not a map section: descriptor 0x%02x", ErrMessage, code)
	}
	v, err := r.ReadValue()
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case encoding.Map:
		return m, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("%w: section holds %T, want map", ErrMessage, v)
}

// AppendMapSection encodes a map section with the given descriptor.
func AppendMapSection(b []byte, descriptor uint64, m encoding.Map) ([]byte, error) {
	b = encoding.AppendDescriptor(b, descriptor)
	return encoding.AppendValue(b, m)
}

// AppendData encodes one data section holding payload.
func AppendData(b []byte, payload []byte) []byte {
	return encoding.AppendBinary(encoding.AppendDescriptor(b, encoding.DescData), payload)
}

// DataPayload returns the bytes of a data body section (aliasing raw).
func DataPayload(raw []byte) ([]byte, error) {
	r := encoding.NewReader(raw)
	code, _, known, err := r.ReadDescriptor()
	if err != nil {
		return nil, err
	}
	if !known || code != encoding.DescData {
		return nil, fmt.Errorf("%w: not a data section", ErrMessage)
	}
	v, err := r.ReadValue()
	if err != nil {
		return nil, err
	}
	p, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("%w: data section holds %T", ErrMessage, v)
	}
	return p, nil
}
