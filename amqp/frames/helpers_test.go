package frames

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/amqpemu/amqpemu/amqp/encoding"
)

// captureFrame is one frame of a recorded stream.
type captureFrame struct {
	raw    []byte // header included
	header Header
}

// readCapture loads testdata/name and splits it into frames, stepping over
// the protocol header that starts the stream and the one that starts the
// AMQP layer after SASL.
func readCapture(t testing.TB, name string) []captureFrame {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var out []captureFrame
	for len(b) > 0 {
		if bytes.HasPrefix(b, []byte("AMQP")) {
			b = b[8:]
			continue
		}
		h, err := ParseHeader(b)
		if err != nil {
			t.Fatalf("%s: header: %v", name, err)
		}
		if int(h.Size) > len(b) {
			t.Fatalf("%s: frame of %d bytes with %d left", name, h.Size, len(b))
		}
		out = append(out, captureFrame{raw: b[:h.Size], header: h})
		b = b[h.Size:]
	}
	return out
}

// captureFiles lists the recorded streams.
func captureFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.bin")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in testdata (%v)", err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

// body returns the frame body, after the data offset.
func (f captureFrame) body() []byte { return f.raw[int(f.header.DataOffset)*4:] }

// delivery is a message reassembled from the transfers of one delivery.
type delivery struct {
	id      uint32
	tag     []byte
	frames  int
	payload []byte
}

// deliveries reassembles the transfers in frames into messages: a delivery's
// payload is every transfer's payload up to the one without more (§2.6.14).
func deliveries(t testing.TB, frames []captureFrame) []delivery {
	t.Helper()
	var out []delivery
	var cur *delivery
	for i, f := range frames {
		if f.header.Type != TypeAMQP {
			continue
		}
		body, payload, err := ParseBody(f.header.Type, f.body())
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		tr, ok := body.(*Transfer)
		if !ok {
			continue
		}
		if cur == nil {
			if !tr.HasDeliveryID {
				t.Fatalf("frame %d: first transfer of a delivery without delivery-id", i)
			}
			cur = &delivery{id: tr.DeliveryID, tag: tr.DeliveryTag}
		} else if tr.HasDeliveryID && tr.DeliveryID != cur.id {
			t.Fatalf("frame %d: delivery-id %d inside delivery %d", i, tr.DeliveryID, cur.id)
		}
		cur.frames++
		cur.payload = append(cur.payload, payload...)
		if !tr.More {
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		t.Fatalf("delivery %d left incomplete", cur.id)
	}
	return out
}

// deepEqual is reflect.DeepEqual except that floats compare by their bits,
// so that a NaN decoded from a map equals itself after a round trip, and a
// described value's Raw is compared only when both sides have one: a value
// built by hand has none.
func deepEqual(a, b any) bool {
	return equalValues(reflect.ValueOf(a), reflect.ValueOf(b))
}

func equalValues(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return equalValues(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		fallthrough
	case reflect.Array:
		for i := range a.Len() {
			if !equalValues(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		if a.Type() == describedType {
			return equalDescribed(a.Interface().(encoding.Described), b.Interface().(encoding.Described))
		}
		for i := range a.NumField() {
			if !equalValues(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Map, reflect.Func, reflect.Chan:
		panic("deepEqual: unexpected kind " + a.Kind().String())
	}
	return a.Equal(b)
}

var describedType = reflect.TypeFor[encoding.Described]()

func equalDescribed(a, b encoding.Described) bool {
	if a.Raw != nil && b.Raw != nil && !bytes.Equal(a.Raw, b.Raw) {
		return false
	}
	return deepEqual(a.Descriptor, b.Descriptor) && deepEqual(a.Value, b.Value)
}
