package frames

import (
	"fmt"

	"github.com/amqpemu/amqpemu/amqp/encoding"
)

// ErrCond is an AMQP error condition (§2.8.15–2.8.18).
type ErrCond = encoding.Symbol

// Error conditions, as the spec spells them.
const (
	ErrCondInternalError         ErrCond = "amqp:internal-error"
	ErrCondNotFound              ErrCond = "amqp:not-found"
	ErrCondUnauthorizedAccess    ErrCond = "amqp:unauthorized-access"
	ErrCondDecodeError           ErrCond = "amqp:decode-error"
	ErrCondResourceLimitExceeded ErrCond = "amqp:resource-limit-exceeded"
	ErrCondNotAllowed            ErrCond = "amqp:not-allowed"
	ErrCondInvalidField          ErrCond = "amqp:invalid-field"
	ErrCondNotImplemented        ErrCond = "amqp:not-implemented"
	ErrCondResourceLocked        ErrCond = "amqp:resource-locked"
	ErrCondPreconditionFailed    ErrCond = "amqp:precondition-failed"
	ErrCondResourceDeleted       ErrCond = "amqp:resource-deleted"
	ErrCondIllegalState          ErrCond = "amqp:illegal-state"
	ErrCondFrameSizeTooSmall     ErrCond = "amqp:frame-size-too-small"

	ErrCondConnectionForced   ErrCond = "amqp:connection:forced"
	ErrCondFramingError       ErrCond = "amqp:connection:framing-error"
	ErrCondConnectionRedirect ErrCond = "amqp:connection:redirect"

	ErrCondWindowViolation  ErrCond = "amqp:session:window-violation"
	ErrCondErrantLink       ErrCond = "amqp:session:errant-link"
	ErrCondHandleInUse      ErrCond = "amqp:session:handle-in-use"
	ErrCondUnattachedHandle ErrCond = "amqp:session:unattached-handle"

	ErrCondDetachForced          ErrCond = "amqp:link:detach-forced"
	ErrCondTransferLimitExceeded ErrCond = "amqp:link:transfer-limit-exceeded"
	ErrCondMessageSizeExceeded   ErrCond = "amqp:link:message-size-exceeded"
	ErrCondLinkRedirect          ErrCond = "amqp:link:redirect"
	ErrCondStolen                ErrCond = "amqp:link:stolen"
)

// Error is the error carried by detach, end, close and rejected (§2.8.14).
type Error struct {
	Condition   ErrCond
	Description string
	Info        encoding.Map
}

func (e *Error) Error() string {
	if e.Description == "" {
		return string(e.Condition)
	}
	return string(e.Condition) + ": " + e.Description
}

func (e *Error) String() string { return e.Error() }

func (e *Error) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescError)
	w.Symbol(e.Condition)
	w.OptString(e.Description)
	_ = w.Map(e.Info)
	return w.End()
}

// DecodeError decodes an encoded error.
func DecodeError(raw []byte) (*Error, error) {
	f, err := openComposite(raw, encoding.DescError, "error")
	if err != nil {
		return nil, err
	}
	e := &Error{}
	if !f.Symbol(&e.Condition) {
		return nil, orMissing(&f, "error.condition")
	}
	f.String(&e.Description)
	f.Map(&e.Info)
	return e, f.Err()
}

// openComposite reads the descriptor of raw, checks it is want and returns a
// reader over the list fields.
func openComposite(raw []byte, want uint64, name string) (encoding.FieldReader, error) {
	r := encoding.NewReader(raw)
	code, other, known, err := r.ReadDescriptor()
	if err != nil {
		return encoding.FieldReader{}, err
	}
	if !known || code != want {
		if !known {
			return encoding.FieldReader{}, fmt.Errorf("%w: %s has descriptor %v", ErrFrame, name, other)
		}
		return encoding.FieldReader{}, fmt.Errorf("%w: %s has descriptor 0x%02x", ErrFrame, name, code)
	}
	return r.ReadList()
}

// Terminus expiry policies and distribution modes (§3.5.6, §3.5.7).
const (
	ExpiryLinkDetach      encoding.Symbol = "link-detach"
	ExpirySessionEnd      encoding.Symbol = "session-end"
	ExpiryConnectionClose encoding.Symbol = "connection-close"
	ExpiryNever           encoding.Symbol = "never"
	DistributionMove      encoding.Symbol = "move"
	DistributionCopy      encoding.Symbol = "copy"
)

