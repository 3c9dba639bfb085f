package logservice

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// The log service's protobuf messages (proto2), decoded and encoded by
// hand with protowire: the SDK's generated gogo types are not ours to
// import into the server, and the server needs little of them.
//
//	LogGroupList { repeated LogGroup logGroupList = 1; }
//	LogGroup     { repeated Log Logs = 1; optional string Category = 2; optional string Topic = 3;
//	               optional string Source = 4; optional string MachineUUID = 5; repeated LogTag LogTags = 6; }
//	Log          { required uint32 Time = 1; repeated Content Contents = 2; optional fixed32 Time_ns = 4; }
//	Content, LogTag { required string Key = 1; required string Value = 2; }

// LogGroup is a decoded LogGroup.
type LogGroup struct {
	Logs        []Log
	Category    string
	Topic       string
	Source      string
	MachineUUID string
	Tags        []Pair
}

// Log is one log of a LogGroup.
type Log struct {
	Time     uint32
	TimeNs   uint32
	HasNs    bool // TimeNs was present
	Contents []Pair
}

// Pair is a Content or a LogTag.
type Pair struct{ Key, Value string }

var errBadProto = errors.New("malformed protobuf")

// field reads one field's tag and value from b: the value's bytes for
// length-delimited fields, the number for varint and fixed32 ones; n is
// the field's length in b.
type field struct {
	num   protowire.Number
	typ   protowire.Type
	bytes []byte
	num64 uint64
	n     int
}

func nextField(b []byte) (field, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return field{}, fmt.Errorf("%w: bad tag: %v", errBadProto, protowire.ParseError(n))
	}
	f := field{num: num, typ: typ}
	var m int
	switch typ {
	case protowire.BytesType:
		f.bytes, m = protowire.ConsumeBytes(b[n:])
	case protowire.VarintType:
		f.num64, m = protowire.ConsumeVarint(b[n:])
	case protowire.Fixed32Type:
		var v uint32
		v, m = protowire.ConsumeFixed32(b[n:])
		f.num64 = uint64(v)
	default:
		m = protowire.ConsumeFieldValue(num, typ, b[n:])
	}
	if m < 0 {
		return field{}, fmt.Errorf("%w: field %d: %v", errBadProto, num, protowire.ParseError(m))
	}
	f.n = n + m
	return f, nil
}

// want checks that a known field has its declared wire type.
func (f field) want(t protowire.Type) error {
	if f.typ != t {
		return fmt.Errorf("%w: field %d has wire type %d, not %d", errBadProto, f.num, f.typ, t)
	}
	return nil
}

// DecodeLogGroup parses a LogGroup, refusing what the SDK's generated
// code would refuse (bad wire data, missing required fields). Unknown
// fields are skipped, as proto2 does.
func DecodeLogGroup(b []byte) (*LogGroup, error) {
	g := &LogGroup{}
	for len(b) > 0 {
		f, err := nextField(b)
		if err != nil {
			return nil, err
		}
		b = b[f.n:]
		if err := g.set(f); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *LogGroup) set(f field) error {
	if f.num < 1 || f.num > 6 {
		return nil
	}
	if err := f.want(protowire.BytesType); err != nil {
		return err
	}
	switch f.num {
	case 1:
		l, err := decodeLog(f.bytes)
		if err != nil {
			return err
		}
		g.Logs = append(g.Logs, l)
	case 2:
		g.Category = string(f.bytes)
	case 3:
		g.Topic = string(f.bytes)
	case 4:
		g.Source = string(f.bytes)
	case 5:
		g.MachineUUID = string(f.bytes)
	case 6:
		p, err := decodePair(f.bytes)
		if err != nil {
			return fmt.Errorf("log tag: %w", err)
		}
		g.Tags = append(g.Tags, p)
	}
	return nil
}

func decodeLog(b []byte) (Log, error) {
	var l Log
	hasTime := false
	for len(b) > 0 {
		f, err := nextField(b)
		if err != nil {
			return l, fmt.Errorf("log: %w", err)
		}
		b = b[f.n:]
		switch f.num {
		case 1:
			if err := f.want(protowire.VarintType); err != nil {
				return l, fmt.Errorf("log time: %w", err)
			}
			l.Time, hasTime = uint32(f.num64), true
		case 2:
			if err := f.want(protowire.BytesType); err != nil {
				return l, fmt.Errorf("log content: %w", err)
			}
			p, err := decodePair(f.bytes)
			if err != nil {
				return l, fmt.Errorf("log content: %w", err)
			}
			l.Contents = append(l.Contents, p)
		case 4:
			if err := f.want(protowire.Fixed32Type); err != nil {
				return l, fmt.Errorf("log time_ns: %w", err)
			}
			l.TimeNs, l.HasNs = uint32(f.num64), true
		}
	}
	if !hasTime {
		return l, fmt.Errorf("%w: log without its required Time", errBadProto)
	}
	return l, nil
}

func decodePair(b []byte) (Pair, error) {
	var p Pair
	var hasKey, hasValue bool
	for len(b) > 0 {
		f, err := nextField(b)
		if err != nil {
			return p, err
		}
		b = b[f.n:]
		if f.num != 1 && f.num != 2 {
			continue
		}
		if err := f.want(protowire.BytesType); err != nil {
			return p, err
		}
		if f.num == 1 {
			p.Key, hasKey = string(f.bytes), true
		} else {
			p.Value, hasValue = string(f.bytes), true
		}
	}
	if !hasKey || !hasValue {
		return p, fmt.Errorf("%w: key and value are both required", errBadProto)
	}
	return p, nil
}

// AppendLogGroup encodes g after b, fields in number order as the SDK's
// generated code writes them.
func AppendLogGroup(b []byte, g *LogGroup) []byte {
	for _, l := range g.Logs {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, appendLog(nil, l))
	}
	for i, s := range []string{g.Category, g.Topic, g.Source, g.MachineUUID} {
		if s != "" {
			b = protowire.AppendTag(b, protowire.Number(2+i), protowire.BytesType)
			b = protowire.AppendString(b, s)
		}
	}
	for _, t := range g.Tags {
		b = protowire.AppendTag(b, 6, protowire.BytesType)
		b = protowire.AppendBytes(b, appendPair(nil, t))
	}
	return b
}

func appendLog(b []byte, l Log) []byte {
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(l.Time))
	for _, c := range l.Contents {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, appendPair(nil, c))
	}
	if l.HasNs {
		b = protowire.AppendTag(b, 4, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, l.TimeNs)
	}
	return b
}

func appendPair(b []byte, p Pair) []byte {
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, p.Key)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendString(b, p.Value)
}

// appendLogGroupList wraps stored LogGroups, each exactly as it was put,
// into a LogGroupList.
func appendLogGroupList(b []byte, groups [][]byte) []byte {
	for _, g := range groups {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, g)
	}
	return b
}
