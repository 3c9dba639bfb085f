package alikafka

import (
	"context"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/openapi"
)

// Version is the Kafka service's API version.
const Version = "2019-09-16"

// Backend is what the actions need from the engine; *broker.Broker
// satisfies it.
type Backend interface {
	CreateTopic(ctx context.Context, name string, partitions int, remark string) (broker.KafkaTopic, error)
	Topic(ctx context.Context, name string) (broker.KafkaTopic, error)
	Topics(ctx context.Context) ([]broker.KafkaTopic, error)
	CreateKafkaGroup(ctx context.Context, name, remark string) (broker.KafkaGroup, error)
	KafkaGroup(ctx context.Context, name string) (broker.KafkaGroup, error)
	KafkaGroups(ctx context.Context) ([]broker.KafkaGroup, error)
	DeleteKafkaGroup(ctx context.Context, name string) error
	CommittedOffsets(ctx context.Context, group string) ([]broker.CommittedOffset, error)
	ResetKafkaGroup(ctx context.Context, group string, r broker.OffsetReset) error
	Progress(ctx context.Context, topic string, from map[int32]int64) (map[int32]broker.PartitionProgress, error)
}

// Members tells how many members a Kafka group has joined (the Kafka
// listener's *kafka.Server); nil when no listener runs.
type Members interface {
	ActiveMembers(group string) int
}

// Product is the Kafka service's actions over b, refusing offset resets
// of groups m says are active.
func Product(b Backend, m Members) openapi.Product {
	a := &actions{b: b, m: m, now: time.Now}
	return openapi.Product{
		Name: "alikafka",
		Actions: map[string]openapi.Action{
			"CreateTopic":          a.createTopic,
			"GetTopicList":         a.getTopicList,
			"CreateConsumerGroup":  a.createConsumerGroup,
			"GetConsumerList":      a.getConsumerList,
			"GetConsumerProgress":  a.getConsumerProgress,
			"DeleteConsumerGroup":  a.deleteConsumerGroup,
			"UpdateConsumerOffset": a.updateConsumerOffset,
		},
		Errors: errorFor,
	}
}

type actions struct {
	b   Backend
	m   Members
	now func() time.Time
}

func (a *actions) active(group string) int {
	if a.m == nil {
		return 0
	}
	return a.m.ActiveMembers(group)
}

// ok is the service's success envelope beyond RequestId and Success.
type ok struct {
	Code    int    `json:"Code"`
	Message string `json:"Message"`
}

var success = ok{Code: 200, Message: "operation success"}
