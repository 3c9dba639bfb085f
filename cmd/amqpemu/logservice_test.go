package main

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestLogServiceSDKThroughProxy runs examples/logservice (the README's
// log service snippet), the log service's official SDK and consumer
// library unchanged, against `amqpemu serve` with HTTP_PROXY pointing at
// --http; then again after a restart on the same data, when it finds its
// project and logstore and its group reads only the new log, from the
// checkpoints. A run with the wrong secret is refused.
func TestLogServiceSDKThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the binary")
	}
	example := readmeExample(t, "logservice")
	bin := buildBinary(t)
	dir := t.TempDir()
	run := func(em *emulator, extra ...string) (string, error) {
		cmd := exec.Command(example)
		cmd.Env = append(proxyFreeEnv(), "HTTP_PROXY=http://"+em.http)
		cmd.Env = append(cmd.Env, extra...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	em := startEmulator(t, bin, dir)
	if out, err := run(em); err != nil || !strings.Contains(out, "group readers read 1 new logs of my-project/app-log") {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	em.cmd.Process.Signal(syscall.SIGTERM) // a clean stop, then a restart
	em.cmd.Wait()

	em = startEmulator(t, bin, dir)
	if out, err := run(em); err != nil || !strings.Contains(out, "group readers read 1 new logs of my-project/app-log") {
		t.Fatalf("run after restart: %v\n%s", err, out)
	}
	// The same client signing for another key pair is refused.
	refused := startEmulator(t, bin, t.TempDir(), "--access-key-secret", "another-secret")
	if out, err := run(refused); err == nil || !strings.Contains(out, "SignatureNotMatch") {
		t.Fatalf("run against another secret: %v\n%s", err, out)
	}
}

// proxyFreeEnv is the environment less any proxy settings, so that only
// the test's HTTP_PROXY applies.
func proxyFreeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY":
			continue
		}
		env = append(env, kv)
	}
	return env
}
