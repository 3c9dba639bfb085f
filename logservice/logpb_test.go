package logservice

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
)

// logGroupVectors: named, annotated LogGroup encodings shared by the
// decode and encode tests (and seeding the fuzzer).
var logGroupVectors = []struct {
	name  string
	wire  []byte
	group *LogGroup
}{
	{"empty group", []byte{}, &LogGroup{}},
	{"one log, one content", []byte{
		0x0a, 0x0a, // field 1 (Logs), bytes, 10 long
		0x08, 0x01, //   Log.Time = 1
		0x12, 0x06, //   field 2 (Contents), 6 long
		0x0a, 0x01, 'k', //     Key "k"
		0x12, 0x01, 'v', //     Value "v"
	}, &LogGroup{Logs: []Log{{Time: 1, Contents: []Pair{{"k", "v"}}}}}},
	{"time_ns, topic and tag", []byte{
		0x0a, 0x08, // Logs, 8 long
		0x08, 0x96, 0x01, //   Time = 150 (varint 0x96 0x01)
		0x25, 0x07, 0x00, 0x00, 0x00, //   field 4 (Time_ns), fixed32 = 7
		0x1a, 0x01, 't', // field 3 (Topic) "t"
		0x32, 0x06, // field 6 (LogTags), 6 long
		0x0a, 0x01, 'a', //   Key "a"
		0x12, 0x01, 'b', //   Value "b"
	}, &LogGroup{Logs: []Log{{Time: 150, TimeNs: 7, HasNs: true}}, Topic: "t", Tags: []Pair{{"a", "b"}}}},
	{"category, source, machine uuid", []byte{
		0x12, 0x01, 'c', // field 2 (Category) "c"
		0x22, 0x01, 's', // field 4 (Source) "s"
		0x2a, 0x01, 'm', // field 5 (MachineUUID) "m"
	}, &LogGroup{Category: "c", Source: "s", MachineUUID: "m"}},
}

func TestLogGroupVectors(t *testing.T) {
	for _, v := range logGroupVectors {
		got, err := DecodeLogGroup(v.wire)
		if err != nil {
			t.Errorf("%s: decode: %v", v.name, err)
		} else if !reflect.DeepEqual(got, v.group) {
			t.Errorf("%s: decoded %+v, want %+v", v.name, got, v.group)
		}
		if enc := AppendLogGroup(nil, v.group); !bytes.Equal(enc, v.wire) {
			t.Errorf("%s: encoded % x, want % x", v.name, enc, v.wire)
		}
	}
}

// badLogGroups: what the decoder refuses.
var badLogGroups = []struct {
	name string
	wire []byte
}{
	{"truncated length", []byte{0x0a, 0x05, 0x08}},
	{"log without time", []byte{0x0a, 0x02, 0x12, 0x00}},
	{"content without value", []byte{0x0a, 0x05, 0x08, 0x01, 0x12, 0x01, 0x0a}},
	{"content key only", []byte{0x0a, 0x07, 0x08, 0x01, 0x12, 0x03, 0x0a, 0x01, 'k'}},
	{"logs as varint", []byte{0x08, 0x01}},
	{"time as bytes", []byte{0x0a, 0x02, 0x0a, 0x00}},
	{"bad tag", []byte{0x80}},
	{"field number 0", []byte{0x02, 0x00}},
}

func TestLogGroupRefused(t *testing.T) {
	for _, v := range badLogGroups {
		if g, err := DecodeLogGroup(v.wire); !errors.Is(err, errBadProto) {
			t.Errorf("%s: DecodeLogGroup = %+v, %v; want errBadProto", v.name, g, err)
		}
	}
}

// TestLogGroupMatchesSDK: the SDK's own generated code and ours agree.
func TestLogGroupMatchesSDK(t *testing.T) {
	g := logGroup(3, 4)
	g.Category = proto.String("cat")
	g.MachineUUID = proto.String("uuid")
	g.Logs[0].TimeNs = proto.Uint32(123)
	wire := marshal(t, g)
	ours, err := DecodeLogGroup(wire)
	if err != nil {
		t.Fatal(err)
	}
	if enc := AppendLogGroup(nil, ours); !bytes.Equal(enc, wire) {
		t.Fatalf("re-encoded differs from the SDK's encoding")
	}
	back := &sls.LogGroup{}
	if err := proto.Unmarshal(AppendLogGroup(nil, ours), back); err != nil || back.GetTopic() != "topic-3" || len(back.Logs) != 4 {
		t.Fatalf("the SDK decodes ours as %v, %v", back, err)
	}
	list := &sls.LogGroupList{}
	if err := proto.Unmarshal(appendLogGroupList(nil, [][]byte{wire, wire}), list); err != nil || len(list.LogGroups) != 2 {
		t.Fatalf("the SDK decodes our LogGroupList as %v, %v", list, err)
	}
}
