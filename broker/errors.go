package broker

import "errors"

// Sentinel errors; front ends map them to protocol errors with errors.Is.
var (
	ErrGroupNotFound    = errors.New("consumer group not found")
	ErrGroupExists      = errors.New("a consumer group with that name exists")
	ErrInvalidGroupName = errors.New("invalid consumer group name")
	ErrTooManyGroups    = errors.New("consumer group limit reached")
	ErrDefaultGroup     = errors.New("DEFAULT_GROUP cannot be deleted")
	ErrInvalidPage      = errors.New("invalid page parameters")
	ErrGroupInUse       = errors.New("consumer group still has subscriptions")
	ErrTooManyMembers   = errors.New("consumer group has the maximum number of online clients")
	ErrInvalidMessage   = errors.New("invalid device message")
	ErrInvalidArgument  = errors.New("invalid argument")
	ErrMessageTooLarge  = errors.New("message too large")
	ErrInvalidName      = errors.New("invalid identifier")
	ErrUnavailable      = errors.New("engine unavailable")
	ErrStateNotFound    = errors.New("state key not found")
	ErrClosed           = errors.New("broker closed")
)
