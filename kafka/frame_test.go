package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/amqpemu/amqpemu/broker"
)

// frameOf frames req as a client does: header v1 (v2 with tags when
// flexible), then the body.
func frameOf(req kmsg.Request, corrID int32, clientID string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(req.GetVersion()))
	b = binary.BigEndian.AppendUint32(b, uint32(corrID))
	b = binary.BigEndian.AppendUint16(b, uint16(len(clientID)))
	b = append(b, clientID...)
	if req.IsFlexible() {
		b = append(b, 0)
	}
	return req.AppendTo(b)
}

// vectors are named raw requests, each byte annotated, shared by the
// decoder tests and the fuzz corpus.
var vectors = []struct {
	name    string
	frame   []byte
	wantKey int16
	wantErr bool
}{
	{"ApiVersions v0, client id \"c\"", []byte{
		0x00, 0x12, // api key 18 ApiVersions
		0x00, 0x00, // version 0
		0x00, 0x00, 0x00, 0x07, // correlation id 7
		0x00, 0x01, 'c', // client id
	}, 18, false},
	{"ApiVersions v9 (unknown): answered in v0", []byte{
		0x00, 0x12, 0x00, 0x09, 0, 0, 0, 1, 0xff, 0xff, // null client id
	}, 18, false},
	{"Metadata v1, all topics (null array)", []byte{
		0x00, 0x03, 0x00, 0x01, 0, 0, 0, 2, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, // topics: null
	}, 3, false},
	{"Fetch v13 (topic ids) is not served", []byte{
		0x00, 0x01, 0x00, 0x0d, 0, 0, 0, 3, 0xff, 0xff,
	}, 1, true},
	{"client id longer than the frame", []byte{
		0x00, 0x12, 0x00, 0x00, 0, 0, 0, 1, 0x7f, 0xff, 'x',
	}, 18, true},
	{"short header", []byte{0x00, 0x12, 0x00}, 0, true},
	{"Metadata v1 with a topic array past the frame", []byte{
		0x00, 0x03, 0x00, 0x01, 0, 0, 0, 2, 0xff, 0xff,
		0x00, 0x00, 0x10, 0x00, // 4096 topics, none there
	}, 3, true},
}

func TestParseVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			h, _, err := parseRequest(v.frame)
			if (err != nil) != v.wantErr {
				t.Fatalf("err = %v, want error %v", err, v.wantErr)
			}
			if err != nil && !errors.Is(err, errFrame) {
				t.Fatalf("err %v does not wrap errFrame", err)
			}
			if h.key != v.wantKey {
				t.Fatalf("key = %d", h.key)
			}
		})
	}
}

func TestRoundTripRequests(t *testing.T) {
	for _, req := range []kmsg.Request{kmsg.NewPtrMetadataRequest(), kmsg.NewPtrFetchRequest(), kmsg.NewPtrJoinGroupRequest(), kmsg.NewPtrApiVersionsRequest()} {
		for v := supported[req.Key()].min; v <= supported[req.Key()].max; v++ {
			req.SetVersion(v)
			h, got, err := parseRequest(frameOf(req, 42, "client"))
			if err != nil {
				t.Fatalf("%s v%d: %v", kmsg.NameForKey(req.Key()), v, err)
			}
			if h.corrID != 42 || h.clientID != "client" || got.Key() != req.Key() || got.GetVersion() != v {
				t.Fatalf("%s v%d: header %+v", kmsg.NameForKey(req.Key()), v, h)
			}
		}
	}
}

func TestResponseHeader(t *testing.T) {
	h := header{key: apiVersionsKey, version: 3, corrID: 9}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 3
	out := appendResponse(nil, h, resp)
	if got := binary.BigEndian.Uint32(out); int(got) != len(out)-4 {
		t.Fatalf("size %d of %d", got, len(out))
	}
	// ApiVersions answers have no header tags even when flexible.
	if !bytes.Equal(out[4:8], []byte{0, 0, 0, 9}) || out[8] != 0 || out[9] != 0 {
		t.Fatalf("header % x", out[:10])
	}
	mr := kmsg.NewPtrMetadataResponse()
	mr.Version = 9
	out = appendResponse(nil, header{key: 3, version: 9, corrID: 1}, mr)
	if out[8] != 0 { // the empty tag section of header v1
		t.Fatalf("no header tags: % x", out[:10])
	}
}

func TestRecordBatchRoundTrip(t *testing.T) {
	recs := []broker.KafkaRecord{{Offset: 10, Key: []byte("k"), Value: []byte("v")}, {Offset: 15, Value: []byte("w"), Headers: []broker.KafkaHeader{{Key: "h", Value: []byte("x")}}}}
	b := appendBatch(nil, recs)
	got, err := decodeBatches(b, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].records) != 2 || string(got[0].records[1].Headers[0].Value) != "x" {
		t.Fatalf("%+v", got)
	}
	b[len(b)-1] ^= 1
	if _, err := decodeBatches(b, 1<<20); !errors.Is(err, errCorrupt) {
		t.Fatalf("bad CRC: %v", err)
	}
}

func TestEverySentinelMapped(t *testing.T) {
	for _, e := range mappedErrors {
		if c := codeOf(e); c == kerr.UnknownServerError.Code {
			t.Errorf("%v is not mapped", e)
		}
	}
	if codeOf(nil) != 0 || codeOf(errors.New("other")) != kerr.UnknownServerError.Code {
		t.Fatal("nil or an unknown error")
	}
}

// FuzzParseRequest feeds frames to the request decoder and the record
// batch decoder: neither may panic.
func FuzzParseRequest(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.frame)
	}
	for _, req := range []kmsg.Request{kmsg.NewPtrProduceRequest(), kmsg.NewPtrFetchRequest(), kmsg.NewPtrJoinGroupRequest(), kmsg.NewPtrOffsetCommitRequest()} {
		req.SetVersion(supported[req.Key()].max)
		f.Add(frameOf(req, 1, "seed"))
	}
	f.Add(appendBatch(nil, []broker.KafkaRecord{{Offset: 1, Value: []byte("v")}}))
	f.Fuzz(func(t *testing.T, frame []byte) {
		if h, req, err := parseRequest(frame); err == nil && req != nil {
			if p, ok := req.(*kmsg.ProduceRequest); ok {
				for _, tp := range p.Topics {
					for _, pp := range tp.Partitions {
						decodeBatches(pp.Records, 1<<20)
					}
				}
			}
			_ = h
		}
		decodeBatches(frame, 1<<20)
	})
}
