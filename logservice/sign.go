package logservice

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The SDK's default signature (AuthV1): Authorization "LOG <ak>:<sig>",
// sig = base64(HMAC-SHA1(secret, stringToSign)) with
//
//	stringToSign = METHOD "\n" Content-MD5 "\n" Content-Type "\n" Date "\n"
//	               sorted lower-case x-log-*/x-acs-* headers as "k:v" joined by "\n" "\n"
//	               escaped path ["?" sorted query keys as k=v (values decoded) joined by "&"]
//
// Content-MD5 is the upper-case hex MD5 of the body, sent whenever there is
// a body; it is checked against the body so that the signature covers it.

const signMethodV1 = "hmac-sha1"

// parseAuthorization splits "LOG <ak>:<signature>". The key id may not
// hold ':' (base64 never does, so the last ':' splits them).
func parseAuthorization(h string) (ak, sig string, ok bool) {
	rest, found := strings.CutPrefix(h, "LOG ")
	if !found {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	ak, sig = rest[:i], rest[i+1:]
	if strings.ContainsAny(ak, ": \t") || strings.ContainsAny(sig, " \t") {
		return "", "", false
	}
	return ak, sig, true
}

// stringToSign rebuilds what the client signed from the request received.
func stringToSign(r *http.Request) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(r.Header.Get("Content-MD5") + "\n")
	b.WriteString(r.Header.Get("Content-Type") + "\n")
	b.WriteString(r.Header.Get("Date") + "\n")
	b.WriteString(canonicalHeaders(r.Header) + "\n")
	b.WriteString(canonicalResource(r.URL))
	return b.String()
}

func canonicalHeaders(h http.Header) string {
	var keys []string
	vals := map[string]string{}
	for k, v := range h {
		l := strings.ToLower(k)
		if (strings.HasPrefix(l, "x-log-") || strings.HasPrefix(l, "x-acs-")) && len(v) > 0 {
			keys = append(keys, l)
			vals[l] = strings.TrimSpace(v[0])
		}
	}
	slices.Sort(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + ":" + vals[k]
	}
	return strings.Join(lines, "\n")
}

// canonicalResource: the SDK joins several values of one key with nothing
// between them; so do we.
func canonicalResource(u *url.URL) string {
	res := u.EscapedPath()
	if u.RawQuery == "" {
		return res
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		for _, v := range q[k] {
			b.WriteString(k + "=" + v)
		}
	}
	return res + "?" + b.String()
}

// sign is the signature of stringToSign under secret.
func sign(secret, sts string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// verify checks r's signature and that Content-MD5 matches body.
func (s *Server) verify(r *http.Request, body []byte) error {
	h := r.Header.Get("Authorization")
	if h == "" {
		return errorf(errUnauthorized, "the request has no Authorization header")
	}
	if m := r.Header.Get("x-log-signaturemethod"); m != "" && m != signMethodV1 {
		return errorf(errInvalidSignMethod, "signature method %s is not supported; use %s (the SDK's AuthV1)", quote(m), signMethodV1)
	}
	ak, sig, ok := parseAuthorization(h)
	if !ok {
		return errorf(errUnauthorized, "the Authorization header is not \"LOG <AccessKeyId>:<Signature>\"")
	}
	if err := checkDate(r.Header.Get("Date"), time.Now()); err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(ak), []byte(s.cfg.AccessKeyID)) != 1 {
		return errorf(errUnauthorized, "the AccessKeyId %s is unauthorized", quote(ak))
	}
	if md := r.Header.Get("Content-MD5"); md != "" && md != fmt.Sprintf("%X", md5.Sum(body)) {
		return errorf(errSignatureNotMatch, "Content-MD5 %s does not match the body", quote(md))
	}
	want := sign(s.cfg.AccessKeySecret, stringToSign(r))
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return errorf(errSignatureNotMatch, "signature %s not matched", quote(sig))
	}
	return nil
}

// maxSkew is how far a request's Date may be from the server's clock, as
// on the vendor's service: a signed request cannot be replayed later.
const maxSkew = 15 * time.Minute

func checkDate(date string, now time.Time) error {
	if date == "" {
		return errorf(errMissingDate, "Date does not exist in http header")
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return errorf(errInvalidDateFormat, "Date %s must follow RFC822", quote(date))
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return errorf(errRequestTimeExpired, "Request time %s has been expired while server time is %s", date, now.UTC().Format(http.TimeFormat))
	}
	return nil
}
