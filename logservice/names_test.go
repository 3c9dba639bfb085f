package logservice

import (
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		name              string
		project, logstore bool // valid as one
	}{
		{"abc", true, true},
		{"my-project-1", true, true},
		{"access_log", false, true},
		{"ab", false, false},
		{strings.Repeat("a", 63), true, true},
		{strings.Repeat("a", 64), false, false},
		{"-abc", false, false},
		{"abc-", false, false},
		{"_abc", false, false},
		{"abc_", false, false},
		{"Abc", false, false},
		{"a.bc", false, false},
		{"a bc", false, false},
		{"日志库", false, false},
	} {
		if got := checkProjectName(tc.name) == nil; got != tc.project {
			t.Errorf("project %q valid = %v, want %v", tc.name, got, tc.project)
		}
		if got := checkLogstoreName(tc.name) == nil; got != tc.logstore {
			t.Errorf("logstore %q valid = %v, want %v", tc.name, got, tc.logstore)
		}
	}
}

func TestProjectOf(t *testing.T) {
	for _, tc := range []struct {
		host, project string
	}{
		{"my-proj.cn-hangzhou.log.aliyuncs.com", "my-proj"},
		{"my-proj.sls.local:8080", "my-proj"},
		{"cn-hangzhou", ""},      // an endpoint alone names no project
		{"127.0.0.1:8080", ""},   // nor does an address
		{"[::1]:8080", ""},       //
		{".example.com", ""},     //
		{"Bad_Name.example", ""}, // not a project name
	} {
		got, err := projectOf(tc.host)
		if got != tc.project || (err == nil) != (tc.project != "") {
			t.Errorf("projectOf(%q) = %q, %v; want %q", tc.host, got, err, tc.project)
		}
	}
}
