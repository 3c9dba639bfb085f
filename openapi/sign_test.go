package openapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	openapiutil "github.com/alibabacloud-go/openapi-util/service"
	"github.com/alibabacloud-go/tea/tea"
)

func TestPercentEncode(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"abcXYZ019-_.~", "abcXYZ019-_.~"},
		{"a b", "a%20b"},
		{"a*b", "a%2Ab"},
		{"a+b", "a%2Bb"},
		{"2016-02-23T12:46:24Z", "2016-02-23T12%3A46%3A24Z"},
		{"/pk/dn/user/get", "%2Fpk%2Fdn%2Fuser%2Fget"},
		{"中", "%E4%B8%AD"},
		{"=&", "%3D%26"},
	} {
		if got := percentEncode(tt.in); got != tt.want {
			t.Errorf("percentEncode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSignatureV1DocumentedExample is the worked example of the platform's
// Signature 1.0 documentation (DescribeRegions with testid/testsecret).
func TestSignatureV1DocumentedExample(t *testing.T) {
	params := map[string]string{
		"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
		"SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
		"Signature": "left out of the string to sign",
	}
	sts := stringToSignV1("GET", params)
	wantSTS := "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1" +
		"%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0" +
		"%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	if sts != wantSTS {
		t.Fatalf("string to sign\n%s\nwant\n%s", sts, wantSTS)
	}
	if got := signV1("testsecret", sts); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Fatalf("signature %s", got)
	}
}

// TestACS3MatchesTheSDKsSigner signs with the new-style SDK's own function
// (openapi-util GetAuthorization) and verifies with ours.
func TestACS3MatchesTheSDKsSigner(t *testing.T) {
	s := newTestServer(t)
	body := "MessageContent=aGVsbG8%3D"
	headers := map[string]*string{
		"host":                  tea.String("127.0.0.1:8080"),
		"x-acs-action":          tea.String("Echo"),
		"x-acs-version":         tea.String(testVersion),
		"x-acs-date":            tea.String(testNow.UTC().Format("2006-01-02T15:04:05Z")),
		"x-acs-signature-nonce": tea.String("nonce-1"),
		"x-acs-content-sha256":  openapiutil.HexEncode(openapiutil.Hash([]byte(body), tea.String(acs3))),
		"content-type":          tea.String("application/x-www-form-urlencoded"),
		"user-agent":            tea.String("not signed"),
	}
	query := map[string]*string{"GroupName": tea.String("a b*c~"), "ConsumerGroupIds.1": tea.String("g1"), "Empty": tea.String("")}
	treq := &tea.Request{Method: tea.String("POST"), Pathname: tea.String("/"), Headers: headers, Query: query}
	auth := openapiutil.GetAuthorization(treq, tea.String(acs3), headers["x-acs-content-sha256"], tea.String(testAK), tea.String(testSecret))

	req := httptest.NewRequest("POST", "/?GroupName=a%20b%2Ac~&ConsumerGroupIds.1=g1&Empty=", strings.NewReader(body))
	req.Host = "127.0.0.1:8080"
	for k, v := range headers {
		if k != "host" {
			req.Header.Set(k, *v)
		}
	}
	req.Header.Set("Authorization", *auth)
	ak, err := s.verifyACS3(req, []byte(body))
	if err != nil || ak != testAK {
		t.Fatalf("verify: %v (ak %q)", err, ak)
	}
	// The same call again reuses the nonce.
	if _, err := s.verifyACS3(req, []byte(body)); err == nil || err.Code != CodeNonceUsed {
		t.Fatalf("replay: %v", err)
	}
	req.Header.Set("x-acs-signature-nonce", "nonce-2")
	if _, err := s.verifyACS3(req, []byte(body)); err == nil || err.Code != CodeSignatureDoesNotMatch || strings.Contains(err.Message, testSecret) {
		t.Fatalf("changed nonce: %v", err)
	}
}

func TestParseACS3(t *testing.T) {
	sig := strings.Repeat("ab", 32)
	all := "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
	tests := []struct {
		name, header, wantCode string
	}{
		{"good", "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=" + all + ",Signature=" + sig, ""},
		{"spaces after commas", "ACS3-HMAC-SHA256 Credential=ak, SignedHeaders=" + all + ", Signature=" + sig, ""},
		{"other algorithm", "ACS3-HMAC-SM3 Credential=ak,SignedHeaders=" + all + ",Signature=" + sig, CodeInvalidSignatureMethod},
		{"no credential", "ACS3-HMAC-SHA256 SignedHeaders=" + all + ",Signature=" + sig, CodeIncompleteSignature},
		{"no signature", "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=" + all, CodeIncompleteSignature},
		{"short signature", "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=" + all + ",Signature=abcd", CodeIncompleteSignature},
		{"host not signed", "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=" + sig, CodeIncompleteSignature},
		{"repeated", "ACS3-HMAC-SHA256 Credential=ak,Credential=bk,SignedHeaders=" + all + ",Signature=" + sig, CodeIncompleteSignature},
		{"garbage", "ACS3-HMAC-SHA256 ,,,", CodeIncompleteSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseACS3(tt.header)
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantCode != "" && (err == nil || err.Code != tt.wantCode || err.Status != http.StatusBadRequest):
				t.Fatalf("got %v, want %s", err, tt.wantCode)
			}
		})
	}
}

func TestNonceCacheIsBounded(t *testing.T) {
	c := newNonceCache(100)
	now := testNow
	for i := range 1000 {
		if !c.use(strings.Repeat("x", i), now) {
			t.Fatalf("nonce %d refused", i)
		}
	}
	if n := c.len(); n > 100 {
		t.Fatalf("%d nonces kept", n)
	}
	if c.use(strings.Repeat("x", 999), now) {
		t.Fatal("the newest nonce was forgotten")
	}
	// Once the window has passed, all are forgotten.
	later := now.Add(Window + 1)
	if !c.use(strings.Repeat("x", 999), later) || c.len() != 1 {
		t.Fatalf("after the window: %d kept", c.len())
	}
}
