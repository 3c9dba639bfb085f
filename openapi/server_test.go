package openapi

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

const (
	testAK      = "LTAI5tTestAccessKey"
	testSecret  = "test-secret-never-shown"
	testVersion = "2018-01-20"
)

var testNow = time.Date(2026, 5, 20, 0, 5, 20, 0, time.UTC)

var errBusiness = errors.New("business says no")

func newTestServer(t testing.TB) *Server {
	t.Helper()
	s := New(Config{
		AccessKeys: map[string]string{testAK: testSecret},
		Logger:     zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
		Now:        func() time.Time { return testNow },
		MaxBody:    1 << 10,
	})
	s.Register(testVersion, Product{
		Name: "Test",
		Actions: map[string]Action{
			"Echo": func(ctx context.Context, p *Params) (any, error) {
				name, err := p.Required("GroupName")
				if err != nil {
					return nil, err
				}
				ids, err := p.List("ConsumerGroupIds")
				if err != nil {
					return nil, err
				}
				return struct {
					GroupName string
					Ids       []string `json:"ConsumerGroupIds"`
					Data      struct{ N int }
				}{name, ids, struct{ N int }{7}}, nil
			},
			"Empty":    func(context.Context, *Params) (any, error) { return nil, nil },
			"Refuse":   func(context.Context, *Params) (any, error) { return nil, errBusiness },
			"Break":    func(context.Context, *Params) (any, error) { return nil, errors.New("disk on fire") },
			"NotAnObj": func(context.Context, *Params) (any, error) { return []int{1}, nil },
		},
		Errors: func(err error) *Error {
			if errors.Is(err, errBusiness) {
				return Business("test.Refused", "%v", err)
			}
			return nil
		},
	})
	return s
}

// signedV1 is a Signature 1.0 call of action with params, signed with
// secret; the common parameters can be overridden, or removed after
// signing with the value "\x00".
func signedV1(method, action, secret string, params map[string]string) *http.Request {
	v := map[string]string{
		"Version": testVersion, "Action": action, "Format": "JSON", "AccessKeyId": testAK,
		"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureType": "",
		"SignatureNonce": "nonce-" + action + time.Now().String(), "Timestamp": testNow.Add(-time.Minute).Format("2006-01-02T15:04:05Z"),
		"RegionId": "cn-shanghai",
	}
	for k, s := range params {
		v[k] = s
	}
	if _, ok := v["Signature"]; !ok {
		v["Signature"] = signV1(secret, stringToSignV1(method, v))
	}
	for k, s := range v {
		if s == "\x00" {
			delete(v, k)
		}
	}
	q := url.Values{}
	for k, s := range v {
		q.Set(k, s)
	}
	return httptest.NewRequest(method, "/?"+q.Encode(), nil)
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func serve(t *testing.T, s *Server, r *http.Request) answer {
	t.Helper()
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	a := answer{status: w.Code, header: w.Header(), raw: w.Body.String()}
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(w.Body.Bytes(), &a.body); err != nil {
			t.Fatalf("answer %q: %v", a.raw, err)
		}
	}
	return a
}

// wantRefusal checks a refusal's status, code and envelope: every field a
// string, the request id in the header too, the secret nowhere.
func wantRefusal(t *testing.T, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.body["Code"] != code {
		t.Fatalf("answer %d %s, want %d %s", a.status, a.raw, status, code)
	}
	for _, k := range []string{"RequestId", "Code", "Message", "ErrorMessage"} {
		if s, ok := a.body[k].(string); !ok || s == "" {
			t.Fatalf("%s is %#v in %s", k, a.body[k], a.raw)
		}
	}
	if a.body["Success"] != false || a.header.Get("x-acs-request-id") != a.body["RequestId"] {
		t.Fatalf("envelope %s, header %q", a.raw, a.header.Get("x-acs-request-id"))
	}
	if strings.Contains(a.raw, testSecret) {
		t.Fatal("the secret is in the answer")
	}
}

