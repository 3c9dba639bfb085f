package stomp

// SetTestHookWritten sets the hook run between a write and its ack:auto
// settlements, and returns a function restoring it.
func SetTestHookWritten(f func()) func() {
	old := testHookWritten
	testHookWritten = f
	return func() { testHookWritten = old }
}
