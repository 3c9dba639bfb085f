// Package encoding implements the AMQP 1.0 type system (OASIS AMQP 1.0 part 1):
// every primitive encoding, described types, lists, maps and arrays.
//
// It never touches a socket and imports only the standard library. Encoders
// append to a caller's buffer and do not allocate beyond growing it; decoders
// never panic and never allocate more than their input justifies.
package encoding
