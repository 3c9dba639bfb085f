package openapi

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Window is how far a call's timestamp may be from the server's clock, and
// how long its nonce is remembered.
const Window = 15 * time.Minute

// acs3 is the new-style SDKs' signature algorithm, the only ACS3 one taken.
const acs3 = "ACS3-HMAC-SHA256"

// acs3Required are the headers an ACS3 signature must cover: without them
// a signed call could be replayed as another action, at another time, or
// with another body.
var acs3Required = []string{"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"}

// percentEncode is the platform's encoding of a name or value: RFC 3986,
// a space as %20, '*' as %2A, '~' as itself.
func percentEncode(s string) string {
	s = url.QueryEscape(s)
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	return strings.ReplaceAll(s, "%7E", "~")
}

// canonicalQuery is name=value pairs of v sorted by name, each encoded,
// joined by '&'; skip is left out.
func canonicalQuery(v map[string]string, skip string) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		if k != skip {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var sb strings.Builder
	for i, k := range keys {
		if i > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(percentEncode(k))
		sb.WriteByte('=')
		sb.WriteString(percentEncode(v[k]))
	}
	return sb.String()
}

// stringToSignV1 is Signature 1.0's string to sign: METHOD&%2F&enc(sorted
// parameters but Signature).
func stringToSignV1(method string, params map[string]string) string {
	return method + "&%2F&" + percentEncode(canonicalQuery(params, "Signature"))
}

// signV1 is Signature 1.0's signature of sts with secret.
func signV1(secret, sts string) string {
	h := hmac.New(sha1.New, []byte(secret+"&"))
	h.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// verifyV1 checks a Signature 1.0 call and returns its access key id.
func (s *Server) verifyV1(r *http.Request, p *Params) (string, *Error) {
	ak := p.Get("AccessKeyId")
	if ak == "" {
		return "", Missing("AccessKeyId")
	}
	sig := p.Get("Signature")
	if sig == "" {
		return "", Missing("Signature")
	}
	secret, ok := s.secret(ak)
	if !ok {
		return ak, unknownKey(ak)
	}
	switch m := p.Get("SignatureMethod"); m {
	case "HMAC-SHA1":
	case "":
		return ak, Missing("SignatureMethod")
	default:
		return ak, Errorf(http.StatusBadRequest, CodeInvalidSignatureMethod, "The SignatureMethod %s is not supported; use HMAC-SHA1 (or the ACS3-HMAC-SHA256 Authorization header).", quote(m))
	}
	switch v := p.Get("SignatureVersion"); v {
	case "1.0":
	case "":
		return ak, Missing("SignatureVersion")
	default:
		return ak, Errorf(http.StatusBadRequest, CodeInvalidSignatureVer, "The SignatureVersion %s is not supported; use 1.0.", quote(v))
	}
	if err := s.checkTime("Timestamp", p.Get("Timestamp")); err != nil {
		return ak, err
	}
	nonce := p.Get("SignatureNonce")
	if nonce == "" {
		return ak, Missing("SignatureNonce")
	}
	sts := stringToSignV1(r.Method, p.v)
	if !hmac.Equal([]byte(sig), []byte(signV1(secret, sts))) {
		// The SDK compares what follows "server string to sign is:" with
		// its own string to tell a wrong secret from an encoding bug.
		return ak, Errorf(http.StatusBadRequest, CodeSignatureDoesNotMatch,
			"Specified signature is not matched with our calculation. server string to sign is:%s", sts)
	}
	return ak, s.useNonce(ak, nonce)
}

// acs3Auth is a parsed ACS3 Authorization header.
type acs3Auth struct {
	credential string
	signed     []string
	signature  []byte
}

func parseACS3(h string) (acs3Auth, *Error) {
	var a acs3Auth
	alg, rest, _ := strings.Cut(h, " ")
	if alg != acs3 {
		return a, Errorf(http.StatusBadRequest, CodeInvalidSignatureMethod, "The signature algorithm %s is not supported; use %s.", quote(alg), acs3)
	}
	incomplete := func(why string) (acs3Auth, *Error) {
		return acs3Auth{}, Errorf(http.StatusBadRequest, CodeIncompleteSignature,
			"The Authorization header %s is incomplete: %s; it must be %s Credential=<access key id>,SignedHeaders=<names>,Signature=<hex>.", quote(h), why, acs3)
	}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || seen[k] {
			return incomplete("malformed or repeated " + quote(part))
		}
		seen[k] = true
		switch k {
		case "Credential":
			a.credential = v
		case "SignedHeaders":
			a.signed = strings.Split(v, ";")
		case "Signature":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return incomplete("the Signature is not 64 hexadecimal digits")
			}
			a.signature = sig
		}
	}
	switch {
	case a.credential == "":
		return incomplete("no Credential")
	case a.signed == nil:
		return incomplete("no SignedHeaders")
	case a.signature == nil:
		return incomplete("no Signature")
	}
	for _, name := range acs3Required {
		if !slices.Contains(a.signed, name) {
			return incomplete("SignedHeaders must include " + name)
		}
	}
	return a, nil
}

