package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// errUsage: the command line was wrong and the one-line reason is printed;
// exit 2. errHelp: help was asked for and printed; exit 0.
var (
	errUsage = errors.New("usage")
	errHelp  = errors.New("help")
)

const usage = `amqpemu — a local emulator of cloud IoT consumer groups

Usage:
  amqpemu [serve] [flags]   run the emulator (the default)
  amqpemu publish [flags] PAYLOAD|@file|-
                            ingest device messages through a running emulator's HTTP API
  amqpemu bench [flags]     drive an AMQP 1.0 broker and measure throughput and latency
  amqpemu simulate [flags]  simulated devices publishing over MQTT (see amqpemu simulate --help)
  amqpemu groups COMMAND    consumer groups: list, create, status, clear, … (see amqpemu groups --help)
  amqpemu subs COMMAND      products' subscriptions (see amqpemu subs --help)
  amqpemu alerts COMMAND    alert rules (see amqpemu alerts --help)
  amqpemu devices COMMAND   products and devices of the registry (see amqpemu devices --help)
  amqpemu health [--server URL]
                            exit 0 when a running emulator is ready (its /healthz), 1 otherwise
  amqpemu version           print the version (also --version)
  amqpemu help [command]    this text, or a command's flags (also COMMAND --help)
`

// printHelp writes the commands and the serve flags.
func printHelp(w io.Writer) {
	fmt.Fprint(w, usage)
	fmt.Fprint(w, "\nFlags of serve (each has an AMQPEMU_* environment twin: --log-level is AMQPEMU_LOG_LEVEL):\n")
	fs := serveFlagSet(&serveFlags{})
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// parseFlags parses args into fs. -h, -help or --help prints fs.Usage to
// stdout and returns errHelp; a bad flag prints one line with a hint to
// stderr and returns errUsage. fs's output is stderr afterwards, for the
// command's own usage errors.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	usage := fs.Usage
	if usage == nil {
		usage = func() { fs.PrintDefaults() }
	}
	fs.SetOutput(io.Discard) // flag would print the error and the whole usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(stderr)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		fs.SetOutput(stderr)
		return errHelp
	}
	fmt.Fprintf(stderr, "amqpemu %s: %v (see amqpemu %s --help)\n", fs.Name(), err, fs.Name())
	return errUsage
}
