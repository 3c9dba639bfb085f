package alikafka

import (
	"context"
	"errors"
	"net/http"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/openapi"
)

// Codes of refusals. The service documents no codes for these cases, so
// they are amqpemu's, in the service's BIZ_ style.
const (
	CodeTopicNotFound   = "BIZ_TOPIC_NOT_FOUND"
	CodeTopicExists     = "BIZ_TOPIC_EXISTED"
	CodeGroupNotFound   = "BIZ_SUBSCRIPTION_NOT_FOUND"
	CodeGroupExists     = "BIZ_CONSUMER_EXISTED"
	CodeGroupActive     = "BIZ_CONSUMER_GROUP_ACTIVE"
	CodeInvalidName     = "BIZ_INVALID_NAME"
	CodePartition       = "BIZ_PARTITION_NOT_FOUND"
	CodeInvalidArgument = "InvalidParameter"
	CodeSystem          = "InternalError"
)

// The actions' own refusals.
var (
	errGroupActive = errors.New("the consumer group has active members: stop its consumers (and wait out their session timeout) first")
	errBadOffsets  = errors.New("invalid Offsets")
)

var sentinels = []struct {
	err    error
	status int
	code   string
}{
	{broker.ErrTopicNotFound, http.StatusNotFound, CodeTopicNotFound},
	{broker.ErrKafkaGroupUnknown, http.StatusNotFound, CodeGroupNotFound},
	{broker.ErrTopicExists, http.StatusConflict, CodeTopicExists},
	{broker.ErrKafkaGroupExists, http.StatusConflict, CodeGroupExists},
	{errGroupActive, http.StatusConflict, CodeGroupActive},
	{broker.ErrPartitionNotFound, http.StatusBadRequest, CodePartition},
	{broker.ErrInvalidName, http.StatusBadRequest, CodeInvalidName},
	{broker.ErrInvalidArgument, http.StatusBadRequest, CodeInvalidArgument},
	{errBadOffsets, http.StatusBadRequest, CodeInvalidArgument},
	{broker.ErrClosed, http.StatusServiceUnavailable, openapi.CodeServiceUnavailable},
	{broker.ErrUnavailable, http.StatusServiceUnavailable, openapi.CodeServiceUnavailable},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, openapi.CodeServiceUnavailable},
	{context.Canceled, http.StatusServiceUnavailable, openapi.CodeServiceUnavailable},
}

// errorFor is the one place an action's error becomes an answer.
func errorFor(err error) *openapi.Error {
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return &openapi.Error{Status: s.status, Code: s.code, Message: err.Error()}
		}
	}
	return &openapi.Error{Status: http.StatusInternalServerError, Code: CodeSystem, Err: err}
}