// Source is the source terminus of a link (§3.5.3).
type Source struct {
	Address               string
	Durable               uint32
	ExpiryPolicy          encoding.Symbol // decoded default ExpirySessionEnd; "" encodes as the default
	Timeout               uint32
	Dynamic               bool
	DynamicNodeProperties encoding.Map
	DistributionMode      encoding.Symbol
	Filter                encoding.Map
	DefaultOutcome        DeliveryState
	Outcomes              []encoding.Symbol
	Capabilities          []encoding.Symbol
}

func (s *Source) String() string {
	if s == nil {
		return "null"
	}
	return fmt.Sprintf("source(%q)", s.Address)
}

func (s *Source) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescSource)
	appendTerminusHead(&w, s.Address, s.Durable, s.ExpiryPolicy, s.Timeout, s.Dynamic, s.DynamicNodeProperties)
	w.OptSymbol(s.DistributionMode)
	_ = w.Map(s.Filter)
	if s.DefaultOutcome != nil {
		w.B = s.DefaultOutcome.Append(w.B)
		w.Appended()
	} else {
		w.Null()
	}
	w.Symbols(s.Outcomes)
	w.Symbols(s.Capabilities)
	return w.End()
}

// DecodeSource decodes an encoded source.
func DecodeSource(raw []byte) (*Source, error) {
	f, err := openComposite(raw, encoding.DescSource, "source")
	if err != nil {
		return nil, err
	}
	s := &Source{}
	readTerminusHead(&f, &s.Address, &s.Durable, &s.ExpiryPolicy, &s.Timeout, &s.Dynamic, &s.DynamicNodeProperties)
	f.Symbol(&s.DistributionMode)
	f.Map(&s.Filter)
	if raw := f.RawField(); raw != nil {
		if s.DefaultOutcome, err = DecodeDeliveryState(raw); err != nil {
			return nil, err
		}
	}
	f.Symbols(&s.Outcomes)
	f.Symbols(&s.Capabilities)
	return s, f.Err()
}

// appendTerminusHead writes the six fields a source and a target share,
// leaving defaults as null.
func appendTerminusHead(w *encoding.ListWriter, addr string, durable uint32, expiry encoding.Symbol, timeout uint32, dynamic bool, props encoding.Map) {
	w.OptString(addr)
	optUint(w, durable)
	optExpiry(w, expiry)
	optUint(w, timeout)
	optTrue(w, dynamic)
	_ = w.Map(props)
}

// readTerminusHead reads the six fields a source and a target share.
func readTerminusHead(f *encoding.FieldReader, addr *string, durable *uint32, expiry *encoding.Symbol, timeout *uint32, dynamic *bool, props *encoding.Map) {
	f.String(addr)
	f.Uint(durable)
	readExpiry(f, expiry)
	f.Uint(timeout)
	f.Bool(dynamic)
	f.Map(props)
}

// optUint writes v, or null when it is 0 (the default of such fields).
func optUint(w *encoding.ListWriter, v uint32) {
	if v != 0 {
		w.Uint(v)
	} else {
		w.Null()
	}
}

// optExpiry writes a terminus expiry policy, leaving the spec default
// (session-end) as null.
func optExpiry(w *encoding.ListWriter, p encoding.Symbol) {
	if p == ExpirySessionEnd {
		p = ""
	}
	w.OptSymbol(p)
}

// readExpiry reads a terminus expiry policy, filling in the spec default
// session-end when it is absent (or an empty symbol, which names no policy).
func readExpiry(f *encoding.FieldReader, dst *encoding.Symbol) {
	if !f.Symbol(dst) || *dst == "" {
		*dst = ExpirySessionEnd
	}
}

// Target is the target terminus of a link (§3.5.4).
type Target struct {
	Address               string
	Durable               uint32
	ExpiryPolicy          encoding.Symbol // decoded default ExpirySessionEnd; "" encodes as the default
	Timeout               uint32
	Dynamic               bool
	DynamicNodeProperties encoding.Map
	Capabilities          []encoding.Symbol
}

func (t *Target) String() string {
	if t == nil {
		return "null"
	}
	return fmt.Sprintf("target(%q)", t.Address)
}

func (t *Target) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescTarget)
	appendTerminusHead(&w, t.Address, t.Durable, t.ExpiryPolicy, t.Timeout, t.Dynamic, t.DynamicNodeProperties)
	w.Symbols(t.Capabilities)
	return w.End()
}

