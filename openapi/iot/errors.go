package iot

import (
	"context"
	"errors"
	"net/http"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/openapi"
)

// Business codes, answered with HTTP 200, Success false and the reason in
// ErrorMessage. iot.common.InvalidPageParams, iot.prod.* and
// iot.system.SystemException are the platform's documented codes; it
// documents none for consumer groups and subscriptions, so those are
// amqpemu's (iot.consumergroup.*, iot.subscribe.*, iot.messagebroker.*).
const (
	CodeGroupNotFound      = "iot.consumergroup.NotFound"
	CodeGroupExists        = "iot.consumergroup.AlreadyExisted"
	CodeInvalidGroupName   = "iot.consumergroup.InvalidName"
	CodeTooManyGroups      = "iot.consumergroup.LimitExceeded"
	CodeDefaultGroup       = "iot.consumergroup.DefaultGroupReadOnly" // cannot be deleted or renamed
	CodeGroupInUse         = "iot.consumergroup.InUse"
	CodeTooManyClients     = "iot.consumergroup.ClientLimitExceeded"
	CodeInvalidPage        = "iot.common.InvalidPageParams"
	CodeInvalidArgument    = "iot.common.InvalidParameter"
	CodeInvalidProductKey  = "iot.prod.InvalidFormattedProductkey"
	CodeTypeNotSupported   = "iot.subscribe.TypeNotSupported" // MNS
	CodeRelationExists     = "iot.subscribe.RelationAlreadyExisted"
	CodeRelationNotFound   = "iot.subscribe.RelationNotFound"
	CodeNoMessageType      = "iot.subscribe.NoMessageTypeSelected"
	CodeOnlyGroup          = "iot.subscribe.OnlyConsumerGroup"
	CodeGroupNotSubscribed = "iot.subscribe.ConsumerGroupNotSubscribed"
	CodeInvalidTopic       = "iot.messagebroker.InvalidTopic"
	CodeMessageTooLarge    = "iot.messagebroker.MessageTooLarge"
	CodeInvalidMessage     = "iot.messagebroker.InvalidMessage"
	CodeSystemException    = "iot.system.SystemException"
)

// The actions' own refusals.
var (
	errMNS              = errors.New("MNS subscriptions are not supported")
	errRelationExists   = errors.New("the product has a subscription")
	errRelationNotFound = errors.New("the product has no subscription")
	errNoKinds          = errors.New("no message type selected")
	errOnlyGroup        = errors.New("the subscription's only consumer group")
	errNotSubscribed    = errors.New("consumer group not in the subscription")
	errInvalidTopic     = errors.New("invalid topic")
)

// sentinels maps errors to business codes, checked in order with
// errors.Is. Not-found comes before invalid-name: an id no group could
// have is both, and the caller asked for a group. The engine being
// unavailable is the platform's common 503, so that the SDKs report an
// error (and retry when told to).
var sentinels = []struct {
	err    error
	status int
	code   string
}{
	{broker.ErrInvalidMessage, http.StatusOK, CodeInvalidMessage},
	{broker.ErrGroupNotFound, http.StatusOK, CodeGroupNotFound},
	{broker.ErrInvalidName, http.StatusOK, CodeInvalidProductKey}, // group ids are caught above; what is left names a product
	{broker.ErrGroupExists, http.StatusOK, CodeGroupExists},
	{broker.ErrInvalidGroupName, http.StatusOK, CodeInvalidGroupName},
	{broker.ErrTooManyGroups, http.StatusOK, CodeTooManyGroups},
	{broker.ErrDefaultGroup, http.StatusOK, CodeDefaultGroup},
	{broker.ErrGroupInUse, http.StatusOK, CodeGroupInUse},
	{broker.ErrTooManyMembers, http.StatusOK, CodeTooManyClients},
	{broker.ErrInvalidPage, http.StatusOK, CodeInvalidPage},
	{broker.ErrInvalidArgument, http.StatusOK, CodeInvalidArgument},
	{broker.ErrMessageTooLarge, http.StatusOK, CodeMessageTooLarge},
	{errMNS, http.StatusOK, CodeTypeNotSupported},
	{errRelationExists, http.StatusOK, CodeRelationExists},
	{errRelationNotFound, http.StatusOK, CodeRelationNotFound},
	{errNoKinds, http.StatusOK, CodeNoMessageType},
	{errOnlyGroup, http.StatusOK, CodeOnlyGroup},
	{errNotSubscribed, http.StatusOK, CodeGroupNotSubscribed},
	{errInvalidTopic, http.StatusOK, CodeInvalidTopic},
	{broker.ErrClosed, http.StatusServiceUnavailable, openapi.CodeServiceUnavailable},
	{broker.ErrUnavailable, http.StatusServiceUnavailable, openapi.CodeServiceUnavailable},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, openapi.CodeServiceUnavailable},
	{context.Canceled, http.StatusServiceUnavailable, openapi.CodeServiceUnavailable},
}

// errorFor is the one place an action's error becomes an answer. Anything
// unknown is the platform's iot.system.SystemException with a generic
// message; the door logs the cause.
func errorFor(err error) *openapi.Error {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return &openapi.Error{Status: s.status, Code: s.code, Message: err.Error()}
		}
	}
	return &openapi.Error{Status: http.StatusOK, Code: CodeSystemException, Err: err}
}