func TestSignedCallSucceeds(t *testing.T) {
	s := newTestServer(t)
	a := serve(t, s, signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "a b*c~中", "ConsumerGroupIds.2": "g2", "ConsumerGroupIds.1": "g1", "ConsumerGroupIds.10": "g10"}))
	if a.status != 200 || a.body["Success"] != true || a.body["GroupName"] != "a b*c~中" {
		t.Fatalf("answer %d %s", a.status, a.raw)
	}
	if ids, _ := json.Marshal(a.body["ConsumerGroupIds"]); string(ids) != `["g1","g2","g10"]` {
		t.Fatalf("ids %s", ids)
	}
	id, _ := a.body["RequestId"].(string)
	if len(id) != 36 || strings.Count(id, "-") != 4 || strings.ToUpper(id) != id || a.header.Get("x-acs-request-id") != id {
		t.Fatalf("request id %q, header %q", id, a.header.Get("x-acs-request-id"))
	}
	if b := serve(t, s, signedV1("GET", "Empty", testSecret, nil)); b.raw != `{"RequestId":"`+b.body["RequestId"].(string)+`","Success":true}` || b.body["RequestId"] == id {
		t.Fatalf("empty answer %s", b.raw)
	}
}

func TestFormBodyParamsAreSigned(t *testing.T) {
	s := newTestServer(t)
	r := signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "from the form"})
	// Move GroupName from the query to the body; the signature covers both.
	q := r.URL.Query()
	q.Del("GroupName")
	r = httptest.NewRequest("POST", "/?"+q.Encode(), strings.NewReader("GroupName=from+the+form"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if a := serve(t, s, r); a.status != 200 || a.body["GroupName"] != "from the form" {
		t.Fatalf("answer %d %s", a.status, a.raw)
	}
}

func TestRefusals(t *testing.T) {
	s := newTestServer(t)
	old := testNow.Add(-16 * time.Minute).Format(time.RFC3339)
	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"no signature", signedV1("POST", "Echo", testSecret, map[string]string{"Signature": "\x00", "GroupName": "g"}), 400, "MissingSignature"},
		{"no access key", signedV1("POST", "Echo", testSecret, map[string]string{"AccessKeyId": "\x00", "GroupName": "g"}), 400, "MissingAccessKeyId"},
		{"unknown key", signedV1("POST", "Echo", testSecret, map[string]string{"AccessKeyId": "nobody", "GroupName": "g"}), 404, CodeInvalidAccessKeyID},
		{"wrong secret", signedV1("POST", "Echo", "wrong", map[string]string{"GroupName": "g"}), 400, CodeSignatureDoesNotMatch},
		{"tampered", tamper(signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g"}), "GroupName", "h"), 400, CodeSignatureDoesNotMatch},
		{"signed as GET, sent as POST", asMethod(signedV1("GET", "Echo", testSecret, map[string]string{"GroupName": "g"}), "POST"), 400, CodeSignatureDoesNotMatch},
		{"no version", signedV1("POST", "Echo", testSecret, map[string]string{"Version": "\x00"}), 400, "MissingVersion"},
		{"unknown version", signedV1("POST", "Echo", testSecret, map[string]string{"Version": "2000-01-01"}), 400, CodeInvalidVersion},
		{"no action", signedV1("POST", "", testSecret, map[string]string{"Action": "\x00"}), 400, "MissingAction"},
		{"unknown action", signedV1("POST", "Nope", testSecret, nil), 404, CodeInvalidAction},
		{"missing action param", signedV1("POST", "Echo", testSecret, nil), 400, "MissingGroupName"},
		{"bad list", signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g", "ConsumerGroupIds.x": "1"}), 400, CodeInvalidParameter},
		{"expired", signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g", "Timestamp": old}), 400, CodeTimestampExpired},
		{"future", signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g", "Timestamp": testNow.Add(20 * time.Minute).Format(time.RFC3339)}), 400, CodeTimestampExpired},
		{"bad timestamp", signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g", "Timestamp": "yesterday"}), 400, CodeTimestampFormat},
		{"no timestamp", signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g", "Timestamp": "\x00"}), 400, "MissingTimestamp"},
		{"no nonce", signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g", "SignatureNonce": "\x00"}), 400, "MissingSignatureNonce"},
		{"md5", signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g", "SignatureMethod": "HMAC-MD5"}), 400, CodeInvalidSignatureMethod},
		{"version 2", signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g", "SignatureVersion": "2.0"}), 400, CodeInvalidSignatureVer},
		{"duplicate", httptest.NewRequest("POST", "/?Action=Echo&Action=Echo&Version="+testVersion, nil), 400, CodeInvalidParameter},
		{"bad escape", httptest.NewRequest("POST", "/?Action=%zz", nil), 400, CodeInvalidParameter},
		{"PUT", httptest.NewRequest("PUT", "/?Action=Echo", nil), 400, CodeUnsupportedMethod},
		{"body too large", formRequest(strings.Repeat("a", 2000)), 413, CodeRequestTooLarge},
		{"business", signedV1("POST", "Refuse", testSecret, nil), 200, "test.Refused"},
		{"internal", signedV1("POST", "Break", testSecret, nil), 500, CodeInternalError},
		{"not an object", signedV1("POST", "NotAnObj", testSecret, nil), 500, CodeInternalError},
		{"acs3 unknown key", acs3Request("ACS3-HMAC-SHA256 Credential=nobody,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=" + strings.Repeat("0", 64)), 404, CodeInvalidAccessKeyID},
		{"acs3 incomplete", acs3Request("ACS3-HMAC-SHA256 Credential=" + testAK), 400, CodeIncompleteSignature},
		{"acs3 wrong signature", acs3Request("ACS3-HMAC-SHA256 Credential=" + testAK + ",SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=" + strings.Repeat("0", 64)), 400, CodeSignatureDoesNotMatch},
		{"acs3 body hash", withHeader(acs3Request("ACS3-HMAC-SHA256 Credential="+testAK+",SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="+strings.Repeat("0", 64)), "x-acs-content-sha256", "00"), 400, CodeSignatureDoesNotMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantRefusal(t, serve(t, s, tt.req), tt.status, tt.code)
		})
	}
}

func TestSignatureMismatchTellsTheStringToSign(t *testing.T) {
	s := newTestServer(t)
	r := signedV1("POST", "Echo", "wrong", map[string]string{"GroupName": "g"})
	p, _ := readParams(r, nil)
	a := serve(t, s, r)
	want := "server string to sign is:" + stringToSignV1("POST", p.v)
	if msg, _ := a.body["Message"].(string); !strings.HasSuffix(msg, want) {
		t.Fatalf("message %q does not end with %q", msg, want)
	}
}

func TestNonceReuseIsRefused(t *testing.T) {
	s := newTestServer(t)
	r := signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g", "SignatureNonce": "once"})
	if a := serve(t, s, r); a.status != 200 {
		t.Fatalf("first call %d %s", a.status, a.raw)
	}
	wantRefusal(t, serve(t, s, signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g", "SignatureNonce": "once"})), 400, CodeNonceUsed)
	// A refused signature does not use up its nonce.
	serve(t, s, signedV1("POST", "Echo", "wrong", map[string]string{"GroupName": "g", "SignatureNonce": "twice"}))
	if a := serve(t, s, signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g", "SignatureNonce": "twice"})); a.status != 200 {
		t.Fatalf("after a refused call %d %s", a.status, a.raw)
	}
}

func TestXMLAnswers(t *testing.T) {
	s := newTestServer(t)
	a := serve(t, s, signedV1("POST", "Echo", testSecret, map[string]string{"Format": "XML", "GroupName": "<g&>", "ConsumerGroupIds.1": "a", "ConsumerGroupIds.2": "b"}))
	if a.status != 200 || a.header.Get("Content-Type") != "text/xml;charset=utf-8" {
		t.Fatalf("answer %d %s", a.status, a.raw)
	}
	var out struct {
		XMLName   xml.Name `xml:"ActionResponse"`
		RequestID string   `xml:"RequestId"`
		Success   bool
		GroupName string
		Ids       []string `xml:"ConsumerGroupIds"`
		Data      struct{ N int }
	}
	if err := xml.Unmarshal([]byte(a.raw), &out); err != nil {
		t.Fatalf("%s: %v", a.raw, err)
	}
	if !out.Success || out.GroupName != "<g&>" || len(out.Ids) != 2 || out.Ids[1] != "b" || out.Data.N != 7 || out.RequestID != a.header.Get("x-acs-request-id") {
		t.Fatalf("decoded %+v from %s", out, a.raw)
	}
	e := serve(t, s, signedV1("POST", "Nope", testSecret, map[string]string{"Format": "xml"}))
	var ex struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
	}
	if err := xml.Unmarshal([]byte(e.raw), &ex); err != nil || e.status != 404 || ex.Code != CodeInvalidAction {
		t.Fatalf("error answer %d %s: %v", e.status, e.raw, err)
	}
}

func tamper(r *http.Request, k, v string) *http.Request {
	q := r.URL.Query()
	q.Set(k, v)
	return httptest.NewRequest(r.Method, "/?"+q.Encode(), nil)
}

func asMethod(r *http.Request, m string) *http.Request {
	return httptest.NewRequest(m, r.URL.String(), nil)
}

func formRequest(body string) *http.Request {
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func acs3Request(auth string) *http.Request {
	r := httptest.NewRequest("POST", "/?GroupName=g", nil)
	r.Header.Set("Authorization", auth)
	r.Header.Set("x-acs-action", "Echo")
	r.Header.Set("x-acs-version", testVersion)
	r.Header.Set("x-acs-date", testNow.Format(time.RFC3339))
	r.Header.Set("x-acs-signature-nonce", "n")
	r.Header.Set("x-acs-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") // of ""
	return r
}

func withHeader(r *http.Request, k, v string) *http.Request {
	r.Header.Set(k, v)
	return r
}

// FuzzServe feeds arbitrary queries, bodies and Authorization headers to
// the door: it must never panic, and never answer anything but a 4xx (no
// input can carry a valid signature).
func FuzzServe(f *testing.F) {
	almost := tamper(signedV1("POST", "Echo", testSecret, map[string]string{"GroupName": "g"}), "GroupName", "h")
	f.Add(almost.URL.RawQuery, "", "", "application/x-www-form-urlencoded")
	f.Add(almost.URL.RawQuery+"&Format=XML", "", "", "")
	f.Add("Action=Echo&Version="+testVersion+"&Signature=x&AccessKeyId="+testAK, "GroupName=g&x=%zz", "", "application/x-www-form-urlencoded")
	f.Add("a=1&a=2", "", "ACS3-HMAC-SHA256 Credential="+testAK+",SignedHeaders=host;x-acs-action,Signature=00", "")
	f.Add("", "", "ACS3-HMAC-SHA256 Credential="+testAK+",SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="+strings.Repeat("a", 64), "")
	f.Add("ConsumerGroupIds.0=x&ConsumerGroupIds=[1]", "%", "ACS3-", "application/x-www-form-urlencoded;;")
	f.Fuzz(func(t *testing.T, query, body, auth, contentType string) {
		s := newTestServer(t)
		u := &url.URL{Path: "/", RawQuery: query}
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.URL = u
		r.RequestURI = u.String()
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
			r.Header.Set("x-acs-action", "Echo")
			r.Header.Set("x-acs-version", testVersion)
			r.Header.Set("x-acs-date", testNow.Format(time.RFC3339))
			r.Header.Set("x-acs-signature-nonce", query)
			r.Header.Set("x-acs-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
		}
		r.Header["Content-Type"] = []string{contentType}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code < 400 || w.Code >= 500 {
			t.Fatalf("status %d for query %q body %q auth %q: %s", w.Code, query, body, auth, w.Body)
		}
		var env struct{ Code string }
		decode := json.Unmarshal
		if strings.HasPrefix(w.Header().Get("Content-Type"), "text/xml") {
			decode = xml.Unmarshal
		}
		if err := decode(w.Body.Bytes(), &env); err != nil || env.Code == "" {
			t.Fatalf("answer %q has no Code: %v", w.Body, err)
		}
	})
}
