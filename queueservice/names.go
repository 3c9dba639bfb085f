package queueservice

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bounds of the names and ids the API takes (the vendor's pages and SDK
// model comments: queue names 1–64; group names 1–32; descriptions up to
// 160 characters without angle brackets). Ids of projects, queues and groups become parts of
// state keys and engine names: letters, digits, '-' and '_' only.
const (
	maxQueueName   = 64
	maxGroupName   = 32
	maxDescription = 160
	maxID          = 64
)

func isNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// badName says what is wrong with s as a name of at most max characters
// of letters, digits, '-' and '_', or "" when nothing is.
func badName(s string, max int) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > max:
		return fmt.Sprintf("is longer than %d characters", max)
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return fmt.Sprintf("holds %q; use letters, digits, '-' and '_'", rune(s[i]))
		}
	}
	return ""
}

func checkProject(id string) error {
	if reason := badName(id, maxID); reason != "" {
		return errorf(errInvalidParam, "project_id %s %s", quote(id), reason)
	}
	return nil
}

func checkQueueID(id string) error {
	if reason := badName(id, maxID); reason != "" {
		return errorf(errQueueNotFound, "queue_id %s %s: no such queue", quote(id), reason)
	}
	return nil
}

func checkGroupID(id string) error {
	if reason := badName(id, maxID); reason != "" {
		return errorf(errGroupNotFound, "group_id %s %s: no such consumer group", quote(id), reason)
	}
	return nil
}

func checkQueueName(name string) error {
	if reason := badName(name, maxQueueName); reason != "" {
		return errorf(errInvalidParam, "queue name %s %s (1–%d letters, digits, '-' and '_')", quote(name), reason, maxQueueName)
	}
	return nil
}

func checkGroupName(name string) error {
	if reason := badName(name, maxGroupName); reason != "" {
		return errorf(errBadGroupName, "consumer group name %s %s (1–%d letters, digits, '-' and '_')", quote(name), reason, maxGroupName)
	}
	return nil
}

func checkDescription(d string) error {
	if n := utf8.RuneCountInString(d); n > maxDescription || !utf8.ValidString(d) || strings.ContainsAny(d, "<>") {
		return errorf(errInvalidParam, "description is longer than %d characters, not UTF-8, or holds '<' or '>'", maxDescription)
	}
	return nil
}

// quote shows s in an error, cut short when long.
func quote(s string) string {
	const show = 48
	if len(s) > show {
		return fmt.Sprintf("%q…", s[:show])
	}
	return fmt.Sprintf("%q", s)
}
