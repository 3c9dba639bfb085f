package frames

import (
	"fmt"

	"github.com/amqpemu/amqpemu/amqp/encoding"
)

// SASL outcome codes (§5.3.3.6).
const (
	SASLOK      uint8 = 0
	SASLAuth    uint8 = 1
	SASLSys     uint8 = 2
	SASLSysPerm uint8 = 3
	SASLSysTemp uint8 = 4
)

// SASLMechanisms advertises the server's mechanisms (§5.3.3.1).
type SASLMechanisms struct{ Mechanisms []encoding.Symbol }

func (o *SASLMechanisms) String() string { return fmt.Sprintf("sasl-mechanisms(%v)", o.Mechanisms) }

func (o *SASLMechanisms) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescSASLMechanisms)
	w.B = encoding.AppendSymbolArray(w.B, o.Mechanisms) // mandatory: never null
	w.Appended()
	return w.End()
}

func (o *SASLMechanisms) decode(f *encoding.FieldReader) error {
	if !f.Symbols(&o.Mechanisms) {
		return orMissing(f, "sasl-server-mechanisms")
	}
	return f.Err()
}

// SASLInit selects a mechanism and carries the initial response (§5.3.3.2).
type SASLInit struct {
	Mechanism       encoding.Symbol
	InitialResponse []byte
	Hostname        string
}

// String leaves out the initial response: it carries the password.
func (o *SASLInit) String() string {
	return fmt.Sprintf("sasl-init(mechanism=%s hostname=%q)", o.Mechanism, o.Hostname)
}

func (o *SASLInit) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescSASLInit)
	w.Symbol(o.Mechanism)
	w.OptBinary(o.InitialResponse)
	w.OptString(o.Hostname)
	return w.End()
}

func (o *SASLInit) decode(f *encoding.FieldReader) error {
	if !f.Symbol(&o.Mechanism) {
		return orMissing(f, "mechanism")
	}
	f.Binary(&o.InitialResponse)
	f.String(&o.Hostname)
	return f.Err()
}

// SASLChallenge is a security challenge (§5.3.3.3).
type SASLChallenge struct{ Challenge []byte }

func (o *SASLChallenge) String() string { return "sasl-challenge" }

func (o *SASLChallenge) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescSASLChallenge)
	w.Binary(o.Challenge)
	return w.End()
}

func (o *SASLChallenge) decode(f *encoding.FieldReader) error {
	if !f.Binary(&o.Challenge) {
		return orMissing(f, "challenge")
	}
	return f.Err()
}

// SASLResponse answers a challenge (§5.3.3.4).
type SASLResponse struct{ Response []byte }

func (o *SASLResponse) String() string { return "sasl-response" }

func (o *SASLResponse) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescSASLResponse)
	w.Binary(o.Response)
	return w.End()
}

func (o *SASLResponse) decode(f *encoding.FieldReader) error {
	if !f.Binary(&o.Response) {
		return orMissing(f, "response")
	}
	return f.Err()
}

// SASLOutcome ends the SASL exchange (§5.3.3.5).
type SASLOutcome struct {
	Code           uint8
	AdditionalData []byte
}

func (o *SASLOutcome) String() string { return fmt.Sprintf("sasl-outcome(code=%d)", o.Code) }

func (o *SASLOutcome) Append(b []byte) []byte {
	w := encoding.BeginList(b, encoding.DescSASLOutcome)
	w.Ubyte(o.Code)
	w.OptBinary(o.AdditionalData)
	return w.End()
}

func (o *SASLOutcome) decode(f *encoding.FieldReader) error {
	if !f.Ubyte(&o.Code) {
		return orMissing(f, "code")
	}
	f.Binary(&o.AdditionalData)
	return f.Err()
}
