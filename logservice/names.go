package logservice

import (
	"fmt"
	"strings"
)

// The vendor's naming rules, checked before any name reaches the broker
// (which checks again by its own, looser, rules).
const (
	minNameLen = 3
	maxNameLen = 63
)

// checkProjectName: 3 to 63 lower-case letters, digits and '-', starting
// and ending with a letter or digit.
func checkProjectName(name string) error {
	return checkName("project", name, "-")
}

// checkLogstoreName: 3 to 63 lower-case letters, digits, '-' and '_',
// starting and ending with a letter or digit.
func checkLogstoreName(name string) error {
	return checkName("logstore", name, "-_")
}

func checkName(kind, name, inner string) error {
	if len(name) < minNameLen || len(name) > maxNameLen {
		return errorf(errParameterInvalid, "%s name %s must be %d to %d characters long", kind, quote(name), minNameLen, maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		edge := i == 0 || i == len(name)-1
		if !alnum && (edge || !strings.ContainsRune(inner, rune(c))) {
			return errorf(errParameterInvalid, "%s name %s: use lower-case letters, digits and %s, starting and ending with a letter or digit",
				kind, quote(name), spell(inner))
		}
	}
	return nil
}

func spell(chars string) string {
	parts := make([]string, len(chars))
	for i, c := range chars {
		parts[i] = fmt.Sprintf("'%c'", c)
	}
	return strings.Join(parts, " or ")
}

// quote shows a name from a client in an error, cut short.
func quote(s string) string {
	const show = 64
	if len(s) > show {
		return fmt.Sprintf("%q…", s[:show])
	}
	return fmt.Sprintf("%q", s)
}
