// Package devicesign parses and verifies the IoT platform's MQTT device
// sign-in: the client id
//
//	clientId|securemode=3,signmethod=hmacsha1,timestamp=132323232|
//
// (extension parameters between the first and the last '|', any keys,
// values that may themselves hold '|', spaces or newlines), the user name
// deviceName&productKey and the password hex(HMAC(deviceSecret, content)),
// content being the submitted parameters among clientId, deviceName,
// productKey and timestamp, sorted by name, concatenated as name+value.
// It does no I/O.
package devicesign

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Errors, wrapped with the detail that explains the refusal.
var (
	ErrMalformedClientID = errors.New("malformed client id (want clientId|securemode=3,signmethod=hmacsha1,...|)")
	ErrMalformedUsername = errors.New("malformed user name (want deviceName&productKey)")
	ErrUnsupportedMethod = errors.New("unsupported signmethod (want hmacmd5, hmacsha1, hmacsha256 or sha256)")
	ErrBadSignature      = errors.New("signature does not match")
)

// ClientID is what an MQTT client id says.
type ClientID struct {
	ID         string            // before the first '|', trimmed
	SignMethod string            // lower case; hmacmd5 when not given; sha256 is kept as sent
	Timestamp  string            // "" when not given
	SecureMode string            // as sent, "" when not given
	Params     map[string]string // every extension parameter, unknown ones included
}

// ParseClientID splits an MQTT client id at its first and last '|'. A client
// id without any '|' is a bare id with no parameters (the platform refuses
// it at signing time only if the signature does not match).
func ParseClientID(s string) (ClientID, error) {
	first := strings.IndexByte(s, '|')
	if first < 0 {
		return ClientID{ID: strings.TrimSpace(s), SignMethod: "hmacmd5", Params: map[string]string{}}, nil
	}
	last := strings.LastIndexByte(s, '|')
	if last == first {
		return ClientID{}, fmt.Errorf("%w: one '|' only", ErrMalformedClientID)
	}
	if rest := strings.TrimSpace(s[last+1:]); rest != "" {
		return ClientID{}, fmt.Errorf("%w: %q after the last '|'", ErrMalformedClientID, rest)
	}
	c := ClientID{ID: strings.TrimSpace(s[:first]), Params: map[string]string{}}
	for _, kv := range strings.Split(s[first+1:last], ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return ClientID{}, fmt.Errorf("%w: parameter %q is not key=value", ErrMalformedClientID, strings.TrimSpace(kv))
		}
		c.Params[k] = v
	}
	c.SignMethod = strings.ToLower(c.Params["signmethod"])
	if c.SignMethod == "" {
		c.SignMethod = "hmacmd5"
	}
	c.Timestamp = c.Params["timestamp"]
	c.SecureMode = c.Params["securemode"]
	return c, nil
}

// ParseUsername splits deviceName&productKey.
func ParseUsername(s string) (deviceName, productKey string, err error) {
	i := strings.LastIndexByte(s, '&')
	if i <= 0 || i == len(s)-1 {
		return "", "", fmt.Errorf("%w: %q", ErrMalformedUsername, s)
	}
	return s[:i], s[i+1:], nil
}

// Content is the signed string: the parameters, sorted by name, as
// name+value; timestamp only when given.
func Content(clientID, deviceName, productKey, timestamp string) string {
	s := "clientId" + clientID + "deviceName" + deviceName + "productKey" + productKey
	if timestamp != "" {
		s += "timestamp" + timestamp
	}
	return s
}

func newHash(method string) (func() hash.Hash, error) {
	switch method {
	case "hmacmd5", "":
		return md5.New, nil
	case "hmacsha1":
		return sha1.New, nil
	case "hmacsha256", "sha256":
		return sha256.New, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedMethod, method)
}

// Sign is the lower-case hex password for the given content.
func Sign(method, secret, content string) (string, error) {
	h, err := newHash(strings.ToLower(method))
	if err != nil {
		return "", err
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write([]byte(content))
	return hex.EncodeToString(mac.Sum(nil)), nil
}

// Verify checks password against the device secret for client id c and
// the device productKey/deviceName; hex is compared case-insensitively.
func Verify(c ClientID, deviceName, productKey, secret, password string) error {
	want, err := Sign(c.SignMethod, secret, Content(c.ID, deviceName, productKey, c.Timestamp))
	if err != nil {
		return err
	}
	got, err := hex.DecodeString(strings.TrimSpace(password))
	if err != nil {
		return fmt.Errorf("%w: password is not hex", ErrBadSignature)
	}
	wantRaw, _ := hex.DecodeString(want)
	if !hmac.Equal(got, wantRaw) {
		return fmt.Errorf("%w (%s)", ErrBadSignature, c.SignMethod)
	}
	return nil
}
