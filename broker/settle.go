package broker

import (
	"time"

	"github.com/nats-io/nats.go/jetstream"
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

// tell hands msg's outcome to JetStream and checks that it was sent.
func (g *dispatcher) tell(msg jetstream.Msg, o Outcome) {
	op, err := "ack", error(nil)
	switch o {
	case Ack:
		err = msg.Ack()
	case Requeue:
		op, err = "nak", msg.Nak()
	case Drop:
		op, err = "term", msg.Term()
	}
	if err == nil {
		return
	}
	g.settleLog.Warn().Err(err).Str("op", op).Str("subject", msg.Subject()).
		Msg("the engine did not take a settlement; the message is redelivered after the ack timeout")
	if eo, ok := g.b.cfg.Observer.(EngineObserver); ok {
		eo.EngineSettleFailed(op)
	}
}

// giveBack hands messages back to the engine for redelivery.
func (g *dispatcher) giveBack(msgs ...jetstream.Msg) {
	for _, msg := range msgs {
		g.tell(msg, Requeue)
	}
}