// DecodeTarget decodes an encoded target.
func DecodeTarget(raw []byte) (*Target, error) {
	f, err := openComposite(raw, encoding.DescTarget, "target")
	if err != nil {
		return nil, err
	}
	t := &Target{}
	readTerminusHead(&f, &t.Address, &t.Durable, &t.ExpiryPolicy, &t.Timeout, &t.Dynamic, &t.DynamicNodeProperties)
	f.Symbols(&t.Capabilities)
	return t, f.Err()
}

// DeliveryState is a delivery's state or outcome (§2.8.?, §3.4).
type DeliveryState interface {
	Append(b []byte) []byte
	fmt.Stringer
}

// Received is the non-terminal state of a partially received delivery (§3.4.1).
type Received struct {
	SectionNumber uint32
	SectionOffset uint64
}

// Accepted is the outcome of a message processed successfully (§3.4.2).
type Accepted struct{}

// Rejected is the outcome of a message that could not be processed (§3.4.3).
type Rejected struct{ Error *Error }

// Released is the outcome of a message not processed, to be redelivered (§3.4.4).
type Released struct{}

// Modified is released with changes for the next delivery (§3.4.5).
type Modified struct {
	DeliveryFailed     bool
	UndeliverableHere  bool
	MessageAnnotations encoding.Map
}

// UnknownState is a delivery state the server does not interpret
// (a transactional state, for instance), kept raw.
type UnknownState struct{ Raw []byte }

func (s *Received) String() string {
	return fmt.Sprintf("received(%d,%d)", s.SectionNumber, s.SectionOffset)
}
func (*Accepted) String() string   { return "accepted" }
func (s *Rejected) String() string { return fmt.Sprintf("rejected(%v)", s.Error) }
func (*Released) String() string   { return "released" }
func (s *Modified) String() string {
	return fmt.Sprintf("modified(failed=%t undeliverable-here=%t)", s.DeliveryFailed, s.UndeliverableHere)
}
func (s *UnknownState) String() string { return fmt.Sprintf("state(%x)", s.Raw) }

func (s *Received) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescReceived)
	w.Uint(s.SectionNumber)
	w.Ulong(s.SectionOffset)
	return w.End()
}

func (*Accepted) Append(b []byte) []byte {
	return append(encoding.AppendDescriptor(b, encoding.DescAccepted), 0x45)
}

func (s *Rejected) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescRejected)
	appendError(&w, s.Error)
	return w.End()
}

func (*Released) Append(b []byte) []byte {
	return append(encoding.AppendDescriptor(b, encoding.DescReleased), 0x45)
}

func (s *Modified) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescModified)
	optTrue(&w, s.DeliveryFailed)
	optTrue(&w, s.UndeliverableHere)
	_ = w.Map(s.MessageAnnotations)
	return w.End()
}

func (s *UnknownState) Append(b []byte) []byte { return append(b, s.Raw...) }

// DecodeDeliveryState decodes an encoded delivery state or outcome.
func DecodeDeliveryState(raw []byte) (DeliveryState, error) {
	r := encoding.NewReader(raw)
	code, _, known, err := r.ReadDescriptor()
	if err != nil {
		return nil, err
	}
	if !known {
		return &UnknownState{Raw: raw}, nil
	}
	var s DeliveryState
	switch code {
	case encoding.DescReceived:
		s = &Received{}
	case encoding.DescAccepted:
		s = &Accepted{}
	case encoding.DescRejected:
		s = &Rejected{}
	case encoding.DescReleased:
		s = &Released{}
	case encoding.DescModified:
		s = &Modified{}
	default:
		return &UnknownState{Raw: raw}, nil
	}
	f, err := r.ReadList()
	if err != nil {
		return nil, err
	}
	if err := decodeFields(s, &f); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Received) decode(f *encoding.FieldReader) error {
	if !f.Uint(&s.SectionNumber) {
		return orMissing(f, "section-number")
	}
	if !f.Ulong(&s.SectionOffset) {
		return orMissing(f, "section-offset")
	}
	return f.Err()
}

func (*Accepted) decode(f *encoding.FieldReader) error { return f.Err() }
func (*Released) decode(f *encoding.FieldReader) error { return f.Err() }

func (s *Rejected) decode(f *encoding.FieldReader) error {
	var err error
	if s.Error, err = readError(f); err != nil {
		return err
	}
	return f.Err()
}

func (s *Modified) decode(f *encoding.FieldReader) error {
	f.Bool(&s.DeliveryFailed)
	f.Bool(&s.UndeliverableHere)
	f.Map(&s.MessageAnnotations)
	return f.Err()
}
