package broker

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Every identifier from a client is checked here before it reaches the
// engine. An over-long one once ended up in a NATS protocol line beyond
// the server's control-line limit, and the server closed the broker's
// connection; characters such as '.', '*', '>' and whitespace change what
// a subject means. The limits are generous next to the platform's own.
const (
	maxGroupID    = 64   // the platform's ids are 26 characters
	maxProductKey = 64   // the platform's are 11
	maxDeviceName = 128  // the platform allows 32
	maxTopic      = 1024 // a header value, never a subject
	maxMessageID  = 128
	maxAddress    = 1024 // generic queues: hashed into subjects, kept in labels
)

// checkGroupID refuses what cannot be a group id: the answer is both "no
// such group" and "invalid identifier", so lookups by id-or-name still fall
// through to names.
func checkGroupID(id string) error {
	if reason := badChars(id, maxGroupID, isIDChar); reason != "" {
		return fmt.Errorf("%w (%w): group id %s %s", ErrGroupNotFound, ErrInvalidName, quote(id), reason)
	}
	return nil
}

// checkProductKey allows letters, digits, '_', '-' and '.': a product key
// is also a KV key (subscriptions) and a token of topics.
func checkProductKey(pk string) error {
	if reason := badChars(pk, maxProductKey, func(r rune) bool { return isIDChar(r) || r == '.' }); reason != "" {
		return fmt.Errorf("%w: product key %s %s; use letters, digits, '_', '-' or '.'", ErrInvalidName, quote(pk), reason)
	}
	return nil
}

// checkDeviceName allows any printable character but whitespace, '/', '*'
// and '>': '.' and '%' are escaped in subjects (subjectToken).
func checkDeviceName(dn string) error {
	ok := func(r rune) bool { return unicode.IsPrint(r) && !unicode.IsSpace(r) && !strings.ContainsRune("/*>", r) }
	if reason := badChars(dn, maxDeviceName, ok); reason != "" {
		return fmt.Errorf("%w: device name %s %s; whitespace, '/', '*' and '>' are not allowed", ErrInvalidName, quote(dn), reason)
	}
	return nil
}

// checkTopic wants a '/'-rooted topic of printable characters.
func checkTopic(topic string) error {
	if reason := badChars(topic, maxTopic, unicode.IsPrint); reason != "" {
		return fmt.Errorf("%w: topic %s %s", ErrInvalidName, quote(topic), reason)
	}
	if !strings.HasPrefix(topic, "/") {
		return fmt.Errorf("%w: topic %s must start with '/'", ErrInvalidName, quote(topic))
	}
	return nil
}

// checkMessageID bounds a caller-supplied message id (a NATS header).
func checkMessageID(id string) error {
	ok := func(r rune) bool { return r > ' ' && r < 0x7f }
	if reason := badChars(id, maxMessageID, ok); reason != "" {
		return fmt.Errorf("%w: message id %s %s; use printable ASCII without spaces", ErrInvalidName, quote(id), reason)
	}
	return nil
}

// checkAddress bounds a generic queue's address.
func checkAddress(address string) error {
	if reason := badChars(address, maxAddress, unicode.IsPrint); reason != "" {
		return fmt.Errorf("%w: queue address %s %s", ErrInvalidName, quote(address), reason)
	}
	return nil
}

func isIDChar(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
}

// badChars says what is wrong with s (empty when nothing is): empty, over
// max bytes, not UTF-8, or a character ok refuses.
func badChars(s string, max int, ok func(rune) bool) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > max:
		return fmt.Sprintf("is longer than the %d bytes allowed", max)
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if !ok(r) {
			return fmt.Sprintf("contains %q", r)
		}
	}
	return ""
}

// quote shows an identifier in an error, cut short: errors echo input,
// and a refused input may be megabytes long.
func quote(s string) string {
	const show = 48
	if len(s) <= show {
		return fmt.Sprintf("%q", s)
	}
	cut := show
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

// ValidateProductKey checks a product key by the rules Publish applies;
// the error wraps ErrInvalidName. Other packages keeping products (the
// device registry) use it so that every product they accept can publish.
func ValidateProductKey(pk string) error { return checkProductKey(pk) }

// ValidateDeviceName checks a device name by the rules Publish applies;
// the error wraps ErrInvalidName.
func ValidateDeviceName(dn string) error { return checkDeviceName(dn) }
