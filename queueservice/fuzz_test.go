package queueservice

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseAuthorization: any header either parses into a complete,
// well-formed authorization or is refused; none panics.
func FuzzParseAuthorization(f *testing.F) {
	for _, seed := range []string{
		"SDK-HMAC-SHA256 Access=AK, SignedHeaders=user-agent;x-project-id;x-sdk-date, Signature=" + strings.Repeat("ab", 32),
		"SDK-HMAC-SHA256 Access=AK,SignedHeaders=x-sdk-date,Signature=" + strings.Repeat("0", 64),
		"SDK-HMAC-SHA256 Access=, SignedHeaders=, Signature=",
		"SDK-HMAC-SHA256 Access=A, Access=B, SignedHeaders=x, Signature=" + strings.Repeat("0", 64),
		"SDK-HMAC-SHA256 SignedHeaders=b;a, Access=A, Signature=" + strings.Repeat("0", 64),
		"LOG ak:sig",
		"SDK-HMAC-SHA256 ",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			return
		}
		if a.access == "" || len(a.signature) != 64 || len(a.signedHeaders) == 0 || !slices.IsSorted(a.signedHeaders) {
			t.Fatalf("parsed %q into %+v", h, a)
		}
	})
}

// FuzzVerify: any request, signed or not, is judged without a panic, and
// one that passes was signed with the key (never, here).
func FuzzVerify(f *testing.F) {
	f.Add("GET", "/v1.0/p/queues", "a=b&c", "SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature="+strings.Repeat("ab", 32), "20260101T000000Z", []byte("{}"))
	f.Add("POST", "/v2/p/queues/%2F/groups", "%zz", "SDK-HMAC-SHA256 Access=AK", "x", []byte(nil))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, method, path, query, auth, date string, body []byte) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Method = method
		r.URL.Path, r.URL.RawQuery = path, query
		r.Header.Set("Authorization", auth)
		r.Header.Set(dateHeader, date)
		if verify(r, body, "AK", "secret", now) == nil {
			t.Fatalf("a request no one signed passed: %s %s", method, path)
		}
		_, _ = route(r)
		_ = IsQueueService(path)
	})
}

// FuzzPage: any page_size and current_page the parameter check lets
// through (positive numbers) select a slice of the groups, never a panic.
func FuzzPage(f *testing.F) {
	f.Add(4, 2, 6)
	f.Add(1<<62, 3, 6)
	f.Add(int(^uint(0)>>1), int(^uint(0)>>1), 1)
	f.Fuzz(func(t *testing.T, size, current, n int) {
		if size < 1 || current < 1 || n < 0 || n > 1000 {
			return
		}
		gs := make([]Group, n)
		got := page(gs, strconv.Itoa(size), strconv.Itoa(current))
		if len(got) > size || len(got) > n {
			t.Fatalf("page(%d groups, %d, %d) has %d", n, size, current, len(got))
		}
	})
}