// verifyACS3 checks an ACS3-HMAC-SHA256 call and returns its access key id.
func (s *Server) verifyACS3(r *http.Request, body []byte) (string, *Error) {
	a, err := parseACS3(r.Header.Get("Authorization"))
	if err != nil {
		return "", err
	}
	secret, ok := s.secret(a.credential)
	if !ok {
		return a.credential, unknownKey(a.credential)
	}
	if err := s.checkTime("x-acs-date", r.Header.Get("x-acs-date")); err != nil {
		return a.credential, err
	}
	nonce := r.Header.Get("x-acs-signature-nonce")
	if nonce == "" {
		return a.credential, Missing("x-acs-signature-nonce")
	}
	sum := sha256.Sum256(body)
	if got := r.Header.Get("x-acs-content-sha256"); !strings.EqualFold(got, hex.EncodeToString(sum[:])) {
		return a.credential, Errorf(http.StatusBadRequest, CodeSignatureDoesNotMatch,
			"The x-acs-content-sha256 header %s is not the SHA-256 of the request body (%d bytes, %s).", quote(got), len(body), hex.EncodeToString(sum[:]))
	}
	creq, cerr := canonicalRequest(r, a.signed)
	if cerr != nil {
		return a.credential, cerr
	}
	ch := sha256.Sum256([]byte(creq))
	sts := acs3 + "\n" + hex.EncodeToString(ch[:])
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(sts))
	if !hmac.Equal(a.signature, h.Sum(nil)) {
		return a.credential, Errorf(http.StatusBadRequest, CodeSignatureDoesNotMatch,
			"Specified signature is not matched with our calculation. The canonical request is:\n%s\nserver string to sign is:%s", creq, sts)
	}
	return a.credential, s.useNonce(a.credential, nonce)
}

// canonicalRequest is ACS3's canonical form of r over the signed headers.
func canonicalRequest(r *http.Request, signed []string) (string, *Error) {
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil { // readParams refused it already
		return "", Errorf(http.StatusBadRequest, CodeInvalidParameter, "The query is malformed: %v.", err)
	}
	flat := make(map[string]string, len(query))
	for k, vs := range query {
		flat[k] = vs[0]
	}
	var sb strings.Builder
	sb.WriteString(r.Method + "\n" + r.URL.EscapedPath() + "\n" + canonicalQuery(flat, "") + "\n")
	for _, name := range signed {
		var vals []string
		if name == "host" {
			vals = []string{r.Host}
		} else {
			for _, v := range r.Header.Values(name) {
				vals = append(vals, strings.TrimSpace(v))
			}
		}
		if len(vals) == 0 {
			return "", Errorf(http.StatusBadRequest, CodeIncompleteSignature, "The signed header %s is not in the request.", quote(name))
		}
		slices.Sort(vals)
		sb.WriteString(name + ":" + strings.Join(vals, ",") + "\n")
	}
	// Each header line ends in a newline, and one more separates them
	// from the signed header names.
	sb.WriteString("\n" + strings.Join(signed, ";") + "\n" + r.Header.Get("x-acs-content-sha256"))
	return sb.String(), nil
}

func (s *Server) secret(ak string) (string, bool) {
	secret, ok := s.cfg.AccessKeys[ak]
	return secret, ok && ak != ""
}

func unknownKey(ak string) *Error {
	return Errorf(http.StatusNotFound, CodeInvalidAccessKeyID, "Specified access key %s is not found.", quote(ak))
}

// checkTime refuses a missing, malformed or stale timestamp named name.
func (s *Server) checkTime(name, v string) *Error {
	if v == "" {
		return Missing(name)
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return Errorf(http.StatusBadRequest, CodeTimestampFormat, "The %s %s is not an ISO 8601 UTC time such as 2006-01-02T15:04:05Z.", name, quote(v))
	}
	if d := s.now().Sub(t); d > Window || d < -Window {
		return Errorf(http.StatusBadRequest, CodeTimestampExpired,
			"Specified time stamp or date value is expired: %s is %s from the server's time %s; it must be within %s.",
			name, d.Round(time.Second).Abs(), s.now().UTC().Format(time.RFC3339), Window)
	}
	return nil
}

// useNonce refuses a nonce seen within the window, else remembers it.
func (s *Server) useNonce(ak, nonce string) *Error {
	if !s.nonces.use(ak+"\x00"+nonce, s.now()) {
		return Errorf(http.StatusBadRequest, CodeNonceUsed, "Specified signature nonce %s was used already within %s.", quote(nonce), Window)
	}
	return nil
}
