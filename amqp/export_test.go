package amqp

// SetInitialSeq sets the first transfer and delivery number of sessions and
// links, so tests can start them near 2^32.
func SetInitialSeq(c *Config, v uint32) { c.initialSeq = v }
