// Command amqpemu runs the consumer-group emulator: `amqpemu serve` starts
// the consumer-group broker on an embedded JetStream (or an external NATS)
// and the AMQP 1.0 server in front of it.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "amqpemu:", err)
		}
		os.Exit(2)
	}
}

var errUsage = errors.New("usage")

const usage = `amqpemu — a local emulator of cloud IoT consumer groups

Usage:
  amqpemu [serve] [flags]   run the emulator (the default)
  amqpemu publish [flags] PAYLOAD|@file
                            ingest device messages through a running emulator's HTTP API
  amqpemu bench [flags]     drive an AMQP 1.0 broker and measure throughput and latency
  amqpemu version           print the version

Run "amqpemu serve -h" for the flags.
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// run dispatches the subcommand; it returns when the command is done.
func run(ctx context.Context, args []string, stdout, stderr *os.File) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "bench":
		return bench(ctx, args, stdout, stderr)
	case "publish":
		return publish(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "amqpemu", version)
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "amqpemu: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}
