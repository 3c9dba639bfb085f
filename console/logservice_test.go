package console

import (
	"net/http/httptest"
	"testing"
)

func TestIsLogService(t *testing.T) {
	for _, tc := range []struct {
		name, host, path, auth string
		want                   bool
	}{
		{"SDK call through the proxy", "proj.cn-hangzhou.log.aliyuncs.com", "/logstores/ls", "LOG ak:sig", true},
		{"SDK project call at /", "proj.cn-hangzhou.log.aliyuncs.com", "/", "LOG ak:sig", true},
		{"AuthV4 call", "proj.cn-hangzhou.log.aliyuncs.com", "/", "SLS4-HMAC-SHA256 Credential=ak/x", true},
		{"unsigned call for a logstore under a foreign Host", "proj.example.com", "/logstores", "", true},
		{"REST API on localhost", "127.0.0.1:8080", "/api/v1/groups", "", false},
		{"REST API with Basic auth", "proj.example.com", "/api/v1/groups", "Basic eDp5", false},
		{"/logstores on the emulator's own name", "localhost:8080", "/logstores", "", false},
		{"web console under a foreign Host", "proj.example.com", "/", "", false},
		{"a look-alike path", "proj.example.com", "/logstoresx", "", false},
	} {
		r := httptest.NewRequest("GET", "http://"+tc.host+tc.path, nil)
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		if got := isLogService(r, nil); got != tc.want {
			t.Errorf("%s: isLogService = %v, want %v", tc.name, got, tc.want)
		}
	}
}
