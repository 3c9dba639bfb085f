package frames

import (
	"bytes"
	"testing"
)

// TestCaptures decodes every frame the four client libraries and the server
// sent, re-encodes each body and checks it decodes to the same value.
func TestCaptures(t *testing.T) {
	for _, file := range captureFiles(t) {
		t.Run(file, func(t *testing.T) {
			for i, fr := range readCapture(t, file) {
				body, payload, err := ParseBody(fr.header.Type, fr.body())
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if body == nil {
					continue // heartbeat
				}
				again, payload2, err := ParseBody(fr.header.Type, append(body.Append(nil), payload...))
				if err != nil {
					t.Fatalf("frame %d (%v) re-encoded: %v", i, body, err)
				}
				if !deepEqual(body, again) || !bytes.Equal(payload, payload2) {
					t.Fatalf("frame %d round trip:\n got %#v\nwant %#v", i, again, body)
				}
			}
		})
	}
}

// TestCaptureDeliveries reassembles every delivery in the captures and parses
// its message: each must split into sections, with the delivery-tag kept.
func TestCaptureDeliveries(t *testing.T) {
	total := 0
	for _, file := range captureFiles(t) {
		t.Run(file, func(t *testing.T) {
			for _, d := range deliveries(t, readCapture(t, file)) {
				total++
				if len(d.tag) == 0 {
					t.Errorf("delivery %d: empty delivery-tag", d.id)
				}
				m, err := ParseMessage(d.payload)
				if err != nil {
					t.Fatalf("delivery %d: %v", d.id, err)
				}
				if len(m.Body) == 0 || len(m.Bare) == 0 {
					t.Fatalf("delivery %d: no body or bare message: %+v", d.id, m)
				}
			}
		})
	}
	if total == 0 {
		t.Fatal("no deliveries in the captures")
	}
}

// TestCaptureTransferKeepsTag checks the delivery-tags the server sent in the
// goamqp capture: the 8-byte big-endian counters RabbitMQ uses, 1 to 4.
func TestCaptureTransferKeepsTag(t *testing.T) {
	ds := deliveries(t, readCapture(t, "goamqp-recv-server.bin"))
	if len(ds) != 4 {
		t.Fatalf("%d deliveries, want 4", len(ds))
	}
	for i, d := range ds {
		want := []byte{0, 0, 0, 0, 0, 0, 0, byte(i + 1)}
		if d.id != uint32(i) || !bytes.Equal(d.tag, want) {
			t.Errorf("delivery %d: id %d tag % x, want id %d tag % x", i, d.id, d.tag, i, want)
		}
	}
	// rhea's tags are its own: a single ASCII digit.
	ds = deliveries(t, readCapture(t, "rhea-send-client.bin"))
	if len(ds) != 2 || string(ds[0].tag) != "0" || string(ds[1].tag) != "1" {
		t.Fatalf("rhea tags: %+v", ds)
	}
}

// TestCaptureMultiFrameMessage checks the pack.ag capture, where a 512-byte
// max-frame-size splits the 2 KiB message over five transfers with more=true.
// Reassembled, it is the message goamqp received in one frame from another
// queue: the same header and data section, byte for byte. The bare messages
// are not identical: RabbitMQ sets properties.subject to the queue name
// ("cap1" for pack.ag, "cap3" for goamqp), so only that field may differ.
func TestCaptureMultiFrameMessage(t *testing.T) {
	split := deliveries(t, readCapture(t, "packag-recv-server.bin"))
	whole := deliveries(t, readCapture(t, "goamqp-recv-server.bin"))
	if len(split) != 4 || len(whole) != 4 {
		t.Fatalf("%d and %d deliveries, want 4 each", len(split), len(whole))
	}
	if split[1].frames != 5 || whole[1].frames != 1 {
		t.Fatalf("delivery 1 came in %d and %d frames, want 5 and 1", split[1].frames, whole[1].frames)
	}
	ms, err := ParseMessage(split[1].payload)
	if err != nil {
		t.Fatal(err)
	}
	mw, err := ParseMessage(whole[1].payload)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms.Body) != 1 || len(mw.Body) != 1 || !bytes.Equal(ms.Body[0], mw.Body[0]) {
		t.Fatal("the data sections differ")
	}
	data, err := DataPayload(ms.Body[0])
	if err != nil || len(data) != 2048 {
		t.Fatalf("data payload of %d bytes (%v), want 2048", len(data), err)
	}
	if !bytes.Equal(ms.Header, mw.Header) {
		t.Fatalf("headers differ: % x vs % x", ms.Header, mw.Header)
	}
	ps, err := DecodeProperties(ms.Properties)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := DecodeProperties(mw.Properties)
	if err != nil {
		t.Fatal(err)
	}
	if ps.Subject != "cap1" || pw.Subject != "cap3" {
		t.Fatalf("subjects %q and %q, want the queue names cap1 and cap3", ps.Subject, pw.Subject)
	}
	pw.Subject = ps.Subject
	if !deepEqual(ps, pw) {
		t.Fatalf("properties differ beyond the subject:\n%+v\n%+v", ps, pw)
	}
	// Bare covers properties and the data section, exactly as received.
	if want := append(append([]byte{}, ms.Properties...), ms.Body[0]...); !bytes.Equal(ms.Bare, want) {
		t.Fatal("Bare is not properties followed by the data section")
	}
}
