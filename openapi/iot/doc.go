// Package iot is the IoT Platform's OpenAPI (Version 2018-01-20) for
// server-side subscriptions, over a Backend it declares (*broker.Broker
// satisfies it) and a Downlink for Pub: the consumer-group actions
// (CreateConsumerGroup, UpdateConsumerGroup, DeleteConsumerGroup,
// QueryConsumerGroupList, QueryConsumerGroupByGroupId,
// QueryConsumerGroupStatus, ResetConsumerGroupPosition), the AMQP
// subscription actions (Create/Update/Query/DeleteSubscribeRelation,
// Create/DeleteConsumerGroupSubscribeRelation) and Pub. Register them on an
// openapi.Server with
//
//	rpc.Register(iot.Version, iot.Product(b, downlinks))
//
// Wherever the platform takes a group id, a group's name is taken too.
// IotInstanceId, and the undocumented Type, SubBizCode, RealTenantId and
// RealTripartiteKey, are accepted and ignored.
//
// Business failures answer HTTP 200 with Success false, Code and
// ErrorMessage (errors.go maps every broker sentinel):
//
//	code                                     when
//	iot.consumergroup.NotFound               no group has that id or name
//	iot.consumergroup.AlreadyExisted         the name (or id) is another group's
//	iot.consumergroup.InvalidName            not 4–30 letters, digits, '_', CJK (counting 2)
//	iot.consumergroup.LimitExceeded          the group limit (1000) is reached
//	iot.consumergroup.DefaultGroupReadOnly   DEFAULT_GROUP cannot be deleted or renamed
//	iot.consumergroup.InUse                  delete of a group still in a subscription
//	iot.consumergroup.ClientLimitExceeded    (the AMQP side's online-client limit)
//	iot.common.InvalidPageParams             CurrentPage < 1, PageSize outside 1–1000
//	iot.common.InvalidParameter              a value the engine refuses
//	iot.prod.InvalidFormattedProductkey      a ProductKey no product can have
//	iot.subscribe.TypeNotSupported           Type MNS: amqpemu emulates AMQP only
//	iot.subscribe.RelationAlreadyExisted     CreateSubscribeRelation for a subscribed product
//	iot.subscribe.RelationNotFound           the product has no subscription
//	iot.subscribe.NoMessageTypeSelected      no *Flag set to true
//	iot.subscribe.OnlyConsumerGroup          removing the subscription's only group
//	iot.subscribe.ConsumerGroupNotSubscribed removing a group that is not in it
//	iot.messagebroker.InvalidTopic           Pub to a topic not /{ProductKey}/{DeviceName}/…
//	iot.messagebroker.MessageTooLarge        Pub of more than 256 KiB
//	iot.messagebroker.InvalidMessage         (a device message the engine refuses)
//	iot.system.SystemException               anything else (logged)
//
// Missing or malformed parameters are the door's 400 MissingX and
// InvalidParameter; the engine being unavailable is 503 ServiceUnavailable.
package iot
