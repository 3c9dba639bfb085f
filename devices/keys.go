package devices

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// KV keys: product.<pk> and device.<pk>.<dn>, each part escaped so that
// any product key or device name the broker allows is a valid state key
// (letters, digits, '_', '-' and '.' between non-empty parts).
const (
	productPrefix = "product."
	devicePrefix  = "device."
)

// maxKeyPart bounds an escaped part: two of them and the prefix stay under
// the broker's 255-byte key limit.
const maxKeyPart = 100

func productKeyOf(pk string) string    { return productPrefix + escape(pk) }
func deviceKeyOf(pk, dn string) string { return devicePrefix + escape(pk) + "." + escape(dn) }
func devicesPrefixOf(pk string) string { return devicePrefix + escape(pk) + "." }

// escape keeps letters, digits and '-', and writes every other byte as '_'
// and two upper-case hex digits. The result has no '.', so the parts of a
// key never run into each other. A part escaped longer than maxKeyPart is
// "_h" and the SHA-256 of the original instead: escaping never writes a
// lower-case 'h' after '_', so the two forms cannot collide. Keys need not
// be decoded: the values hold the names.
func escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	if b.Len() > maxKeyPart {
		sum := sha256.Sum256([]byte(s))
		return "_h" + hex.EncodeToString(sum[:])
	}
	return b.String()
}
