package brokerbackend

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Why a shared access signature was refused. Each becomes status 401 with
// the error text as the status-description.
var (
	errSASMalformed  = errors.New("malformed shared access signature")
	errSASUnknownKey = errors.New("unknown shared access key name")
	errSASSignature  = errors.New("shared access signature does not match")
	errSASExpired    = errors.New("shared access signature expired")
	errSASNoKey      = errors.New("no shared access key is configured on this server")
)

// SASKey is a key clients sign shared access signatures with: the name goes
// in skn, the key is the HMAC-SHA256 secret. The emulator uses its access key
// id and secret.
type SASKey struct {
	Name string
	Key  string
}

// sasToken is a parsed "SharedAccessSignature sr=…&sig=…&se=…&skn=…".
type sasToken struct {
	resource string // sr exactly as sent (URL-encoded): the signed string uses it so
	sig      []byte // decoded signature
	se       string // se exactly as sent: the signed string uses it so
	expiry   int64  // se, unix seconds
	keyName  string // skn
}

// parseSAS splits a shared access signature into its fields.
func parseSAS(token string) (sasToken, error) {
	var t sasToken
	rest, ok := strings.CutPrefix(token, "SharedAccessSignature ")
	if !ok {
		return t, fmt.Errorf("%w: want \"SharedAccessSignature sr=…&sig=…&se=…&skn=…\"", errSASMalformed)
	}
	var sig, se string
	for field := range strings.SplitSeq(rest, "&") {
		k, v, _ := strings.Cut(field, "=")
		switch k {
		case "sr":
			t.resource = v
		case "sig":
			sig = v
		case "se":
			se = v
		case "skn":
			t.keyName = v
		}
	}
	if t.resource == "" || sig == "" || se == "" || t.keyName == "" {
		return t, fmt.Errorf("%w: sr, sig, se and skn are all required", errSASMalformed)
	}
	exp, err := strconv.ParseInt(se, 10, 64)
	if err != nil {
		return t, fmt.Errorf("%w: se %q is not a unix time in seconds", errSASMalformed, se)
	}
	t.se, t.expiry = se, exp
	if dec, err := url.QueryUnescape(sig); err == nil {
		sig = dec
	}
	if t.sig, err = base64.StdEncoding.DecodeString(sig); err != nil {
		return t, fmt.Errorf("%w: sig is not base64", errSASMalformed)
	}
	if kn, err := url.QueryUnescape(t.keyName); err == nil {
		t.keyName = kn
	}
	return t, nil
}

// verifySAS checks a shared access signature against the keys: the key named
// by skn must have signed sr + "\n" + se, and se must not have passed.
func verifySAS(keys []SASKey, token string, now time.Time) error {
	if len(keys) == 0 {
		return errSASNoKey
	}
	t, err := parseSAS(token)
	if err != nil {
		return err
	}
	var key *SASKey
	for i := range keys {
		if hmac.Equal([]byte(keys[i].Name), []byte(t.keyName)) {
			key = &keys[i]
		}
	}
	if key == nil {
		return fmt.Errorf("%w %q", errSASUnknownKey, t.keyName)
	}
	mac := hmac.New(sha256.New, []byte(key.Key))
	mac.Write([]byte(t.resource + "\n" + t.se))
	if !hmac.Equal(mac.Sum(nil), t.sig) {
		return fmt.Errorf("%w: sig is not HMAC-SHA256 of sr and se under key %q", errSASSignature, t.keyName)
	}
	if exp := time.Unix(t.expiry, 0); now.After(exp) {
		return fmt.Errorf("%w at %s", errSASExpired, exp.UTC().Format(time.RFC3339))
	}
	return nil
}
