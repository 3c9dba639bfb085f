package openapi

import (
	"fmt"
	"net/http"
)

// Codes of the platform's common errors, which the door answers with a
// 4xx or 5xx status. A missing parameter X is "MissingX" (Missing).
const (
	CodeSignatureDoesNotMatch  = "SignatureDoesNotMatch"
	CodeIncompleteSignature    = "IncompleteSignature"
	CodeInvalidAccessKeyID     = "InvalidAccessKeyId.NotFound"
	CodeInvalidAction          = "InvalidAction.NotFound"
	CodeInvalidVersion         = "InvalidVersion"
	CodeTimestampExpired       = "InvalidTimeStamp.Expired"
	CodeTimestampFormat        = "InvalidTimeStamp.Format"
	CodeNonceUsed              = "SignatureNonceUsed"
	CodeInvalidSignatureMethod = "InvalidSignatureMethod"
	CodeInvalidSignatureVer    = "InvalidSignatureVersion"
	CodeInvalidParameter       = "InvalidParameter"
	CodeUnsupportedMethod      = "UnsupportedHTTPMethod"
	CodeRequestTooLarge        = "RequestTooLarge"
	CodeServiceUnavailable     = "ServiceUnavailable"
	CodeInternalError          = "InternalError"
)

// Error is a refused call. Status is the HTTP status: 4xx or 5xx for the
// platform's common errors, 200 for a product's business failure (Success
// false with Code and ErrorMessage). Err, when set, is the cause of a
// server fault: logged, never sent.
type Error struct {
	Status  int
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap gives the cause of a server fault.
func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Business is a product's business failure: HTTP 200, Success false.
func Business(code, format string, args ...any) *Error {
	return Errorf(http.StatusOK, code, format, args...)
}

// Missing is the refusal of a call without the required parameter name.
func Missing(name string) *Error {
	return Errorf(http.StatusBadRequest, "Missing"+name, "%s is mandatory for this action.", name)
}

// MissingBecause is Missing with the condition that made name required.
func MissingBecause(name, why string) *Error {
	return Errorf(http.StatusBadRequest, "Missing"+name, "%s is mandatory for this action %s.", name, why)
}

// Invalid is the refusal of a parameter's value; why says what it must be.
func Invalid(name, value, why string) *Error {
	return Errorf(http.StatusBadRequest, CodeInvalidParameter, "The specified parameter %s (%s) is not valid: %s.", name, quote(value), why)
}

// quote shows a client's value in a message, cut short.
func quote(s string) string {
	const show = 64
	if len(s) > show {
		return fmt.Sprintf("%q… (%d bytes)", s[:show], len(s))
	}
	return fmt.Sprintf("%q", s)
}
