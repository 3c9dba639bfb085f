package logservice

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/amqpemu/amqpemu/internal/brokertest"
)

// TestSignatureMatchesSDK signs with the SDK's own signer and checks that
// the server rebuilds the same signature from the request it receives,
// for a query with several values of one key and escaped characters.
func TestSignatureMatchesSDK(t *testing.T) {
	uri := "/logstores/ls/shards/0?type=logs&cursor=MTA%3D&count=10&b=2&b=1&q=a%20b"
	body := []byte(`{"x":1}`)
	headers := map[string]string{
		"Date": time.Now().UTC().Format(http.TimeFormat), "Content-Type": "application/json",
		"x-log-apiversion": "0.6.0", "x-log-bodyrawsize": "7", "X-Acs-Security-Token": "tok",
	}
	if err := sls.NewSignerV1(testAK, testSecret).Sign("POST", uri, headers, body); err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("POST", "http://p1.example.com"+uri, strings.NewReader(string(body)))
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	s := &Server{cfg: Config{AccessKeyID: testAK, AccessKeySecret: testSecret}}
	if err := s.verify(r, body); err != nil {
		t.Fatalf("verify: %v\nstring to sign:\n%s", err, stringToSign(r))
	}
	r.Header.Set("x-log-bodyrawsize", "8")
	if err := s.verify(r, body); toError(err).Code != "SignatureNotMatch" {
		t.Fatalf("a changed signed header: %v", err)
	}
	r.Header.Set("x-log-bodyrawsize", "7")
	if err := s.verify(r, []byte(`{"x":2}`)); toError(err).Code != "SignatureNotMatch" {
		t.Fatalf("a body that is not what Content-MD5 says: %v", err)
	}
}

var authorizationVectors = []struct {
	header, ak, sig string
	ok              bool
}{
	{"LOG ak:c2ln", "ak", "c2ln", true},
	{"LOG a:b:c2ln", "", "", false}, // the key id may not hold ':'
	{"LOG ak:", "", "", false},
	{"LOG :sig", "", "", false},
	{"LOG aksig", "", "", false},
	{"log ak:sig", "", "", false},
	{"SLS4-HMAC-SHA256 Credential=ak/20261202/cn/sls/aliyun_v4_request,Signature=00", "", "", false},
	{"LOG a k:sig", "", "", false},
}

func TestParseAuthorization(t *testing.T) {
	for _, v := range authorizationVectors {
		ak, sig, ok := parseAuthorization(v.header)
		if ok != v.ok || ak != v.ak || sig != v.sig {
			t.Errorf("parseAuthorization(%q) = %q, %q, %v; want %q, %q, %v", v.header, ak, sig, ok, v.ak, v.sig, v.ok)
		}
	}
}

// TestStaleRequestRefused: a correctly signed request whose Date is 20
// minutes old is refused, so a captured request cannot be replayed.
func TestStaleRequestRefused(t *testing.T) {
	hs := startServer(t, brokertest.Open(t, t.TempDir()))
	for _, tc := range []struct {
		date, code string
	}{
		{time.Now().Add(-20 * time.Minute).UTC().Format(http.TimeFormat), "RequestTimeExpired"},
		{time.Now().Add(20 * time.Minute).UTC().Format(http.TimeFormat), "RequestTimeExpired"},
		{"yesterday", "InvalidDateFormat"},
	} {
		headers := map[string]string{"Date": tc.date, "x-log-apiversion": "0.6.0", "x-log-bodyrawsize": "0"}
		if err := sls.NewSignerV1(testAK, testSecret).Sign("GET", "/", headers, nil); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", hs.URL+"/", nil)
		req.Host = "p-stale.cn-hangzhou.log.aliyuncs.com"
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e Error
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 400 || e.Code != tc.code {
			t.Errorf("Date %q: %d %s, want 400 %s", tc.date, resp.StatusCode, e.Code, tc.code)
		}
	}
}
