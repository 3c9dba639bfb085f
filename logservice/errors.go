package logservice

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/amqpemu/amqpemu/broker"
)

// errKind is one of the vendor's error answers: the status and the
// errorCode the SDK reads into sls.Error.HTTPCode and Code.
type errKind struct {
	status int
	code   string
}

// The answers this front end gives, with the vendor's codes and statuses
// (its common error table and the GetCursor, CreateLogStore and PutLogs
// pages; the two NotExist codes are 404, SignatureNotMatch and
// Unauthorized 401). Keep 5xx for the engine's absence: the SDK retries
// data-plane calls on any 5xx for up to 90 s.
var (
	errParameterInvalid     = errKind{http.StatusBadRequest, "ParameterInvalid"}
	errProjectNotExist      = errKind{http.StatusNotFound, "ProjectNotExist"}
	errProjectAlreadyExist  = errKind{http.StatusBadRequest, "ProjectAlreadyExist"}
	errLogStoreNotExist     = errKind{http.StatusNotFound, "LogStoreNotExist"}
	errLogStoreAlreadyExist = errKind{http.StatusBadRequest, "LogStoreAlreadyExist"}
	errShardNotExist        = errKind{http.StatusBadRequest, "ShardNotExist"}
	errInvalidCursor        = errKind{http.StatusBadRequest, "InvalidCursor"}
	errPostBodyInvalid      = errKind{http.StatusBadRequest, "PostBodyInvalid"}
	errPostBodyTooLarge     = errKind{http.StatusBadRequest, "PostBodyTooLarge"}
	errPostBodyUncompress   = errKind{http.StatusBadRequest, "PostBodyUncompressError"}
	errInvalidCompressType  = errKind{http.StatusBadRequest, "InvalidCompressType"}
	errMissingBodyRawSize   = errKind{http.StatusBadRequest, "MissingBodyRawSize"}
	errInvalidBodyRawSize   = errKind{http.StatusBadRequest, "InvalidBodyRawSize"}
	errInvalidContentType   = errKind{http.StatusUnsupportedMediaType, "InvalidContentType"}
	errMissingDate          = errKind{http.StatusBadRequest, "MissingDate"}
	errInvalidDateFormat    = errKind{http.StatusBadRequest, "InvalidDateFormat"}
	errRequestTimeExpired   = errKind{http.StatusBadRequest, "RequestTimeExpired"}
	errUnauthorized         = errKind{http.StatusUnauthorized, "Unauthorized"}
	errSignatureNotMatch    = errKind{http.StatusUnauthorized, "SignatureNotMatch"}
	errInvalidSignMethod    = errKind{http.StatusBadRequest, "InvalidSignatureMethod"}
	errGroupAlreadyExist    = errKind{http.StatusBadRequest, "ConsumerGroupAlreadyExist"}
	errGroupNotExist        = errKind{http.StatusNotFound, groupNotFound}
	errGroupQuotaExceed     = errKind{http.StatusBadRequest, "ConsumerGroupQuotaExceed"} // code not in the vendor's page
	// The consumer library's spellings, which it matches to drop a shard it lost.
	errConsumerNotExist = errKind{http.StatusBadRequest, "ConsumerNotExsit"}
	errConsumerNotMatch = errKind{http.StatusBadRequest, "ConsumerNotMatch"}
	errShardNotExsit    = errKind{http.StatusBadRequest, "ShardNotExsit"}
	errNotSupported     = errKind{http.StatusNotFound, "NotSupported"}
	errServerBusy       = errKind{http.StatusServiceUnavailable, "ServerBusy"}
	errInternal         = errKind{http.StatusInternalServerError, "InternalServerError"}
)

const groupNotFound = "ConsumerGroupNotExist"

// Error is an error answer.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"errorCode"`
	Message string `json:"errorMessage"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Sentinels for callers in Go (the REST API's data forwarding and status):
// an *Error with the NotExist codes is one of them by errors.Is.
var (
	ErrProjectNotFound  = errors.New("log service project not found")
	ErrLogstoreNotFound = errors.New("logstore not found")
	ErrGroupNotFound    = errors.New("log service consumer group not found")
	ErrProjectExists    = errors.New("log service project exists")
	ErrLogstoreExists   = errors.New("logstore exists")
	ErrInvalid          = errors.New("invalid log service parameter")
)

// Is makes the NotExist answers match the sentinels above.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrProjectNotFound:
		return e.Code == errProjectNotExist.code
	case ErrLogstoreNotFound:
		return e.Code == errLogStoreNotExist.code
	case ErrGroupNotFound:
		return e.Code == errGroupNotExist.code
	case ErrProjectExists:
		return e.Code == errProjectAlreadyExist.code
	case ErrLogstoreExists:
		return e.Code == errLogStoreAlreadyExist.code
	case ErrInvalid:
		return e.Code == errParameterInvalid.code
	}
	return false
}

func errorf(k errKind, format string, args ...any) *Error {
	return &Error{Status: k.status, Code: k.code, Message: fmt.Sprintf(format, args...)}
}

// brokerErrors maps the broker's sentinels to answers: the one place
// where that happens (TestEverySentinelMapped).
var brokerErrors = []struct {
	err  error
	kind errKind
}{
	{broker.ErrInvalidName, errParameterInvalid},
	{broker.ErrInvalidArgument, errParameterInvalid},
	{broker.ErrLogShardNotFound, errShardNotExist},
	{broker.ErrMessageTooLarge, errPostBodyTooLarge},
	{broker.ErrUnavailable, errServerBusy},
	{broker.ErrClosed, errServerBusy},
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
			return errorf(m.kind, "%v", err)
		}
	}
	return errorf(errInternal, "%v", err)
}

// writeError renders err as the SDK expects; the caller has set the
// request id header.
func writeError(w http.ResponseWriter, err error) {
	e := toError(err)
	body, _ := json.Marshal(e) // two strings: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	w.Write(body)
}
