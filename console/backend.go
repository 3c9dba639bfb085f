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

	Backlog(ctx context.Context, id string) (int, error)
	Members(id string) []broker.MemberInfo
	Clear(ctx context.Context, id string) error
	Reset(ctx context.Context, id string, p broker.Position) error

	Subscription(ctx context.Context, productKey string) (broker.Subscription, error)
	SetSubscription(ctx context.Context, productKey string, s broker.Subscription) error
	DeleteSubscription(ctx context.Context, productKey string) error

	Publish(ctx context.Context, msgs ...broker.DeviceMessage) ([]string, error)
}

// StatsSource reports a group's consumption status: backlog, rates and
// online clients. A Backend that also implements it (or Config.Stats) is
// used for GET /api/v1/groups/{id}/status; without one the console builds
// the status from Backlog and Members, with rates 0 and no lastConsumedAt.
type StatsSource interface {
	GroupStats(ctx context.Context, id string) (GroupStats, error)
}

// GroupStats and ClientStats are the broker's status types.
type (
	GroupStats  = broker.GroupStats
	ClientStats = broker.ClientStats
)

// basicStats builds a group's status from Backlog and Members alone.
type basicStats struct{ b Backend }

func (s basicStats) GroupStats(ctx context.Context, id string) (GroupStats, error) {
	acc, err := s.b.Backlog(ctx, id)
	if err != nil {
		return GroupStats{}, err
	}
	st := GroupStats{Accumulation: acc}
	for _, m := range s.b.Members(id) {
		st.Clients = append(st.Clients, ClientStats{ClientID: m.ClientID, Address: m.Address})
	}
	return st, nil
}
