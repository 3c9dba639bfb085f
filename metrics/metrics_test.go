package metrics

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
)

// The real broker is a Source.
var _ Source = (*broker.Broker)(nil)

// fakeSource is a broker snapshot.
type fakeSource struct {
	groups   []string
	backlog  map[string]int
	members  map[string]int
	listErr  error
	vanished string // listed, then gone by the time its backlog is read
	failing  string // its backlog read fails
	queues   []broker.QueueInfo
}

func (f *fakeSource) Queues(context.Context) ([]broker.QueueInfo, error) { return f.queues, nil }

func (f *fakeSource) Groups(context.Context) ([]broker.Group, error) {
	if f.listErr != nil {
		return nil, f.listErr
	}
	out := make([]broker.Group, len(f.groups))
	for i, id := range f.groups {
		out[i] = broker.Group{ID: id, Name: id}
	}
	return out, nil
}

func (f *fakeSource) Backlog(_ context.Context, id string) (int, error) {
	switch id {
	case f.vanished:
		return 0, fmt.Errorf("%w: %q", broker.ErrGroupNotFound, id)
	case f.failing:
		return 0, errors.New("jetstream: timeout")
	}
	return f.backlog[id], nil
}

func (f *fakeSource) Members(id string) []broker.MemberInfo {
	return make([]broker.MemberInfo, f.members[id])
}

func TestGroupCollector(t *testing.T) {
	src := &fakeSource{
		groups:   []string{"DEFAULT_GROUP", "g1", "gone"},
		backlog:  map[string]int{"DEFAULT_GROUP": 7, "g1": 0},
		members:  map[string]int{"g1": 3},
		vanished: "gone",
		queues:   []broker.QueueInfo{{Address: "orders/eu", Accumulation: 5, OnlineClients: 2}},
	}
	c := NewGroupCollector(src, zerolog.Nop())
	want := `
# HELP amqpemu_group_accumulation Messages of the consumer group not yet delivered or delivered and not yet settled.
# TYPE amqpemu_group_accumulation gauge
amqpemu_group_accumulation{group="DEFAULT_GROUP"} 7
amqpemu_group_accumulation{group="g1"} 0
# HELP amqpemu_group_online_clients Clients of the consumer group online now.
# TYPE amqpemu_group_online_clients gauge
amqpemu_group_online_clients{group="DEFAULT_GROUP"} 0
amqpemu_group_online_clients{group="g1"} 3
# HELP amqpemu_queue_accumulation Messages of the generic queue not yet delivered or delivered and not yet settled.
# TYPE amqpemu_queue_accumulation gauge
amqpemu_queue_accumulation{queue="orders/eu"} 5
# HELP amqpemu_queue_online_clients Clients of the generic queue online now.
# TYPE amqpemu_queue_online_clients gauge
amqpemu_queue_online_clients{queue="orders/eu"} 2
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	// Values are read at scrape time.
	src.backlog["g1"] = 42
	if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP amqpemu_group_accumulation Messages of the consumer group not yet delivered or delivered and not yet settled.
# TYPE amqpemu_group_accumulation gauge
amqpemu_group_accumulation{group="DEFAULT_GROUP"} 7
amqpemu_group_accumulation{group="g1"} 42
`), "amqpemu_group_accumulation"); err != nil {
		t.Fatal(err)
	}
}

func TestGroupCollectorErrors(t *testing.T) {
	for _, src := range []*fakeSource{
		{listErr: errors.New("kv unavailable")},
		{groups: []string{"g1"}, failing: "g1"},
	} {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(NewGroupCollector(src, zerolog.Nop()))
		if _, err := reg.Gather(); err == nil {
			t.Errorf("%+v: the scrape hides the error", src)
		}
	}
}

func TestCounters(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	c, err := NewCounters(reg)
	if err != nil {
		t.Fatal(err)
	}
	c.MessagesIngested.Add(3)
	c.Deliveries.WithLabelValues("g1").Inc()
	c.Acks.WithLabelValues("g1").Inc()
	c.Redeliveries.WithLabelValues("g1").Inc()
	c.Rejects.WithLabelValues("g1").Inc()
	c.AMQPConnections.Inc()
	c.ProtocolErrors.WithLabelValues("amqp", "amqp:resource-limit-exceeded").Inc()
	names := []string{
		"amqpemu_messages_ingested_total", "amqpemu_deliveries_total", "amqpemu_acks_total",
		"amqpemu_redeliveries_total", "amqpemu_rejects_total", "amqpemu_amqp_connections", "amqpemu_protocol_errors_total",
	}
	if n, err := testutil.GatherAndCount(reg, names...); err != nil || n != len(names) {
		t.Fatalf("%d series of %d (%v)", n, len(names), err)
	}
	if v := testutil.ToFloat64(c.MessagesIngested); v != 3 {
		t.Fatalf("ingested %v", v)
	}
	c.ForgetGroup("g1")
	if n := testutil.CollectAndCount(c.Deliveries); n != 0 {
		t.Fatalf("%d delivery series after ForgetGroup", n)
	}
	if _, err := NewCounters(reg); err == nil {
		t.Fatal("registering twice succeeded")
	}
}

func TestNewRegistry(t *testing.T) {
	src := &fakeSource{groups: []string{"DEFAULT_GROUP"}, backlog: map[string]int{"DEFAULT_GROUP": 1}}
	reg, c, err := NewRegistry(src, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	c.AMQPConnections.Set(2)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	for _, name := range []string{"amqpemu_group_accumulation", "amqpemu_group_online_clients", "amqpemu_amqp_connections", "go_goroutines"} {
		if !have[name] {
			t.Errorf("registry lacks %s", name)
		}
	}
	if have["amqpemu_deliveries_total"] {
		t.Error("a vector with no series exported")
	}
}
