package stomp_test

import (
	"testing"

	"github.com/amqpemu/amqpemu/internal/interop"
)

// TestMain tells, once at the end, which interop tests were skipped for a
// missing client and how to install it (see internal/interop).
func TestMain(m *testing.M) { interop.Main(m) }
