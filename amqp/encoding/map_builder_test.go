package encoding

import (
	"bytes"
	"reflect"
	"testing"
)

// TestBeginEndMap: a map written piece by piece equals the one AppendValue
// writes for the same Map, in the 8-bit and the 32-bit form.
func TestBeginEndMap(t *testing.T) {
	for _, n := range []int{1, 40} {
		var m Map
		b, start := BeginMap(nil)
		for i := range n {
			k, v := "key"+string(rune('a'+i%26)), int64(i)
			m = append(m, MapEntry{Key: k, Value: v})
			b = AppendString(b, k)
			b = AppendLong(b, v)
		}
		b = EndMap(b, start, 2*n)
		want, err := AppendValue(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, want) {
			t.Fatalf("%d entries:\n got %x\nwant %x", n, b, want)
		}
		got, err := NewReader(b).ReadValue()
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("%d entries decode to %v, %v", n, got, err)
		}
	}
}
