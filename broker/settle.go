package broker

import (
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// EngineObserver, when the Observer also implements it, is told of every
// acknowledgement the engine did not take (op is "ack", "nak" or "term").
// The message is then redelivered after the ack timeout: at least once,
// never lost.
type EngineObserver interface {
	EngineSettleFailed(op string)
}

// settleLog is sampled: when the engine connection drops, every settlement
// in flight fails at once.
func settleLog(log zerolog.Logger) zerolog.Logger {
	return log.Sample(&zerolog.BurstSampler{Burst: 5, Period: time.Second})
}

// JetStream's acknowledgements, published to a delivery's reply subject.
var (
	ackBody  = []byte("+ACK")
	nakBody  = []byte("-NAK")
	termBody = []byte("+TERM")
)

// tell hands msg's outcome to JetStream, on the current engine connection
// (any connection of the account may acknowledge), and checks that it was
// sent.
func (g *dispatcher) tell(msg *nats.Msg, o Outcome) {
	op, body := "ack", ackBody
	switch o {
	case Requeue:
		op, body = "nak", nakBody
	case Drop:
		op, body = "term", termBody
	}
	err := g.b.e().nc.Publish(msg.Reply, body)
	if err == nil {
		return
	}
	g.settleLog.Warn().Err(err).Str("op", op).Str("subject", msg.Subject).
		Msg("the engine did not take a settlement; the message is redelivered after the ack timeout")
	if eo, ok := g.b.cfg.Observer.(EngineObserver); ok {
		eo.EngineSettleFailed(op)
	}
}

// giveBack hands messages back to the engine for redelivery.
func (g *dispatcher) giveBack(fs ...fetched) {
	for _, f := range fs {
		g.tell(f.msg, Requeue)
	}
}
