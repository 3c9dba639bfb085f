// Package vendorauth verifies the IoT platform's signed sign-in, used by its
// AMQP and STOMP consumers: the user name
//
//	clientId|authMode=aksign,signMethod=hmacsha1,consumerGroupId=G,authId=AK,timestamp=T|
//
// (keys in any order, iotInstanceId optional, securityToken with
// authMode=ststoken, encode=base64 for STOMP) and the password
// Base64(HMAC(secret, "authId=AK&timestamp=T")), the signed keys sorted and
// joined by '&'.
package vendorauth

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxClientID is the longest client id the platform accepts.
const MaxClientID = 64

// Errors, wrapped with the detail that explains the refusal.
var (
	ErrNotSigned          = errors.New("not a signed user name (want clientId|authMode=...,...|)")
	ErrMalformed          = errors.New("malformed signed user name")
	ErrUnknownAccessKey   = errors.New("unknown access key id")
	ErrBadSignature       = errors.New("signature does not match")
	ErrUnsupportedMethod  = errors.New("unsupported signMethod (want hmacmd5, hmacsha1 or hmacsha256)")
	ErrUnsupportedMode    = errors.New("unsupported authMode (want aksign or ststoken)")
	ErrTimestampOutOfSkew = errors.New("timestamp outside the allowed window")
)

// Identity is what a signed user name says.
type Identity struct {
	ClientID      string
	GroupID       string // consumerGroupId
	AuthMode      string // aksign or ststoken
	SignMethod    string // lower case: hmacmd5, hmacsha1, hmacsha256
	AccessKeyID   string // authId
	Timestamp     string // as sent: the samples send 0–999, fixed 2019 values, local-time skewed ones
	InstanceID    string // iotInstanceId, often empty
	SecurityToken string // with ststoken
	Base64        bool   // encode=base64: STOMP bodies go out Base64-encoded
	Params        map[string]string
}

// LooksSigned reports whether a user name has the signed form, so a front
// end can tell a vendor client from a plain one before verifying.
func LooksSigned(username string) bool {
	i := strings.IndexByte(username, '|')
	return i >= 0 && len(username) > i+1 && strings.HasSuffix(username, "|")
}

// Parse reads a signed user name; keys are an unordered map.
func Parse(username string) (*Identity, error) {
	if !LooksSigned(username) {
		return nil, ErrNotSigned
	}
	bar := strings.IndexByte(username, '|')
	id := &Identity{ClientID: username[:bar], Params: map[string]string{}}
	if err := checkClientID(id.ClientID); err != nil {
		return nil, err
	}
	if !utf8.ValidString(username[bar:]) {
		return nil, fmt.Errorf("%w: the parameters after clientId are not valid UTF-8", ErrMalformed)
	}
	for _, kv := range strings.Split(username[bar+1:len(username)-1], ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %q is not key=value", ErrMalformed, kv)
		}
		if _, dup := id.Params[k]; dup {
			return nil, fmt.Errorf("%w: %s given twice", ErrMalformed, k)
		}
		id.Params[k] = v
	}
	return id, id.fill()
}

func checkClientID(c string) error {
	switch {
	case c == "":
		return fmt.Errorf("%w: empty clientId before the first '|'", ErrMalformed)
	case !utf8.ValidString(c):
		return fmt.Errorf("%w: clientId %q is not valid UTF-8", ErrMalformed, c)
	case len([]rune(c)) > MaxClientID:
		return fmt.Errorf("%w: clientId longer than %d characters", ErrMalformed, MaxClientID)
	}
	return nil
}

// fill copies the known keys out of Params and checks the required ones.
func (id *Identity) fill() error {
	p := id.Params
	id.AuthMode, id.SignMethod = p["authMode"], strings.ToLower(p["signMethod"])
	id.GroupID, id.AccessKeyID, id.Timestamp = p["consumerGroupId"], p["authId"], p["timestamp"]
	id.InstanceID, id.SecurityToken = p["iotInstanceId"], p["securityToken"]
	id.Base64 = strings.EqualFold(p["encode"], "base64")
	for _, k := range []string{"authMode", "signMethod", "consumerGroupId", "authId", "timestamp"} {
		if p[k] == "" {
			return fmt.Errorf("%w: %s is missing", ErrMalformed, k)
		}
	}
	switch id.AuthMode {
	case "aksign":
	case "ststoken":
		if id.SecurityToken == "" {
			return fmt.Errorf("%w: authMode=ststoken needs securityToken", ErrMalformed)
		}
	default:
		return fmt.Errorf("%w: %q", ErrUnsupportedMode, id.AuthMode)
	}
	if newHash(id.SignMethod) == nil {
		return fmt.Errorf("%w: %q", ErrUnsupportedMethod, p["signMethod"])
	}
	return nil
}

// StringToSign is the text the password signs: the signed keys sorted and
// joined as k=v with '&'.
func (id *Identity) StringToSign() string {
	kv := []string{"authId=" + id.AccessKeyID, "timestamp=" + id.Timestamp}
	if id.AuthMode == "ststoken" {
		kv = append(kv, "securityToken="+id.SecurityToken)
	}
	sort.Strings(kv)
	return strings.Join(kv, "&")
}

// Sign returns the password for id under secret, as a client computes it.
func Sign(id *Identity, secret string) (string, error) {
	h := newHash(id.SignMethod)
	if h == nil {
		return "", fmt.Errorf("%w: %q", ErrUnsupportedMethod, id.SignMethod)
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write([]byte(id.StringToSign()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

func newHash(method string) func() hash.Hash {
	switch strings.ToLower(method) {
	case "hmacmd5":
		return md5.New
	case "hmacsha1":
		return sha1.New
	case "hmacsha256":
		return sha256.New
	}
	return nil
}

// Verifier checks signed sign-ins against the access keys it knows.
type Verifier struct {
	// Secret returns the secret of an access key id, or false if unknown.
	Secret func(accessKeyID string) (string, bool)
	// MaxSkew, when positive, refuses timestamps (epoch ms) further than
	// this from now. Zero accepts any: the official samples send 0–999,
	// fixed 2019 values and time-zone-skewed ones, and the platform takes them.
	MaxSkew time.Duration
	Now     func() time.Time // defaults to time.Now
}

// Verify parses username and checks password; the error says which part failed.
func (v *Verifier) Verify(username, password string) (*Identity, error) {
	id, err := Parse(username)
	if err != nil {
		return nil, err
	}
	secret, ok := v.Secret(id.AccessKeyID)
	if !ok {
		return id, fmt.Errorf("%w: %q", ErrUnknownAccessKey, id.AccessKeyID)
	}
	want, _ := Sign(id, secret)
	if !hmac.Equal([]byte(want), []byte(password)) {
		return id, fmt.Errorf("%w: password is not Base64(%s(secret, %q))", ErrBadSignature, id.SignMethod, id.StringToSign())
	}
	return id, v.checkSkew(id.Timestamp)
}

func (v *Verifier) checkSkew(ts string) error {
	if v.MaxSkew <= 0 {
		return nil
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not epoch milliseconds", ErrTimestampOutOfSkew, ts)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if d := now().Sub(time.UnixMilli(ms)); d > v.MaxSkew || d < -v.MaxSkew {
		return fmt.Errorf("%w: %s off, at most %s allowed", ErrTimestampOutOfSkew, d.Round(time.Second), v.MaxSkew)
	}
	return nil
}

// SingleKey returns a Secret lookup for one access key pair.
func SingleKey(id, secret string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if k != id {
			return "", false
		}
		return secret, true
	}
}
