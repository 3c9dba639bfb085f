package stomp

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/amqpemu/amqpemu/broker"
)

// ackMode is a subscription's ack header (§SUBSCRIBE ack Header).
type ackMode uint8

const (
	ackAuto             ackMode = iota // acked to the broker once written to the socket
	ackClient                          // ACK is cumulative
	ackClientIndividual                // ACK settles one message
)

func parseAckMode(s string) (ackMode, bool) {
	switch s {
	case "", "auto":
		return ackAuto, true
	case "client":
		return ackClient, true
	case "client-individual":
		return ackClientIndividual, true
	}
	return 0, false
}

// subscription is a connection's membership of its consumer group.
type subscription struct {
	out     *outbox
	id      string // the SUBSCRIBE id
	mode    ackMode
	base64  bool
	v10     bool           // MESSAGE headers for a STOMP 1.0 peer: not escaped
	member  *broker.Member // set before the first Credit, then read-only
	started bool           // credit granted; owned by the reader goroutine
	// closed refuses further deliveries; set under out.mu by detach.
	closed atomic.Bool

	mu      sync.Mutex
	pending []pendingAck // written, not yet ACKed or NACKed; ascending ack ids
}

// pendingAck is a MESSAGE written in a client ack mode, awaiting ACK/NACK.
type pendingAck struct {
	ackID     uint64 // the MESSAGE's ack header
	token     uint64 // the broker's delivery token
	messageID string // for ACKs that name the message-id (STOMP 1.0/1.1)
}

// Deliver queues a broker delivery for the writer; never blocks.
func (s *subscription) Deliver(d broker.Delivery) bool {
	return s.out.pushDelivery(s, d)
}

// written records a MESSAGE the writer is sending with ack id p.ackID; ack
// ids only grow, so pending stays in delivery order.
func (s *subscription) written(p pendingAck) {
	s.mu.Lock()
	s.pending = append(s.pending, p)
	s.mu.Unlock()
}

// take removes the pending message with ack id (or, when id is zero, the
// first with messageID) and, when cumulative, every one before it.
func (s *subscription) take(id uint64, messageID string, cumulative bool) []pendingAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(id, messageID)
	if i < 0 {
		return nil
	}
	var out []pendingAck
	if cumulative {
		out = append(out, s.pending[:i+1]...)
		s.pending = append(s.pending[:0], s.pending[i+1:]...)
	} else {
		out = append(out, s.pending[i])
		s.pending = append(s.pending[:i], s.pending[i+1:]...)
	}
	return out
}

func (s *subscription) find(id uint64, messageID string) int {
	if id == 0 {
		for i, p := range s.pending {
			if p.messageID == messageID {
				return i
			}
		}
		return -1
	}
	i := sort.Search(len(s.pending), func(i int) bool { return s.pending[i].ackID >= id })
	if i == len(s.pending) || s.pending[i].ackID != id {
		return -1
	}
	return i
}

// forget drops the pending list once the member has left (Leave handed
// those messages back).
func (s *subscription) forget() {
	s.mu.Lock()
	s.pending = nil
	s.mu.Unlock()
}
