package iot

import (
	"context"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/openapi"
)

// Version is the IoT Platform API version the actions answer to.
const Version = "2018-01-20"

// Backend is what the actions need from the engine; *broker.Broker
// satisfies it. Everywhere a group is named, ref is its id or its name.
type Backend interface {
	CreateGroup(ctx context.Context, name string) (broker.Group, error)
	RenameGroup(ctx context.Context, ref, newName string) (broker.Group, error)
	DeleteGroup(ctx context.Context, ref string) error
	Group(ctx context.Context, ref string) (broker.Group, error)
	ListGroups(ctx context.Context, q broker.GroupQuery) (broker.GroupPage, error)
	GroupStats(ctx context.Context, ref string) (broker.GroupStats, error)
	Clear(ctx context.Context, ref string) error

	Subscription(ctx context.Context, productKey string) (broker.Subscription, error)
	SetSubscription(ctx context.Context, productKey string, s broker.Subscription) error
	DeleteSubscription(ctx context.Context, productKey string) error
}

// Downlink carries a message from the cloud to a device (Pub) and answers
// its message id.
type Downlink interface {
	Send(ctx context.Context, productKey, deviceName, topic string, payload []byte, qos int) (messageID string, err error)
}

// Product is the IoT Platform's consumer-group, subscription and Pub
// actions over b and d, to register under Version:
//
//	rpc.Register(iot.Version, iot.Product(b, d))
func Product(b Backend, d Downlink) openapi.Product {
	a := &actions{b: b, d: d}
	return openapi.Product{
		Name: "Iot",
		Actions: map[string]openapi.Action{
			"CreateConsumerGroup":                  a.createConsumerGroup,
			"UpdateConsumerGroup":                  a.updateConsumerGroup,
			"DeleteConsumerGroup":                  a.deleteConsumerGroup,
			"QueryConsumerGroupList":               a.queryConsumerGroupList,
			"QueryConsumerGroupByGroupId":          a.queryConsumerGroupByGroupID,
			"QueryConsumerGroupStatus":             a.queryConsumerGroupStatus,
			"ResetConsumerGroupPosition":           a.resetConsumerGroupPosition,
			"CreateSubscribeRelation":              a.createSubscribeRelation,
			"UpdateSubscribeRelation":              a.updateSubscribeRelation,
			"QuerySubscribeRelation":               a.querySubscribeRelation,
			"DeleteSubscribeRelation":              a.deleteSubscribeRelation,
			"CreateConsumerGroupSubscribeRelation": a.createConsumerGroupSubscribeRelation,
			"DeleteConsumerGroupSubscribeRelation": a.deleteConsumerGroupSubscribeRelation,
			"Pub":                                  a.pub,
		},
		Errors: errorFor,
	}
}

type actions struct {
	b Backend
	d Downlink
}

// platformTime is how the platform writes times: UTC to the millisecond,
// "2020-05-20T00:05:20.000Z"; the zero time is "".
func platformTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
