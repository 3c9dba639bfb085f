package metrics

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/logservice"
)

// The real log service is a LogSource.
var _ LogSource = (*logservice.Server)(nil)

type fakeLogs struct {
	groups []logservice.GroupOverview
	rules  []logservice.ForwardRule
	err    error
}

func (f *fakeLogs) Groups(context.Context) ([]logservice.GroupOverview, error) {
	return f.groups, f.err
}
func (f *fakeLogs) Forwards(context.Context) ([]logservice.ForwardRule, error) { return f.rules, nil }

func TestLogCollector(t *testing.T) {
	src := &fakeLogs{
		groups: []logservice.GroupOverview{{Project: "p1", Logstore: "ls", GroupStatus: logservice.GroupStatus{
			Name: "readers", Consumers: []logservice.Consumer{{Name: "w1"}, {Name: "w2"}},
			Shards: []logservice.ShardStatus{{Shard: 0, Backlog: 3}, {Shard: 1, Backlog: 0}}}}},
		rules: []logservice.ForwardRule{{ProductKey: "pk.1", Project: "p1", Logstore: "ls", Backlog: 4}},
	}
	want := `
# HELP amqpemu_logforward_backlog Device messages of the product not yet forwarded into the logstore of its data forwarding rule.
# TYPE amqpemu_logforward_backlog gauge
amqpemu_logforward_backlog{logstore="ls",product="pk.1",project="p1"} 4
# HELP amqpemu_logservice_group_backlog Log groups of the shard after the log service consumer group's checkpoint (all kept ones before its first checkpoint).
# TYPE amqpemu_logservice_group_backlog gauge
amqpemu_logservice_group_backlog{group="readers",logstore="ls",project="p1",shard="0"} 3
amqpemu_logservice_group_backlog{group="readers",logstore="ls",project="p1",shard="1"} 0
# HELP amqpemu_logservice_group_consumers Live consumers (heartbeating within the timeout) of the log service consumer group.
# TYPE amqpemu_logservice_group_consumers gauge
amqpemu_logservice_group_consumers{group="readers",logstore="ls",project="p1"} 2
`
	if err := testutil.CollectAndCompare(NewLogCollector(src, zerolog.Nop()), strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewLogCollector(&fakeLogs{err: errors.New("kv unavailable")}, zerolog.Nop()))
	if _, err := reg.Gather(); err == nil {
		t.Error("the scrape hides the error")
	}
}
