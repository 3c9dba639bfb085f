package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/amqpemu/amqpemu/console"
)

// TestWebConsoleServed: a browser's GET / gets the page and /ui/ its
// assets; RPC calls at / still reach the RPC handler.
func TestWebConsoleServed(t *testing.T) {
	rpc := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"rpc":true}`)) })
	e := newEnv(t, func(c *console.Config) { c.RPC = rpc })
	for _, tt := range []struct {
		path, accept, wantType, wantBody string
	}{
		{"/", "text/html", "text/html", `<script type="module" src="/ui/app.js">`},
		{"/", "", "text/html", "<title>amqpemu console</title>"},
		{"/ui/app.js", "", "text/javascript", "POLL_MS"},
		{"/ui/lib.js", "", "text/javascript", "export async function api("},
		{"/ui/alerts.js", "", "text/javascript", "export function alertsPage("},
		{"/ui/logservice.js", "", "text/javascript", "export function logServicePage("},
		{"/ui/style.css", "", "text/css", "--accent"},
		{"/ui/uPlot.iife.min.js", "", "text/javascript", "uPlot (v1.6.32)"},
		{"/ui/uPlot.min.css", "", "text/css", ".uplot"},
	} {
		r := e.do("GET", tt.path, nil, "Accept", tt.accept)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), tt.wantType) || !strings.Contains(r.String(), tt.wantBody) {
			t.Errorf("GET %s: %d %s, want 200 %s with %q", tt.path, r.status, r.header.Get("Content-Type"), tt.wantType, tt.wantBody)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: headers %v lack nosniff or a CSP", tt.path, r.header)
		}
	}
	if r := e.do("GET", "/?Action=QueryConsumerGroupList", nil); r.String() != `{"rpc":true}` {
		t.Errorf("RPC call at /: %d %s", r.status, r)
	}
	if r := e.do("GET", "/ui/missing.js", nil); r.status != 404 {
		t.Errorf("GET /ui/missing.js: %d", r.status)
	}
}

// TestWebConsoleAuth: beyond loopback the page needs the access key, as the
// API does; the browser prompts on WWW-Authenticate.
func TestWebConsoleAuth(t *testing.T) {
	e := newEnv(t, func(c *console.Config) { c.RequireAuth, c.AccessKeyID, c.AccessKeySecret = true, "ak", "sk" })
	for _, path := range []string{"/", "/ui/app.js"} {
		r := e.do("GET", path, nil)
		if r.status != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
			t.Errorf("GET %s without the key: %d %v", path, r.status, r.header)
		}
		req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
		req.SetBasicAuth("ak", "sk")
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s with the key: %d", path, resp.StatusCode)
		}
	}
}
