package amqp

// SetInitialSeq sets the first transfer-id of sessions and the initial
// delivery-count of links, so tests can start them near 2^32.
func SetInitialSeq(c *Config, v uint32) { c.initialSeq = v }

// SetInitialDeliveryID sets the first delivery-id of sessions. go-amqp 1.7.0
// loops forever settling delivery-id 2^32-1 (its range loop is
// `for id := first; id <= last; id++`), so go-amqp tests leave it at 0 and
// raw-frame tests cover delivery-id wraparound.
func SetInitialDeliveryID(c *Config, v uint32) { c.initialDeliveryID = v }
