package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// errUnhealthy: the emulator did not answer /healthz with 200 (the reason
// is printed already); exit 1.
var errUnhealthy = errors.New("unhealthy")

// health asks a running emulator's GET /healthz and exits 0 when it is
// ready: the container image's health check, which has no curl.
func health(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	server := fs.String("server", serverDefault(), "the emulator's HTTP address (env AMQPEMU_SERVER)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: amqpemu health [--server URL] [--timeout D]\n\n"+
			"Exits 0 when the emulator's /healthz answers 200 (every listener up, the engine reachable), 1 otherwise.\n\n"+
			"Example:\n  amqpemu health --server http://127.0.0.1:8080\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	url := strings.TrimSuffix(*server, "/") + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "amqpemu: is the emulator running at %s? %v\n", *server, err)
		return errUnhealthy
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "amqpemu: %s answered %s: %s\n", url, resp.Status, strings.TrimSpace(string(body)))
		return errUnhealthy
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
