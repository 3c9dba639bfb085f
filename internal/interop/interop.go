// Package interop is for tests that drive third-party clients (rhea,
// qpid-proton, stomp.py, the samples' runtimes): without the client such a
// test is skipped locally and fails under CI=true, and the skips are told
// once at the end of the package's run, even by `go test ./...`, which
// hides the output of passing packages.
//
// A package using it has, once, in a _test.go file:
//
//	func TestMain(m *testing.M) { interop.Main(m) }
//
// and each test that needs a client calls
//
//	interop.Require(t, "rhea", "sudo bash testdata/interop/install.sh", rheaInstalled())
package interop

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// skipped is what the package's tests went without: client → install
// command, and which tests.
var (
	mu      sync.Mutex
	skipped = map[string]*skip{}
)

type skip struct {
	install string
	tests   []string
}

// CI reports whether missing clients fail tests (CI=true) instead of
// skipping them.
func CI() bool { return os.Getenv("CI") == "true" }

// Require returns when available; otherwise, under CI=true, it fails t,
// and locally it records the skip for the notice and skips t. install is
// the command that installs client.
func Require(t testing.TB, client, install string, available bool) {
	t.Helper()
	if available {
		return
	}
	why := fmt.Sprintf("%s is not installed (install it with: %s)", client, install)
	if CI() {
		t.Fatal(why)
	}
	record(t.Name(), client, install)
	t.Skip(why)
}

// Omit is Require for a test that goes on without client (running the
// clients it has): it fails t under CI=true, else records the omission and
// logs it.
func Omit(t testing.TB, client, install string) {
	t.Helper()
	why := fmt.Sprintf("%s is not installed (install it with: %s)", client, install)
	if CI() {
		t.Error(why)
		return
	}
	record(t.Name(), client, install)
	t.Log("left out: " + why)
}

func record(test, client, install string) {
	mu.Lock()
	defer mu.Unlock()
	s := skipped[client]
	if s == nil {
		s = &skip{install: install}
		skipped[client] = s
	}
	if !slices.Contains(s.tests, test) {
		s.tests = append(s.tests, test)
	}
}

// Main runs the tests, then writes the notice of what was skipped, if
// anything was, and exits with the tests' status.
func Main(m *testing.M) {
	code := m.Run()
	if n := notice(); n != "" {
		tell(n)
	}
	os.Exit(code)
}

// notice is one paragraph naming the package, the skipped tests, the
// missing clients and the commands that install them; "" when nothing was
// skipped.
func notice() string {
	mu.Lock()
	defer mu.Unlock()
	if len(skipped) == 0 {
		return ""
	}
	clients := make([]string, 0, len(skipped))
	for c := range skipped {
		clients = append(clients, c)
	}
	slices.Sort(clients)
	var b strings.Builder
	fmt.Fprintf(&b, "NOTE %s: interop tests skipped, their clients are not installed:\n", pkgDir())
	var installs []string
	for _, c := range clients {
		s := skipped[c]
		fmt.Fprintf(&b, "  %s: %s\n", c, summarize(s.tests))
		if !slices.Contains(installs, s.install) {
			installs = append(installs, s.install)
		}
	}
	fmt.Fprintf(&b, "  install: %s   (CI=true makes these fail instead)\n", strings.Join(installs, " && "))
	return b.String()
}

// summarize names the top-level tests, with how many of their subtests
// were skipped: "TestInterop (4 subtests), TestOther".
func summarize(tests []string) string {
	var tops []string
	subs := map[string]int{}
	for _, name := range tests {
		top, _, sub := strings.Cut(name, "/")
		if !slices.Contains(tops, top) {
			tops = append(tops, top)
		}
		if sub {
			subs[top]++
		}
	}
	for i, top := range tops {
		switch n := subs[top]; {
		case n == 1:
			tops[i] += " (1 subtest)"
		case n > 1:
			tops[i] += fmt.Sprintf(" (%d subtests)", n)
		}
	}
	return strings.Join(tops, ", ")
}

// tell writes the notice where a developer sees it: with -v on stderr, in
// the test output; else to the terminal (/dev/tty), which go test's
// package-list mode does not capture, and to stderr when there is none.
func tell(n string) {
	var w io.Writer = os.Stderr
	if v := flag.Lookup("test.v"); v == nil || v.Value.String() == "false" {
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			defer tty.Close()
			w = tty
		}
	}
	fmt.Fprint(w, n)
}

// pkgDir is the package's directory relative to the module root (go test
// runs a test binary in its package's directory).
func pkgDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "this package"
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if rel, err := filepath.Rel(dir, wd); err == nil {
				return "./" + filepath.ToSlash(rel)
			}
			return wd
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return wd
		}
		dir = parent
	}
}
