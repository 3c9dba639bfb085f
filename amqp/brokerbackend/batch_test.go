package brokerbackend

import (
	"bytes"
	"testing"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

func TestPublishBatch(t *testing.T) {
	inner := func(s string) []byte { return frames.AppendData(nil, []byte(s)) }
	envelope := func(msgs ...[]byte) []byte {
		var b []byte
		for _, m := range msgs {
			b = frames.AppendData(b, m)
		}
		return b
	}
	value := encoding.AppendString(encoding.AppendDescriptor(nil, encoding.DescAMQPValue), "x")
	for _, tc := range []struct {
		name     string
		envelope []byte
		want     [][]byte
		outcome  amqp.OutcomeKind
	}{
		{"two messages", envelope(inner("a"), inner("b")), [][]byte{inner("a"), inner("b")}, amqp.Accepted},
		{"no data sections", value, nil, amqp.Rejected},
		{"empty", nil, nil, amqp.Rejected},
		{"entry not a message", envelope([]byte{0x01, 0x02}), nil, amqp.Rejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [][]byte
			var outcomes []amqp.Outcome
			publishBatch(tc.envelope, func(m []byte, done func(amqp.Outcome)) {
				got = append(got, m)
				done(amqp.Outcome{Kind: amqp.Accepted})
			}, func(o amqp.Outcome) { outcomes = append(outcomes, o) })
			if len(outcomes) != 1 || outcomes[0].Kind != tc.outcome {
				t.Fatalf("outcomes %v, want one %v", outcomes, tc.outcome)
			}
			if tc.outcome == amqp.Rejected && (outcomes[0].Error == nil || outcomes[0].Error.Condition != frames.ErrCondDecodeError) {
				t.Fatalf("rejected with %+v, want %s", outcomes[0].Error, frames.ErrCondDecodeError)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("published %d messages, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tc.want[i]) {
					t.Fatalf("message %d = %x, want %x", i, got[i], tc.want[i])
				}
			}
		})
	}
	// One refused entry refuses the batch (after all have their outcome).
	var outcomes []amqp.Outcome
	n := 0
	publishBatch(envelope(inner("a"), inner("b")), func(m []byte, done func(amqp.Outcome)) {
		n++
		if n == 2 {
			done(amqp.Outcome{Kind: amqp.Rejected, Error: &frames.Error{Condition: frames.ErrCondInternalError}})
			return
		}
		done(amqp.Outcome{Kind: amqp.Accepted})
	}, func(o amqp.Outcome) { outcomes = append(outcomes, o) })
	if len(outcomes) != 1 || outcomes[0].Kind != amqp.Rejected {
		t.Fatalf("outcomes %v, want one rejected", outcomes)
	}
}
