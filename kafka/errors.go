package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/amqpemu/amqpemu/broker"
)

// Errors of this package's own decoding.
var (
	errCorrupt     = errors.New("corrupt record batch")
	errMagic       = errors.New("unsupported message format")
	errUnsupported = errors.New("unsupported record batch feature")
	errTooLarge    = errors.New("record batch too large")
)

// errorTable maps every error a handler can meet to the Kafka error code
// answered for it: the one place of this front end where that is decided
// (TestEverySentinelMapped).
var errorTable = []struct {
	err  error
	code *kerr.Error
}{
	{broker.ErrTopicNotFound, kerr.UnknownTopicOrPartition},
	{broker.ErrPartitionNotFound, kerr.UnknownTopicOrPartition},
	{broker.ErrTopicExists, kerr.TopicAlreadyExists},
	{broker.ErrOffsetOutOfRange, kerr.OffsetOutOfRange},
	{broker.ErrKafkaGroupUnknown, kerr.GroupIDNotFound},
	{broker.ErrKafkaGroupExists, kerr.InvalidRequest},
	{broker.ErrInvalidName, kerr.InvalidTopicException},
	{broker.ErrInvalidArgument, kerr.InvalidRequest},
	{broker.ErrMessageTooLarge, kerr.MessageTooLarge},
	{broker.ErrUnavailable, kerr.RequestTimedOut},
	{broker.ErrClosed, kerr.BrokerNotAvailable},
	{errCorrupt, kerr.CorruptMessage},
	{errMagic, kerr.UnsupportedForMessageFormat},
	{errUnsupported, kerr.InvalidRecord},
	{errTooLarge, kerr.MessageTooLarge},
}

// mappedErrors are the sentinels errorTable must cover.
var mappedErrors = []error{
	broker.ErrTopicNotFound, broker.ErrPartitionNotFound, broker.ErrTopicExists, broker.ErrOffsetOutOfRange,
	broker.ErrKafkaGroupUnknown, broker.ErrKafkaGroupExists, broker.ErrInvalidName, broker.ErrInvalidArgument,
	broker.ErrMessageTooLarge, broker.ErrUnavailable, broker.ErrClosed,
	errCorrupt, errMagic, errUnsupported, errTooLarge,
}

// codeOf is the Kafka error code for err (0 for nil).
func codeOf(err error) int16 {
	if err == nil {
		return 0
	}
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.code.Code
		}
	}
	return kerr.UnknownServerError.Code
}
