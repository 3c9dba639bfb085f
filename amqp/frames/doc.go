// Package frames defines the AMQP 1.0 frame layout, every transport
// performative, the SASL frames, the terminus, error and delivery-state types,
// and the message sections, with their encoders and decoders.
//
// Like encoding it never touches a socket and imports only the standard
// library (and encoding). Decoded byte slices alias the input.
package frames
