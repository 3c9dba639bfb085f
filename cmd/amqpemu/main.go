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
	case "version":
		fmt.Fprintln(stdout, "amqpemu", versionString())
		return nil
	case "help":
		if len(args) > 0 && args[0] != "help" && args[0] != "version" {
			return dispatch(ctx, []string{args[0], "--help"}, stdout, stderr)
		}
		printHelp(stdout)
		return nil
	}
	fmt.Fprintf(stderr, "amqpemu: unknown command %q (see amqpemu --help)\n", cmd)
	return errUsage
}
