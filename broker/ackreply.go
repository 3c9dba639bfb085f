package broker

import (
	"strings"
	"time"
)

// ackMeta is what JetStream says of a delivered message in its reply
// subject, the address its acknowledgement goes to.
type ackMeta struct {
	Delivered uint64    // times delivered, this one included
	StreamSeq uint64    // the message's sequence in the stream
	Stored    time.Time // when the stream stored it
	Pending   uint64    // the consumer's messages waiting behind this one
}

// ackPrefix begins every reply subject of a JetStream delivery.
const ackPrefix = "$JS.ACK."

// parseAckReply reads the metadata JetStream encodes in a delivery's reply
// subject, without allocating (it runs for every message). Two forms exist:
//
//	$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
//	$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>[.<token>]
func parseAckReply(reply string) (ackMeta, bool) {
	if len(reply) <= len(ackPrefix) || reply[:len(ackPrefix)] != ackPrefix {
		return ackMeta{}, false
	}
	var tok [12]string
	n := 0
	rest := reply[len(ackPrefix):]
	for n < len(tok) {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			tok[n] = rest
			n++
			rest = ""
			break
		}
		tok[n], rest = rest[:i], rest[i+1:]
		n++
	}
	if rest != "" {
		return ackMeta{}, false // more tokens than either form has
	}
	var nums []string
	switch n {
	case 7:
		nums = tok[2:7]
	case 9, 10:
		nums = tok[4:9]
	default:
		return ackMeta{}, false
	}
	var v [5]uint64
	for i, s := range nums {
		x, ok := parseUint(s)
		if !ok {
			return ackMeta{}, false
		}
		v[i] = x
	}
	// v: delivered, stream seq, consumer seq, timestamp (ns), pending.
	if v[3] > 1<<63-1 {
		return ackMeta{}, false
	}
	return ackMeta{Delivered: v[0], StreamSeq: v[1], Stored: time.Unix(0, int64(v[3])), Pending: v[4]}, true
}

// parseUint reads a decimal uint64; empty, signs and overflow are refused.
func parseUint(s string) (uint64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	var x uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		next := x*10 + uint64(c-'0')
		if next/10 != x { // overflow
			return 0, false
		}
		x = next
	}
	return x, true
}
