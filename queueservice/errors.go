package queueservice

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/amqpemu/amqpemu/broker"
)

// errKind is one of the answers: the status and the error_code the SDK
// reads (as a string: a number would not fill its ErrorCode).
type errKind struct {
	status int
	code   string
}

// The vendor's page for the queue API documents numeric codes, three of
// which are used as they are (10240012, 10240018, 10240019); the signature
// failure is the API gateway's. The codes beginning "DMS.00" are this
// emulator's own, for answers whose vendor code is not known; they keep
// the vendor's statuses.
var (
	errInvalidParam   = errKind{http.StatusBadRequest, "DMS.00400001"}
	errInvalidBody    = errKind{http.StatusBadRequest, "DMS.00400002"}
	errBadGroupName   = errKind{http.StatusBadRequest, "10240012"} // name length 1–32 (vendor page)
	errTooManyInBatch = errKind{http.StatusBadRequest, "DMS.00400003"}
	errGroupExists    = errKind{http.StatusBadRequest, "10240018"} // consumer group already exists (vendor page)
	errGroupQuota     = errKind{http.StatusBadRequest, "10240019"} // consumer groups over the upper limit (vendor page)
	errKafkaDelay     = errKind{http.StatusBadRequest, "10540010"} // delay_time on a Kafka queue (the SDK's model comment)
	errQueueExists    = errKind{http.StatusBadRequest, "DMS.00400004"}
	errQueueQuota     = errKind{http.StatusBadRequest, "DMS.00400005"}
	errTooLarge       = errKind{http.StatusBadRequest, "DMS.00400006"}
	errUnauthorized   = errKind{http.StatusUnauthorized, "APIGW.0301"} // the API gateway's "incorrect IAM authentication information"
	errQueueNotFound  = errKind{http.StatusNotFound, "DMS.00404001"}
	errGroupNotFound  = errKind{http.StatusNotFound, "DMS.00404002"}
	errNoRoute        = errKind{http.StatusNotFound, "DMS.00404003"}
	errMethod         = errKind{http.StatusMethodNotAllowed, "DMS.00405001"}
	errUnavailable    = errKind{http.StatusServiceUnavailable, "DMS.00503001"}
	errInternal       = errKind{http.StatusInternalServerError, "DMS.00500001"}
)

// Error is an error answer: {"error_code": "...", "error_msg": "..."}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"error_code"`
	Message string `json:"error_msg"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Sentinels for callers in Go: an *Error of the matching kind is one of
// them by errors.Is.
var (
	ErrQueueNotFound = errors.New("queue not found")
	ErrGroupNotFound = errors.New("queue consumer group not found")
	ErrInvalid       = errors.New("invalid queue service parameter")
)

// Is makes the answers match the sentinels above.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrQueueNotFound:
		return e.Code == errQueueNotFound.code
	case ErrGroupNotFound:
		return e.Code == errGroupNotFound.code
	case ErrInvalid:
		return e.Status == http.StatusBadRequest
	}
	return false
}

func errorf(k errKind, format string, args ...any) *Error {
	return &Error{Status: k.status, Code: k.code, Message: fmt.Sprintf(format, args...)}
}

// brokerErrors maps the broker's sentinels to answers: the one place where
// that happens (TestEverySentinelMapped).
var brokerErrors = []struct {
	err  error
	kind errKind
}{
	{broker.ErrInvalidName, errInvalidParam},
	{broker.ErrInvalidArgument, errInvalidParam},
	{broker.ErrMessageTooLarge, errTooLarge},
	{broker.ErrQueueStreamNotFound, errQueueNotFound},
	{broker.ErrBadDelivery, errInvalidParam},
	{broker.ErrUnavailable, errUnavailable},
	{broker.ErrClosed, errUnavailable},
}

// toError is the answer for err: an *Error as it is, a broker sentinel by
// the table, anything else an internal error.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	for _, m := range brokerErrors {
		if errors.Is(err, m.err) {
			return &Error{Status: m.kind.status, Code: m.kind.code, Message: err.Error()}
		}
	}
	return &Error{Status: errInternal.status, Code: errInternal.code, Message: "internal error"}
}

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error_code":"` + errInternal.code + `","error_msg":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client gone away is not this server's fault
}
