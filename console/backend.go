package console

import (
	"context"

	"github.com/amqpemu/amqpemu/broker"
)

// Backend is what the console needs from the engine; *broker.Broker
// satisfies it.
type Backend interface {
	// Everywhere a group is named, ref is its id or its name.
	Groups(ctx context.Context) ([]broker.Group, error)
	ListGroups(ctx context.Context, q broker.GroupQuery) (broker.GroupPage, error)
	Group(ctx context.Context, ref string) (broker.Group, error)
	CreateGroup(ctx context.Context, name string) (broker.Group, error)
	RenameGroup(ctx context.Context, ref, newName string) (broker.Group, error)
	DeleteGroup(ctx context.Context, ref string) error

	StatsSource
	Clear(ctx context.Context, ref string) error
	Reset(ctx context.Context, ref string, p broker.Position) error
	// ResetPartitions moves some partitions of topic; refused with
	// broker.ErrGroupActive while the group has online clients.
	ResetPartitions(ctx context.Context, ref, topic string, parts []broker.PartitionPosition) error
	// GroupPartitions tells the group's position and backlog in each
	// partition of topic.
	GroupPartitions(ctx context.Context, ref, topic string) ([]broker.GroupPartition, error)
	Peek(ctx context.Context, ref string, n int) ([]broker.Peeked, error)

	Subscriptions(ctx context.Context) (map[string]broker.Subscription, error)
	Subscription(ctx context.Context, productKey string) (broker.Subscription, error)
	SetSubscription(ctx context.Context, productKey string, s broker.Subscription) error
	DeleteSubscription(ctx context.Context, productKey string) error

	Publish(ctx context.Context, msgs ...broker.DeviceMessage) ([]string, error)

	Queues(ctx context.Context) ([]broker.QueueInfo, error)

	// IngestStats counts the device messages stored since start.
	IngestStats() broker.IngestStats
}

// StatsSource reports a group's consumption status for
// GET /api/v1/groups/{id}/status: backlog, rates and online clients.
type StatsSource interface {
	GroupStats(ctx context.Context, id string) (GroupStats, error)
}

// GroupStats and ClientStats are the broker's status types.
type (
	GroupStats  = broker.GroupStats
	ClientStats = broker.ClientStats
)
