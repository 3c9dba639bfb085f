package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/amqpemu/amqpemu/alerts"
	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/devices"
	"github.com/amqpemu/amqpemu/logservice"
)

// Error codes of the JSON error answers; they are part of the REST contract.
const (
	CodeGroupNotFound        = "GroupNotFound"
	CodeGroupExists          = "GroupExists"
	CodeInvalidGroupName     = "InvalidGroupName"
	CodeTooManyGroups        = "TooManyGroups"
	CodeDefaultGroup         = "DefaultGroup"
	CodeGroupInUse           = "GroupInUse"
	CodeTooManyClients       = "TooManyClients"
	CodeInvalidMessage       = "InvalidMessage"
	CodeInvalidArgument      = "InvalidArgument"
	CodeInvalidPageParams    = "InvalidPageParams"
	CodeInvalidName          = "InvalidName"
	CodeMessageTooLarge      = "MessageTooLarge"
	CodeInvalidJSON          = "InvalidJSON"
	CodeUnknownField         = "UnknownField"
	CodeBodyTooLarge         = "BodyTooLarge"
	CodeTooManyMessages      = "TooManyMessages"
	CodeUnauthorized         = "Unauthorized"
	CodeCrossOriginRefused   = "CrossOriginRefused"
	CodeHostRefused          = "HostRefused"
	CodeUnsupportedMediaType = "UnsupportedMediaType"
	CodeNotFound             = "NotFound"
	CodeMethodNotAllowed     = "MethodNotAllowed"
	CodeUnavailable          = "Unavailable"
	CodeTimeout              = "Timeout"
	CodeInternalError        = "InternalError"
	CodeAlertNotFound        = "AlertNotFound"
	CodeAlertsDisabled       = "AlertsDisabled"
	CodeDeviceNotFound       = "DeviceNotFound"
	CodeDeviceExists         = "DeviceExists"
	CodeProductNotFound      = "ProductNotFound"
	CodeDevicesDisabled      = "DevicesDisabled"
	CodeHistoryDisabled      = "HistoryDisabled"
	CodeLogServiceDisabled   = "LogServiceDisabled"
	CodeLogProjectNotFound   = "LogProjectNotFound"
	CodeLogstoreNotFound     = "LogstoreNotFound"
	CodeLogGroupNotFound     = "LogGroupNotFound"
	CodeLogForwardNotFound   = "LogForwardNotFound"
	CodeLogProjectExists     = "LogProjectExists"
	CodeLogstoreExists       = "LogstoreExists"
	CodeGroupActive          = "GroupActive"
	CodeTopicNotFound        = "TopicNotFound"
	CodePartitionNotFound    = "PartitionNotFound"
	CodeOffsetOutOfRange     = "OffsetOutOfRange"
)

// Error is an HTTP error answer: Status, and the JSON body {"code", "message"}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// sentinels maps the broker's (and the alert service's and device
// registry's) errors to statuses
// and codes, checked in order with errors.Is.
//
// ErrTooManyGroups is 409, not 429: 429 tells clients to back off and retry,
// and a retry never succeeds until a group is deleted; the request conflicts
// with the current state (the number of groups), which is what 409 says.
// ErrTooManyMembers (only reachable through AMQP/STOMP today) follows suit.
var sentinels = []struct {
	err    error
	status int
	code   string
}{
	{broker.ErrInvalidMessage, http.StatusBadRequest, CodeInvalidMessage}, // first: a bad name in a message is a bad message
	{broker.ErrInvalidName, http.StatusBadRequest, CodeInvalidName},       // before not-found: an invalid id is both
	{broker.ErrGroupNotFound, http.StatusNotFound, CodeGroupNotFound},
	{broker.ErrGroupExists, http.StatusConflict, CodeGroupExists},
	{broker.ErrInvalidGroupName, http.StatusBadRequest, CodeInvalidGroupName},
	{broker.ErrTooManyGroups, http.StatusConflict, CodeTooManyGroups},
	{broker.ErrDefaultGroup, http.StatusConflict, CodeDefaultGroup},
	{broker.ErrGroupInUse, http.StatusConflict, CodeGroupInUse},
	{broker.ErrTooManyMembers, http.StatusConflict, CodeTooManyClients},
	{broker.ErrGroupActive, http.StatusConflict, CodeGroupActive},
	// A per-partition reset names a topic and partitions in its body, not
	// in the path: an unknown one is a bad request, not a missing resource.
	{broker.ErrTopicNotFound, http.StatusBadRequest, CodeTopicNotFound},
	{broker.ErrPartitionNotFound, http.StatusBadRequest, CodePartitionNotFound},
	{broker.ErrOffsetOutOfRange, http.StatusBadRequest, CodeOffsetOutOfRange},
	{broker.ErrInvalidArgument, http.StatusBadRequest, CodeInvalidArgument},
	{broker.ErrInvalidPage, http.StatusBadRequest, CodeInvalidPageParams},
	{broker.ErrMessageTooLarge, http.StatusRequestEntityTooLarge, CodeMessageTooLarge},
	{broker.ErrStateNotFound, http.StatusNotFound, CodeNotFound},
	{alerts.ErrRuleNotFound, http.StatusNotFound, CodeAlertNotFound},
	{devices.ErrDeviceNotFound, http.StatusNotFound, CodeDeviceNotFound},
	{devices.ErrDeviceExists, http.StatusConflict, CodeDeviceExists},
	{devices.ErrProductNotFound, http.StatusNotFound, CodeProductNotFound},
	{logservice.ErrProjectNotFound, http.StatusNotFound, CodeLogProjectNotFound},
	{logservice.ErrLogstoreNotFound, http.StatusNotFound, CodeLogstoreNotFound},
	{logservice.ErrGroupNotFound, http.StatusNotFound, CodeLogGroupNotFound},
	{logservice.ErrForwardNotFound, http.StatusNotFound, CodeLogForwardNotFound},
	{logservice.ErrProjectExists, http.StatusConflict, CodeLogProjectExists},
	{logservice.ErrLogstoreExists, http.StatusConflict, CodeLogstoreExists},
	{logservice.ErrInvalid, http.StatusBadRequest, CodeInvalidArgument},
	{broker.ErrClosed, http.StatusServiceUnavailable, CodeUnavailable},
	{broker.ErrUnavailable, http.StatusServiceUnavailable, CodeUnavailable},
	{context.DeadlineExceeded, http.StatusGatewayTimeout, CodeTimeout},
	{context.Canceled, http.StatusServiceUnavailable, CodeUnavailable},
}

// errorFor is the one place an error becomes an HTTP answer. The second
// result is true when the error is the server's fault (500): the caller logs
// it, and the client gets a generic message.
func errorFor(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, false
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the request body exceeds %d bytes", tooLarge.Limit), false
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return &Error{Status: s.status, Code: s.code, Message: err.Error()}, false
		}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternalError, Message: "internal error; the server log has the details"}, true
}
