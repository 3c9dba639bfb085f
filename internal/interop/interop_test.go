package interop_test

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/amqpemu/amqpemu/internal/interop"
)

func TestMain(m *testing.M) { interop.Main(m) }

// TestHelperMissingClient is run by TestNotice in a child process.
func TestHelperMissingClient(t *testing.T) {
	if os.Getenv("INTEROP_HELPER") == "" {
		t.Skip("run by TestNotice")
	}
	t.Run("sub", func(t *testing.T) { interop.Require(t, "frobclient", "sudo apt-get install -y frob", false) })
	interop.Require(t, "frobclient", "sudo apt-get install -y frob", false)
	t.Fatal("Require returned for a missing client")
}

func TestHelperOmitted(t *testing.T) {
	if os.Getenv("INTEROP_HELPER") == "" {
		t.Skip("run by TestNotice")
	}
	interop.Omit(t, "otherclient", "sudo apt-get install -y other")
	interop.Require(t, "present", "nothing", true)
}

// TestNotice runs the helpers in a child without a terminal (its own
// session): locally the skip passes and the notice names the tests, the
// clients and the install commands on stderr; under CI=true they fail.
func TestNotice(t *testing.T) {
	run := func(ci string, args ...string) (string, error) {
		cmd := exec.Command(os.Args[0], append([]string{"-test.run", "TestHelper"}, args...)...)
		cmd.Env = append(os.Environ(), "INTEROP_HELPER=1", "CI="+ci)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal: /dev/tty cannot open
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("")
	if err != nil {
		t.Fatalf("locally a missing client must skip, not fail: %v\n%s", err, out)
	}
	for _, want := range []string{"./internal/interop", "frobclient: TestHelperMissingClient (1 subtest)", "otherclient: TestHelperOmitted",
		"sudo apt-get install -y frob && sudo apt-get install -y other"} {
		if !strings.Contains(out, want) {
			t.Errorf("notice lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "NOTE ") != 1 || strings.Contains(out, "present") {
		t.Errorf("want one notice, naming only missing clients:\n%s", out)
	}
	out, err = run("true", "-test.v")
	if err == nil || !strings.Contains(out, "frobclient is not installed") || !strings.Contains(out, "otherclient is not installed") || strings.Contains(out, "NOTE ") {
		t.Fatalf("under CI=true missing clients must fail (and need no notice): %v\n%s", err, out)
	}
}
