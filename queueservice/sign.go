package queueservice

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The vendor SDK's signature, SDK-HMAC-SHA256 (its core/auth/signer):
//
//	Authorization: SDK-HMAC-SHA256 Access=<ak>, SignedHeaders=<h1;h2;…>, Signature=<hex>
//	X-Sdk-Date:    20060102T150405Z
//
//	canonical  = METHOD "\n" URI "\n" query "\n" headers "\n" signedHeaders "\n" bodyHash
//	URI        = the path, each segment escaped (RFC 3986 unreserved kept), ending in "/"
//	query      = escaped k=v pairs sorted by key, then by value, joined by "&"
//	headers    = one "name:value" line per signed header's value (values sorted, trimmed)
//	bodyHash   = the X-Sdk-Content-Sha256 header if sent (UNSIGNED-PAYLOAD), else hex(sha256(body))
//	toSign     = "SDK-HMAC-SHA256\n" X-Sdk-Date "\n" hex(sha256(canonical))
//	Signature  = hex(HMAC-SHA256(secret, toSign))
//
// The SDK signs every header it sets but Content-Type; the date must be
// among them, so that a signature cannot be replayed past the skew.

const (
	signAlgorithm = "SDK-HMAC-SHA256"
	dateHeader    = "X-Sdk-Date"
	contentHeader = "X-Sdk-Content-Sha256"
	dateFormat    = "20060102T150405Z"
	maxSkew       = 15 * time.Minute
)

// authorization is a parsed Authorization header.
type authorization struct {
	access        string
	signedHeaders []string
	signature     string
}

// parseAuthorization reads "SDK-HMAC-SHA256 Access=…, SignedHeaders=…,
// Signature=…": each part once, in any order, none empty; the signed
// headers lower-case and sorted as the SDK makes them; the signature hex.
func parseAuthorization(h string) (authorization, error) {
	rest, ok := strings.CutPrefix(h, signAlgorithm+" ")
	if !ok {
		return authorization{}, fmt.Errorf("the Authorization header is not %s", signAlgorithm)
	}
	var a authorization
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" || seen[k] {
			return authorization{}, fmt.Errorf("malformed Authorization part %q", part)
		}
		seen[k] = true
		switch k {
		case "Access":
			a.access = v
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
			for _, name := range a.signedHeaders {
				if name == "" || name != strings.ToLower(name) || strings.ContainsAny(name, " \t:") {
					return authorization{}, fmt.Errorf("malformed signed header name %q", name)
				}
			}
			if !slices.IsSorted(a.signedHeaders) {
				return authorization{}, fmt.Errorf("signed headers %q are not sorted", v)
			}
		case "Signature":
			if _, err := hex.DecodeString(v); err != nil || len(v) != 2*sha256.Size {
				return authorization{}, fmt.Errorf("signature %q is not %d hex digits", v, 2*sha256.Size)
			}
			a.signature = strings.ToLower(v)
		default:
			return authorization{}, fmt.Errorf("unknown Authorization part %q", k)
		}
	}
	if a.access == "" || a.signedHeaders == nil || a.signature == "" {
		return authorization{}, fmt.Errorf("the Authorization header lacks Access, SignedHeaders or Signature")
	}
	return a, nil
}

// verify checks r's signature, made with (ak, secret) over body, at now.
func verify(r *http.Request, body []byte, ak, secret string, now time.Time) error {
	h := r.Header.Get("Authorization")
	if h == "" {
		return fmt.Errorf("the request is not signed (no Authorization header)")
	}
	a, err := parseAuthorization(h)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(a.access), []byte(ak)) != 1 {
		return fmt.Errorf("unknown access key %q", a.access)
	}
	if !slices.Contains(a.signedHeaders, strings.ToLower(dateHeader)) {
		return fmt.Errorf("%s is not among the signed headers", dateHeader)
	}
	if h := r.Header.Get(contentHeader); h != "" {
		// The SDK sends it (UNSIGNED-PAYLOAD) for bodies other than JSON, and
		// signs it; unsigned, it would let the body be changed on the way.
		if !slices.Contains(a.signedHeaders, strings.ToLower(contentHeader)) {
			return fmt.Errorf("%s is not among the signed headers", contentHeader)
		}
		if h != "UNSIGNED-PAYLOAD" && h != hexSHA256(body) {
			return fmt.Errorf("%s does not match the body", contentHeader)
		}
	}
	date := r.Header.Get(dateHeader)
	t, err := time.Parse(dateFormat, date)
	if err != nil {
		return fmt.Errorf("%s %q is not of the form %s", dateHeader, date, dateFormat)
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("%s %s is more than %v away from the server's time %s", dateHeader, date, maxSkew, now.UTC().Format(dateFormat))
	}
	toSign := signAlgorithm + "\n" + date + "\n" + hexSHA256([]byte(canonicalRequest(r, a.signedHeaders, body)))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(toSign))
	want := hex.EncodeToString(mac.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) != 1 {
		return fmt.Errorf("the signature does not match")
	}
	return nil
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// canonicalRequest rebuilds what the client signed from the request
// received.
func canonicalRequest(r *http.Request, signed []string, body []byte) string {
	bodyHash := r.Header.Get(contentHeader)
	if bodyHash == "" {
		bodyHash = hexSHA256(body)
	}
	return r.Method + "\n" + canonicalURI(r.URL.Path) + "\n" + canonicalQuery(r) + "\n" +
		canonicalHeaders(r, signed) + "\n" + strings.Join(signed, ";") + "\n" + bodyHash
}

func canonicalURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = escape(s)
	}
	uri := strings.Join(segs, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	return uri
}

func canonicalQuery(r *http.Request) string {
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var pairs []string
	for _, k := range keys {
		vals := slices.Clone(q[k])
		slices.Sort(vals)
		for _, v := range vals {
			pairs = append(pairs, escape(k)+"="+escape(v))
		}
	}
	return strings.Join(pairs, "&")
}

// canonicalHeaders: a line per value of each signed header; a signed
// header the request lacks gives none (so the SDK does too). The Host
// header is r.Host on the server side.
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		vals := r.Header.Values(name)
		if name == "host" && r.Host != "" {
			vals = []string{r.Host}
		}
		vals = slices.Clone(vals)
		slices.Sort(vals)
		for _, v := range vals {
			b.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	if b.Len() == 0 {
		return "\n"
	}
	return b.String()
}

// escape percent-encodes all but RFC 3986's unreserved characters, with
// upper-case hex, byte by byte.
func escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '~' || c == '.' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}
