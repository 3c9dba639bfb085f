package encoding

import "testing"

// appProps is the application-properties map of a typical vendor message.
var appProps = Map{
	{Key: "topic", Value: "/a1PK/dev1/user/update"},
	{Key: "messageId", Value: "1700000000000000001"},
	{Key: "generateTime", Value: int64(1700000000123)},
}

func BenchmarkAppendValueMap(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendValue(buf[:0], appProps); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadValueMap(b *testing.B) {
	enc, err := AppendValue(nil, appProps)
	if err != nil {
		b.Fatal(err)
	}
	var r Reader
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(enc)
		if _, err := r.ReadValue(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSkipMap is how frames step over a section or field it does not decode.
func BenchmarkSkipMap(b *testing.B) {
	enc, err := AppendValue(AppendDescriptor(nil, DescApplicationProperties), appProps)
	if err != nil {
		b.Fatal(err)
	}
	var r Reader
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(enc)
		if _, err := r.Skip(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendSymbolArray(b *testing.B) {
	syms := []Symbol{"ANONYMOUS", "PLAIN", "EXTERNAL"}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendSymbolArray(buf[:0], syms)
	}
}

// BenchmarkFieldReader reads a flow-like list of uints, the common performative shape.
func BenchmarkFieldReader(b *testing.B) {
	w := BeginList(nil, DescFlow)
	for i := range uint32(8) {
		w.Uint(1000 * i)
	}
	enc := w.End()
	var r Reader
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(enc)
		if _, _, _, err := r.ReadDescriptor(); err != nil {
			b.Fatal(err)
		}
		f, err := r.ReadList()
		if err != nil {
			b.Fatal(err)
		}
		var v uint32
		for f.Left() > 0 {
			f.Uint(&v)
		}
		if f.Err() != nil {
			b.Fatal(f.Err())
		}
	}
}

// TestAppendValueDoesNotAllocate pins that encoding a map or list into a
// buffer with room allocates nothing, not even to box the value for AppendValue.
func TestAppendValueDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 256)
	values := []any{appProps, List{uint32(1), "two", Symbol("three"), nil}, &Array{Code: codeSym8, Values: []any{Symbol("a")}}}
	for _, v := range values {
		allocs := testing.AllocsPerRun(100, func() {
			var err error
			if buf, err = AppendValue(buf[:0], v); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("AppendValue(%T) made %.1f allocations, want 0", v, allocs)
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = AppendValue(buf[:0], appProps); err != nil { // boxed here, at the call
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("AppendValue(Map) boxed at the call made %.1f allocations, want 0", allocs)
	}
}
