package console

import (
	"context"

	"github.com/amqpemu/amqpemu/broker"
)

// Backend is what the console needs from the engine; *broker.Broker
// satisfies it.
type Backend interface {
	Groups(ctx context.Context) ([]broker.Group, error)
	Group(ctx context.Context, id string) (broker.Group, error)
	CreateGroup(ctx context.Context, name string) (broker.Group, error)
	DeleteGroup(ctx context.Context, id string) error

	StatsSource
	Clear(ctx context.Context, id string) error
	Reset(ctx context.Context, id string, p broker.Position) error

	Subscription(ctx context.Context, productKey string) (broker.Subscription, error)
	SetSubscription(ctx context.Context, productKey string, s broker.Subscription) error
	DeleteSubscription(ctx context.Context, productKey string) error

	Publish(ctx context.Context, msgs ...broker.DeviceMessage) ([]string, error)

	Queues(ctx context.Context) ([]broker.QueueInfo, error)
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
