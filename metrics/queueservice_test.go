package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/queueservice"
)

// The real queue service is a QueueSource.
var _ QueueSource = (*queueservice.Server)(nil)

type fakeQueues struct {
	backlogs []queueservice.Backlog
	err      error
}

func (f *fakeQueues) Backlogs(context.Context) ([]queueservice.Backlog, error) {
	return f.backlogs, f.err
}

func TestQueueCollector(t *testing.T) {
	src := &fakeQueues{backlogs: []queueservice.Backlog{{Project: "p", Queue: "q1", QueueName: "orders", Group: "g-1", GroupName: "billing", Pending: 5, AckPending: 2}}}
	want := `
# HELP amqpemu_queueservice_group_backlog Messages of the queue the queue service consumer group has not acknowledged (waiting, and consumed but not yet acknowledged).
# TYPE amqpemu_queueservice_group_backlog gauge
amqpemu_queueservice_group_backlog{group="g-1",group_name="billing",project="p",queue="q1",queue_name="orders",state="unacknowledged"} 2
amqpemu_queueservice_group_backlog{group="g-1",group_name="billing",project="p",queue="q1",queue_name="orders",state="waiting"} 5
`
	c := NewQueueCollector(src, zerolog.Nop())
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	src.err = errors.New("engine away")
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err == nil {
		t.Error("a failed read was not reported")
	}
}
