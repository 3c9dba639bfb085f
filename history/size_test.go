package history

import (
	"testing"
	"unsafe"
)

// TestSampleSize keeps the memory bound in sample's comment true.
func TestSampleSize(t *testing.T) {
	if n := unsafe.Sizeof(sample{}); n != 32 {
		t.Fatalf("a sample is %d bytes; the comment on sample says 32", n)
	}
}
