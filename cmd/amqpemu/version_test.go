package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionHasRevision builds a throwaway program around version.go in a
// fresh git repository (so that Go records VCS information whatever the
// checkout this test runs in: Go stamps nothing in a git worktree, whose .git
// is a file, nor with GOFLAGS=-buildvcs=false) and checks that versionString
// names the commit, marks a modified tree "+dirty", and leaves the revision
// out when Go recorded none.
func TestVersionHasRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: Go cannot record a revision to check")
	}
	src, err := os.ReadFile("version.go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/versiontest\n\ngo 1.26\n")
	write("version.go", string(src))
	write("main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(versionString()) }\n")
	cmdIn := func(name string, args ...string) string {
		t.Helper()
		c := exec.Command(name, args...)
		c.Dir = dir
		c.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	cmdIn("git", "init", "-q")
	cmdIn("git", "add", ".")
	cmdIn("git", "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "init")
	rev := cmdIn("git", "rev-parse", "HEAD")
	bin := filepath.Join(dir, "v")
	version := func(vcs string) string {
		t.Helper()
		cmdIn("go", "build", "-buildvcs="+vcs, "-o", bin, ".")
		return cmdIn(bin)
	}

	if got := version("true"); !strings.Contains(got, " revision "+rev[:12]+" ") || strings.Contains(got, "dirty") {
		t.Errorf("clean tree: %q, want it to name revision %s", got, rev[:12])
	}
	write("main.go", "package main\n\nimport \"fmt\"\n\n// modified\nfunc main() { fmt.Println(versionString()) }\n")
	if got := version("true"); !strings.Contains(got, " revision "+rev[:12]+"+dirty ") {
		t.Errorf("modified tree: %q, want revision %s+dirty", got, rev[:12])
	}
	if got := version("false"); strings.Contains(got, "revision") || got == "" {
		t.Errorf("-buildvcs=false: %q, want the version alone", got)
	}
}

// TestVersionForms: `amqpemu version` and `amqpemu --version` print the
// same line.
func TestVersionForms(t *testing.T) {
	bin := buildBinary(t)
	var outs []string
	for _, arg := range []string{"version", "--version", "-version"} {
		var stdout bytes.Buffer
		c := exec.Command(bin, arg)
		c.Stdout = &stdout
		if err := c.Run(); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		outs = append(outs, stdout.String())
	}
	if outs[0] != outs[1] || outs[0] != outs[2] || !strings.HasPrefix(outs[0], "amqpemu ") {
		t.Errorf("version forms differ: %q", outs)
	}
}
