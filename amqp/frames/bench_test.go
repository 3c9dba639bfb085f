package frames

import (
	"bytes"
	"testing"

	"github.com/amqpemu/amqpemu/amqp/encoding"
)

// vendorMessage is a typical 256-byte message from the vendor's device SDKs:
// properties with a string message-id, application-properties topic,
// messageId and generateTime (a long), and one data section padded so the
// whole message is 256 bytes.
func vendorMessage(tb testing.TB) []byte {
	tb.Helper()
	props, err := (&Properties{MessageID: "1700000000000000001"}).Append(nil)
	if err != nil {
		tb.Fatal(err)
	}
	ap, err := AppendMapSection(nil, encoding.DescApplicationProperties, encoding.Map{
		{Key: "topic", Value: "/a1PK/dev1/user/update"},
		{Key: "messageId", Value: "1700000000000000001"},
		{Key: "generateTime", Value: int64(1700000000123)},
	})
	if err != nil {
		tb.Fatal(err)
	}
	head := append(props, ap...)
	// A data section is 3 bytes of descriptor and 2 of vbin8 header.
	payload := bytes.Repeat([]byte{'{'}, 256-len(head)-5)
	msg := AppendData(head, payload)
	if len(msg) != 256 {
		tb.Fatalf("vendor message is %d bytes, want 256", len(msg))
	}
	return msg
}

func benchTransfer() *Transfer {
	return &Transfer{Handle: 0, DeliveryID: 1, HasDeliveryID: true, DeliveryTag: []byte{0, 0, 0, 0, 0, 0, 0, 1}, HasFormat: true}
}

// TestEncodeTransferDoesNotAllocate pins the hot path: writing a transfer
// frame with its message into a reused buffer allocates nothing.
func TestEncodeTransferDoesNotAllocate(t *testing.T) {
	msg := vendorMessage(t)
	tr := benchTransfer()
	buf := make([]byte, 0, 1024)
	var body Body = tr
	allocs := testing.AllocsPerRun(100, func() {
		tr.DeliveryID++
		buf = AppendFrame(buf[:0], TypeAMQP, 0, body, msg)
	})
	if allocs != 0 {
		t.Fatalf("%.1f allocations per transfer frame, want 0", allocs)
	}
	h, err := ParseHeader(buf)
	if err != nil || int(h.Size) != len(buf) {
		t.Fatalf("%+v, %v", h, err)
	}
}

func BenchmarkEncodeTransfer(b *testing.B) {
	msg := vendorMessage(b)
	tr := benchTransfer()
	var body Body = tr
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		tr.DeliveryID++
		buf = AppendFrame(buf[:0], TypeAMQP, 0, body, msg)
	}
}

func BenchmarkDecodeTransfer(b *testing.B) {
	frame := AppendFrame(nil, TypeAMQP, 0, benchTransfer(), vendorMessage(b))
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		h, err := ParseHeader(frame)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := ParseBody(h.Type, frame[int(h.DataOffset)*4:h.Size]); err != nil {
			b.Fatal(err)
		}
	}
}

func benchFlow() *Flow {
	return &Flow{NextIncomingID: ptr[uint32](10), IncomingWindow: 5000, NextOutgoingID: 11, OutgoingWindow: 5000,
		Handle: ptr[uint32](0), DeliveryCount: ptr[uint32](10), LinkCredit: ptr[uint32](100)}
}

func benchDisposition() *Disposition {
	return &Disposition{Role: RoleReceiver, First: 10, Last: ptr[uint32](20), Settled: true, State: &Accepted{}}
}

func benchEncode(b *testing.B, body Body) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendFrame(buf[:0], TypeAMQP, 0, body, nil)
	}
}

func benchDecode(b *testing.B, body Body) {
	frame := AppendFrame(nil, TypeAMQP, 0, body, nil)
	b.ReportAllocs()
	for b.Loop() {
		h, err := ParseHeader(frame)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := ParseBody(h.Type, frame[int(h.DataOffset)*4:h.Size]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeFlow(b *testing.B)        { benchEncode(b, benchFlow()) }
func BenchmarkDecodeFlow(b *testing.B)        { benchDecode(b, benchFlow()) }
func BenchmarkEncodeDisposition(b *testing.B) { benchEncode(b, benchDisposition()) }
func BenchmarkDecodeDisposition(b *testing.B) { benchDecode(b, benchDisposition()) }

func BenchmarkParseMessage(b *testing.B) {
	msg := vendorMessage(b)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeApplicationProperties is what a broker does to route on
// application properties: decode the map of the vendor message.
func BenchmarkDecodeApplicationProperties(b *testing.B) {
	m, err := ParseMessage(vendorMessage(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeAnnotatedMap(m.ApplicationProperties); err != nil {
			b.Fatal(err)
		}
	}
}
