package brokerbackend

import (
	"errors"

	"github.com/nats-io/nats.go"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/frames"
	"github.com/amqpemu/amqpemu/broker"
)

// conditions maps every broker sentinel to the AMQP error condition the
// client sees: the one place broker errors become AMQP errors, for refused
// links (errorFor) and rejected deliveries (outcomeOf) alike.
var conditions = []struct {
	err  error
	cond frames.ErrCond
}{
	{broker.ErrGroupNotFound, frames.ErrCondNotFound},
	{broker.ErrGroupExists, frames.ErrCondNotAllowed},
	{broker.ErrInvalidGroupName, frames.ErrCondInvalidField},
	{broker.ErrTooManyGroups, frames.ErrCondResourceLimitExceeded},
	{broker.ErrDefaultGroup, frames.ErrCondNotAllowed},
	{broker.ErrGroupInUse, frames.ErrCondResourceLocked},
	{broker.ErrTooManyMembers, frames.ErrCondResourceLimitExceeded},
	{broker.ErrInvalidMessage, frames.ErrCondInvalidField},
	{broker.ErrInvalidArgument, frames.ErrCondInvalidField},
	{broker.ErrMessageTooLarge, frames.ErrCondMessageSizeExceeded},
	{broker.ErrInvalidName, frames.ErrCondInvalidField},
	{broker.ErrUnavailable, frames.ErrCondInternalError},
	{broker.ErrClosed, frames.ErrCondConnectionForced},
	// The engine's own payload limit (1 MiB on a default NATS server): a
	// broker limit configured above it used to surface as internal-error.
	{nats.ErrMaxPayload, frames.ErrCondMessageSizeExceeded},
}

// conditionOf is the AMQP condition for a broker error: amqp:internal-error
// for anything that is not a known sentinel.
func conditionOf(err error) frames.ErrCond {
	for _, c := range conditions {
		if errors.Is(err, c.err) {
			return c.cond
		}
	}
	return frames.ErrCondInternalError
}

// errorFor maps a broker error to the AMQP error that refuses a link.
func errorFor(err error) error {
	var fe *frames.Error
	if errors.As(err, &fe) {
		return fe
	}
	return &frames.Error{Condition: conditionOf(err), Description: err.Error()}
}

// outcomeOf is the outcome of a publish: accepted, or rejected with the
// condition of the broker's error.
func outcomeOf(err error) amqp.Outcome {
	if err == nil {
		return amqp.Outcome{Kind: amqp.Accepted}
	}
	return rejected(conditionOf(err), err)
}

func rejected(cond frames.ErrCond, err error) amqp.Outcome {
	return amqp.Outcome{Kind: amqp.Rejected, Error: &frames.Error{Condition: cond, Description: err.Error()}}
}
