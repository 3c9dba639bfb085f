package console_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/console"
)

// TestBrowserRequestsCannotChangeState sends what real browsers and curl
// send (headers as Chrome, Firefox and Safari set them) and checks that a
// page on another origin cannot change state, while same-origin fetches
// with JSON, curl and the CLI can.
func TestBrowserRequestsCannotChangeState(t *testing.T) {
	e := newEnv(t)
	self := e.srv.URL // http://127.0.0.1:port, the origin a page served here would have
	host := must(url.Parse(self)).Host
	group := `{"name":"guard_group"}`
	tests := []struct {
		name         string
		method, path string
		body         string
		hdr          []string
		status       int
		code         string
	}{
		{"cross-site form POST (Chrome)", "POST", "/api/v1/groups/DEFAULT_GROUP/clear", "a=b", []string{
			"Content-Type", "application/x-www-form-urlencoded", "Origin", "https://evil.example",
			"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"},
			http.StatusForbidden, console.CodeCrossOriginRefused},
		{"cross-site fetch no-cors text/plain", "POST", "/api/v1/messages", `{"productKey":"p","deviceName":"d"}`, []string{
			"Content-Type", "text/plain;charset=UTF-8", "Origin", "https://evil.example",
			"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Dest", "empty"},
			http.StatusForbidden, console.CodeCrossOriginRefused},
		{"same-site page on another port", "POST", "/api/v1/groups", group, []string{
			"Origin", "http://localhost:3000", "Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "cors"},
			http.StatusForbidden, console.CodeCrossOriginRefused},
		{"browser without Sec-Fetch (old Safari), text/plain", "POST", "/api/v1/groups", group, []string{
			"Content-Type", "text/plain", "Origin", "https://evil.example"},
			http.StatusForbidden, console.CodeCrossOriginRefused},
		{"sandboxed iframe (Origin: null)", "PUT", "/api/v1/products/pk/subscription", `{"groups":[]}`, []string{
			"Content-Type", "text/plain", "Origin", "null"},
			http.StatusForbidden, console.CodeCrossOriginRefused},
		{"cross-site DELETE", "DELETE", "/api/v1/products/pk/subscription", "", []string{
			"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
			http.StatusForbidden, console.CodeCrossOriginRefused},
		{"same-origin fetch, text/plain", "POST", "/api/v1/groups", group, []string{
			"Content-Type", "text/plain;charset=UTF-8", "Origin", self, "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"},
			http.StatusUnsupportedMediaType, console.CodeUnsupportedMediaType},
		{"curl -d (form content type)", "POST", "/api/v1/groups", group, []string{
			"Content-Type", "application/x-www-form-urlencoded", "User-Agent", "curl/8.5.0"},
			http.StatusUnsupportedMediaType, console.CodeUnsupportedMediaType},
		{"body without Content-Type", "POST", "/api/v1/messages", `{"productKey":"p","deviceName":"d"}`, []string{
			"Content-Type", ""},
			http.StatusUnsupportedMediaType, console.CodeUnsupportedMediaType},
		{"same-origin fetch, JSON", "POST", "/api/v1/groups", group, []string{
			"Content-Type", "application/json", "Origin", self, "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"},
			http.StatusCreated, ""},
		{"same origin, Origin with default port implied", "POST", "/api/v1/messages", `{"productKey":"p","deviceName":"d"}`, []string{
			"Origin", "http://" + host, "Sec-Fetch-Site", "same-origin"},
			http.StatusAccepted, ""},
		{"curl --json, no Origin", "POST", "/api/v1/messages", `{"productKey":"p","deviceName":"d"}`, []string{
			"Content-Type", "application/json", "Accept", "application/json", "User-Agent", "curl/8.5.0"},
			http.StatusAccepted, ""},
		{"JSON with charset", "PUT", "/api/v1/products/pk/subscription", `{"groups":["DEFAULT_GROUP"],"kinds":["data"]}`, []string{
			"Content-Type", "application/json; charset=utf-8"},
			http.StatusOK, ""},
		{"curl -XPOST without a body", "POST", "/api/v1/groups/DEFAULT_GROUP/clear", "", []string{"Content-Type", ""},
			http.StatusNoContent, ""},
		{"address bar (Sec-Fetch-Site: none)", "GET", "/api/v1/groups", "", []string{
			"Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate"},
			http.StatusOK, ""},
		{"cross-site GET is only a read", "GET", "/api/v1/groups", "", []string{
			"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
			http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := *e
			e.t = t
			var body any
			if tt.body != "" {
				body = tt.body
			}
			r := e.do(tt.method, tt.path, body, tt.hdr...)
			if tt.code != "" {
				e.wantError(r, tt.status, tt.code)
				return
			}
			e.want(r, tt.status, nil)
		})
	}
	// The refused requests changed nothing: DEFAULT_GROUP's subscription is
	// the one the allowed PUT set, and the groups are the allowed POST's.
	var groups struct{ Groups []broker.Group }
	e.want(e.do("GET", "/api/v1/groups", nil), http.StatusOK, &groups)
	if len(groups.Groups) != 2 {
		t.Fatalf("groups %+v, want DEFAULT_GROUP and guard_group", groups.Groups)
	}
}

func TestHostCheck(t *testing.T) {
	e := newEnv(t, func(c *console.Config) { c.HostCheck, c.ExtraHosts = true, []string{"emulator.test"} })
	port := must(url.Parse(e.srv.URL)).Port()
	for _, tt := range []struct {
		host   string
		status int
	}{
		{"127.0.0.1:" + port, http.StatusOK},
		{"localhost:" + port, http.StatusOK},
		{"LOCALHOST", http.StatusOK},
		{"app.localhost:" + port, http.StatusOK},
		{"[::1]:" + port, http.StatusOK},
		{"127.1.2.3", http.StatusOK},
		{"emulator.test:" + port, http.StatusOK},
		{"rebound.evil.example:" + port, http.StatusForbidden},
		{"10.0.0.1:" + port, http.StatusForbidden},
	} {
		t.Run(tt.host, func(t *testing.T) {
			e := *e
			e.t = t
			r := e.do("GET", "/api/v1/groups", nil, "Host", tt.host)
			if tt.status == http.StatusForbidden {
				e.wantError(r, tt.status, console.CodeHostRefused)
				return
			}
			e.want(r, tt.status, nil)
		})
	}
	// /healthz answers whatever the Host.
	e.want(e.do("GET", "/healthz", nil, "Host", "rebound.evil.example"), http.StatusOK, nil)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
