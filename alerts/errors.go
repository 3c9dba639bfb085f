package alerts

import "errors"

// ErrRuleNotFound is returned for an alert rule id that does not exist.
// Invalid rules are refused with errors wrapping broker.ErrInvalidArgument.
var ErrRuleNotFound = errors.New("alert rule not found")
