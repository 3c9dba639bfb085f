package brokerbackend

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/frames"
	"github.com/amqpemu/amqpemu/broker"
)

// TestEverySentinelMapped: each broker sentinel, wrapped as the broker
// wraps it, refuses a link and rejects a delivery with its condition.
func TestEverySentinelMapped(t *testing.T) {
	cases := []struct {
		err  error
		want frames.ErrCond
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
		{nats.ErrMaxPayload, frames.ErrCondMessageSizeExceeded},
		{errors.New("something else"), frames.ErrCondInternalError},
	}
	if len(cases)-1 != len(conditions) {
		t.Fatalf("%d sentinels mapped, %d tested", len(conditions), len(cases)-1)
	}
	for _, c := range cases {
		err := fmt.Errorf("%w: detail", c.err)
		var fe *frames.Error
		if !errors.As(errorFor(err), &fe) || fe.Condition != c.want || fe.Description != err.Error() {
			t.Errorf("errorFor(%v) = %v, want %s", err, fe, c.want)
		}
		o := outcomeOf(err)
		if o.Kind != amqp.Rejected || o.Error == nil || o.Error.Condition != c.want {
			t.Errorf("outcomeOf(%v) = %+v, want rejected with %s", err, o, c.want)
		}
	}
	if o := outcomeOf(nil); o.Kind != amqp.Accepted {
		t.Errorf("outcomeOf(nil) = %+v, want accepted", o)
	}
	// A condition the backend chose itself goes through unchanged.
	own := &frames.Error{Condition: frames.ErrCondNotFound, Description: "mine"}
	if got := errorFor(fmt.Errorf("wrapped: %w", own)); got != own {
		t.Errorf("errorFor(wrapped frames.Error) = %v, want it unchanged", got)
	}
}
