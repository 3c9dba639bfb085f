// Command amqpemu runs the consumer-group emulator: `amqpemu serve` starts
// the consumer-group broker on an embedded JetStream (or an external NATS)
// and the AMQP 1.0 server in front of it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		os.Exit(report(err, os.Stderr))
	}
}

// report prints err (a usage error is printed already) and returns the exit
// code: 1 when a REST client command failed (its error names the command)
// or the emulator is not healthy,
// 2 for a usage error and for the other commands' errors.
func report(err error, stderr io.Writer) int {
	var failed *cmdError
	switch {
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errUnhealthy):
		return 1
	case errors.As(err, &failed):
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stderr, "amqpemu:", err)
	return 2
}

// run dispatches the subcommand; it returns when the command is done.
// Help and version print to stdout and return nil.
func run(ctx context.Context, args []string, stdout, stderr *os.File) error {
	err := dispatch(ctx, args, stdout, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, stdout, stderr *os.File) error {
	cmd := "serve"
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help":
			cmd, args = "help", args[1:]
		case "-version", "--version":
			cmd, args = "version", args[1:]
		default:
			if len(args[0]) > 0 && args[0][0] != '-' {
				cmd, args = args[0], args[1:]
			}
		}
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, stderr)
	case "bench":
		return bench(ctx, args, stdout, stderr)
	case "publish":
		return publish(ctx, args, stdout, stderr)
	case "simulate":
		return simulate(ctx, args, stdout, stderr)
	case "health":
		return health(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "amqpemu", versionString())
		return nil
	case "help":
		if len(args) > 0 && args[0] != "help" && args[0] != "version" {
			topic := args[:1]
			if commandSetNamed(args[0]) != nil && len(args) > 1 {
				topic = args[:2] // amqpemu help groups create
			}
			return dispatch(ctx, append(slices.Clone(topic), "--help"), stdout, stderr)
		}
		printHelp(stdout)
		return nil
	}
	if set := commandSetNamed(cmd); set != nil {
		return set.run(ctx, args, osStdio(stdout, stderr))
	}
	fmt.Fprintf(stderr, "amqpemu: unknown command %q (see amqpemu --help)\n", cmd)
	return errUsage
}
