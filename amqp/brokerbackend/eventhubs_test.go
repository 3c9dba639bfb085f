package brokerbackend

import (
	"errors"
	"testing"

	"github.com/amqpemu/amqpemu/amqp/frames"
	"github.com/amqpemu/amqpemu/broker"
)

func TestEventHubSource(t *testing.T) {
	for _, tc := range []struct {
		addr, group string
		eventHub    bool
		cond        frames.ErrCond
	}{
		{"iot/ConsumerGroups/$Default/Partitions/0", broker.DefaultGroupID, true, ""},
		{"iot/consumergroups/$default/partitions/0", broker.DefaultGroupID, true, ""},
		{"iot/ConsumerGroups/hub_readers/Partitions/0", "hub_readers", true, ""},
		{"iot/ConsumerGroups/hub_readers/Partitions/1", "", true, frames.ErrCondNotFound},
		{"orders", "orders", false, ""},
		{"a/b/c/d/e", "a/b/c/d/e", false, ""},
		{"/pk/dn/user/update", "/pk/dn/user/update", false, ""},
	} {
		group, eh, err := eventHubSource(tc.addr)
		var fe *frames.Error
		if tc.cond != "" {
			if !errors.As(err, &fe) || fe.Condition != tc.cond {
				t.Errorf("%q: error %v, want %s", tc.addr, err, tc.cond)
			}
			continue
		}
		if err != nil || group != tc.group || eh != tc.eventHub {
			t.Errorf("%q = %q, %v, %v; want %q, %v", tc.addr, group, eh, err, tc.group, tc.eventHub)
		}
	}
}
