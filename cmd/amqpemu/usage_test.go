package main

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpAndVersion runs the built binary: help and version print to
// stdout and exit 0, a command's --help too; an unknown flag or command
// exits 2 with one line naming it and a hint.
func TestHelpAndVersion(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "amqpemu")
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7-test", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	commands := []string{"serve", "publish", "bench", "groups", "subs", "alerts", "version"}
	serveFlags := []string{"-data", "-http", "-max-message-size", "-metrics-public"}
	tests := []struct {
		args       []string
		exit       int
		stdout     []string // each must appear
		stderrLine string   // for exit 2: must appear on stderr's only line
	}{
		{[]string{"--help"}, 0, append(commands, serveFlags...), ""},
		{[]string{"-h"}, 0, append(commands, serveFlags...), ""},
		{[]string{"help"}, 0, append(commands, serveFlags...), ""},
		{[]string{"serve", "--help"}, 0, serveFlags, ""},
		{[]string{"help", "serve"}, 0, serveFlags, ""},
		{[]string{"publish", "--help"}, 0, []string{"-product", "-device", "-server"}, ""},
		{[]string{"bench", "-h"}, 0, []string{"-url", "-rate"}, ""},
		{[]string{"--version"}, 0, []string{"amqpemu v9.8.7-test"}, ""},
		{[]string{"version"}, 0, []string{"amqpemu v9.8.7-test"}, ""},
		{[]string{"--frobnicate"}, 2, nil, "-frobnicate"},
		{[]string{"serve", "--frobnicate"}, 2, nil, "-frobnicate"},
		{[]string{"frobnicate"}, 2, nil, `"frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, tt.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			exit := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				exit = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if exit != tt.exit {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", exit, tt.exit, &stdout, &stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, &stdout)
				}
			}
			if tt.exit == 2 {
				lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
				if len(lines) != 1 || !strings.Contains(lines[0], tt.stderrLine) || !strings.Contains(lines[0], "--help") {
					t.Errorf("stderr is not one line naming %q with a hint:\n%s", tt.stderrLine, &stderr)
				}
			}
		})
	}
}
