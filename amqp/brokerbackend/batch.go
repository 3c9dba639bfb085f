package brokerbackend

import (
	"errors"
	"fmt"
	"sync"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// batchMessageFormat is the message-format of a Service Bus / Event Hubs
// batch: each data section of the envelope holds one whole encoded message
// (the Azure SDKs' SendMessageBatch and sendMessages([...]) send these).
const batchMessageFormat uint32 = 0x80013700

// splitBatch returns the messages a batch envelope carries.
func splitBatch(msg []byte) ([][]byte, error) {
	m, err := frames.ParseMessage(msg)
	if err != nil {
		return nil, err
	}
	if len(m.Body) == 0 {
		return nil, errors.New("a batch (message-format 0x80013700) without data sections")
	}
	out := make([][]byte, 0, len(m.Body))
	for i, sec := range m.Body {
		p, err := frames.DataPayload(sec)
		if err != nil {
			return nil, fmt.Errorf("a batch (message-format 0x80013700) body must be data sections: section %d: %w", i, err)
		}
		if _, err := frames.ParseMessage(p); err != nil {
			return nil, fmt.Errorf("batched message %d: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// publishBatch publishes each message of a batch with publish and calls
// done once, when every one has its outcome: accepted if all were, else
// the first other outcome.
func publishBatch(msg []byte, publish func([]byte, func(amqp.Outcome)), done func(amqp.Outcome)) {
	msgs, err := splitBatch(msg)
	if err != nil {
		done(rejected(frames.ErrCondDecodeError, err))
		return
	}
	var (
		mu    sync.Mutex
		left  = len(msgs)
		final = amqp.Outcome{Kind: amqp.Accepted}
	)
	for _, m := range msgs {
		publish(m, func(o amqp.Outcome) {
			mu.Lock()
			if o.Kind != amqp.Accepted && final.Kind == amqp.Accepted {
				final = o
			}
			left--
			last := left == 0
			mu.Unlock()
			if last {
				done(final)
			}
		})
	}
}
