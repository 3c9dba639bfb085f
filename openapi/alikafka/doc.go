// Package alikafka is the control plane of the vendor's Kafka service
// (ApsaraMQ for Kafka, OpenAPI version 2019-09-16) over the broker's Kafka
// topics, consumer groups and committed offsets: CreateTopic, GetTopicList,
// CreateConsumerGroup, GetConsumerList, GetConsumerProgress,
// DeleteConsumerGroup and UpdateConsumerOffset, as the actions of an
// openapi.Product registered under Version:
//
//	rpc.Register(alikafka.Version, alikafka.Product(b, kafkaServer))
//
// Any InstanceId is accepted: the emulator is one instance. Successes
// answer the service's envelope (Code 200, Message "operation success");
// refusals are non-2xx answers with a string Code (the SDK reads them as a
// ServerError), since the SDK's responses hold Code as a number and the
// service's own codes for these cases are not documented.
package alikafka
