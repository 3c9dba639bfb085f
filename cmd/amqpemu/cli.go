package main

// The REST client commands (groups, subs, alerts, devices; simulate
// later) manage a running emulator through its REST API only. Each is a
// commandSet: a table of subcommands from which the help is rendered, the
// common flags (--server, --json, --timeout, the access key), and one
// function (client.do) that does a request and turns the API's error answer
// {"code", "message"} into an error.
//
// Output: a table (text/tabwriter) on stdout by default; with --json the
// API's answer indented and otherwise unchanged, and {"ok": true} for the
// requests whose answer is empty (204: delete, clear, reset). Exit codes:
// 0 done, 1 the API refused or could not be reached (the error names the
// command: "amqpemu groups delete: GroupInUse: …"), 2 a usage error (one
// line with a hint).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
)

const defaultServer = "http://127.0.0.1:8080"

// commandSetNamed is the REST client command called name, or nil. Adding
// one (simulate) is a case here and a line in usage.
func commandSetNamed(name string) *commandSet {
	switch name {
	case "groups":
		return groupsCommands()
	case "subs":
		return subsCommands()
	case "alerts":
		return alertsCommands()
	case "devices":
		return devicesCommands()
	}
	return nil
}

// commandSet is a command made of subcommands, such as `amqpemu groups`.
type commandSet struct {
	name    string // "groups"
	summary string // the first line of its help
	about   string // more lines for its help; may be empty
	cmds    []subcommand
}

// subcommand is one line of a commandSet's table.
type subcommand struct {
	name     string
	args     []string // the positional arguments, required but for trailing "[OPTIONAL]" ones: {"GROUP", "NEW_NAME"}
	summary  string   // one line, lower case, for the set's help
	examples []string // command lines, each shown after "Example:"
	// setup declares the subcommand's own flags on fs and returns the
	// function that runs it once the command line is parsed.
	setup func(fs *flag.FlagSet) runFunc
}

// runFunc runs a subcommand with its positional arguments.
type runFunc func(ctx context.Context, c *client, args []string) error

// stdio is what a command reads and writes.
type stdio struct {
	in         io.Reader
	inTerminal bool // in is a terminal a question can be asked on
	out, err   io.Writer
}

func osStdio(stdout, stderr io.Writer) stdio {
	fd := os.Stdin.Fd()
	return stdio{in: os.Stdin, inTerminal: isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd), out: stdout, err: stderr}
}

// cmdError is a command's failure once its command line was right: exit 1.
type cmdError struct {
	cmd string // "groups delete"
	err error
}

func (e *cmdError) Error() string { return "amqpemu " + e.cmd + ": " + e.err.Error() }
func (e *cmdError) Unwrap() error { return e.err }

// apiError is the REST API's error answer.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string {
	msg := e.Code + ": " + e.Message
	if e.Status == http.StatusUnauthorized {
		msg += " (give --access-key-id and --access-key-secret, or set AMQPEMU_ACCESS_KEY_ID and AMQPEMU_ACCESS_KEY_SECRET)"
	}
	return msg
}

// run runs the subcommand args[0] with the rest of args.
func (s *commandSet) run(ctx context.Context, args []string, std stdio) error {
	if len(args) == 0 {
		fmt.Fprintf(std.err, "amqpemu %s: missing command, one of %s (see amqpemu %s --help)\n", s.name, strings.Join(s.names(), ", "), s.name)
		return errUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		s.printHelp(std.out)
		return errHelp
	}
	for i := range s.cmds {
		if s.cmds[i].name == args[0] {
			return s.runSub(ctx, &s.cmds[i], args[1:], std)
		}
	}
	fmt.Fprintf(std.err, "amqpemu %s: unknown command %q, not one of %s (see amqpemu %s --help)\n", s.name, args[0], strings.Join(s.names(), ", "), s.name)
	return errUsage
}

func (s *commandSet) names() []string {
	names := make([]string, len(s.cmds))
	for i, c := range s.cmds {
		names[i] = c.name
	}
	return names
}

func (s *commandSet) printHelp(w io.Writer) {
	fmt.Fprintf(w, "Usage: amqpemu %s COMMAND [flags] [arguments]\n\n%s\n", s.name, s.summary)
	if s.about != "" {
		fmt.Fprintln(w, s.about)
	}
	fmt.Fprint(w, "\nCommands:\n")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, c := range s.cmds {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nEvery command takes --server URL (default $AMQPEMU_SERVER or %s),\n"+
		"--json (print the API's JSON answer), --timeout, and the access key when the API requires it\n"+
		"(--access-key-id, --access-key-secret; default $AMQPEMU_ACCESS_KEY_ID, $AMQPEMU_ACCESS_KEY_SECRET).\n"+
		"See amqpemu %s COMMAND --help for a command's flags and an example.\n", defaultServer, s.name)
}

// runSub parses sub's command line and runs it.
func (s *commandSet) runSub(ctx context.Context, sub *subcommand, args []string, std stdio) error {
	name := s.name + " " + sub.name
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c := &client{cmd: name, std: std}
	run := sub.setup(fs)
	own := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { own[f.Name] = true })
	c.addFlags(fs)
	fs.Usage = func() { sub.printHelp(fs.Output(), name, fs, own) }
	pos, err := parseInterspersed(fs, args, std.out, std.err)
	if err != nil {
		return err
	}
	required := 0 // the arguments before the optional ones, "[DN]"
	for required < len(sub.args) && !strings.HasPrefix(sub.args[required], "[") {
		required++
	}
	switch {
	case len(pos) < required:
		return c.usageError("missing %s", strings.Join(sub.args[len(pos):required], " "))
	case len(pos) > len(sub.args):
		return c.usageError("unexpected argument %q", pos[len(sub.args)])
	}
	for i, p := range pos {
		if p == "" {
			return c.usageError("%s is empty", strings.Trim(sub.args[i], "[]"))
		}
	}
	if err := c.init(); err != nil {
		return err
	}
	err = run(ctx, c, pos)
	if err == nil || errors.Is(err, errUsage) || errors.Is(err, errHelp) {
		return err
	}
	return &cmdError{cmd: name, err: err}
}

// printHelp writes sub's usage line, summary, flags (its own, then the
// common ones) and examples.
func (sub *subcommand) printHelp(w io.Writer, name string, fs *flag.FlagSet, own map[string]bool) {
	synopsis := "amqpemu " + name
	if len(sub.args) > 0 {
		synopsis += " " + strings.Join(sub.args, " ")
	}
	fmt.Fprintf(w, "Usage: %s [flags]\n\n%s%s.\n", synopsis, strings.ToUpper(sub.summary[:1]), sub.summary[1:])
	if len(own) > 0 {
		fmt.Fprint(w, "\nFlags:\n")
		printFlags(w, fs, func(n string) bool { return own[n] })
	}
	fmt.Fprint(w, "\nCommon flags:\n")
	printFlags(w, fs, func(n string) bool { return !own[n] })
	fmt.Fprintln(w)
	for _, e := range sub.examples {
		fmt.Fprintf(w, "Example: %s\n", e)
	}
}

// printFlags prints the defaults of fs's flags that keep selects.
func printFlags(w io.Writer, fs *flag.FlagSet, keep func(string) bool) {
	some := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	some.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		if keep(f.Name) {
			some.Var(f.Value, f.Name, f.Usage)
			some.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	some.PrintDefaults()
}

// parseInterspersed parses args with parseFlags, taking flags after
// positional arguments too (`groups reset GROUP --to earliest`); everything
// after "--" is positional. It returns the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args, stdout, stderr); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// client talks to the emulator's REST API for one command.
type client struct {
	cmd string // "groups delete", for messages
	std stdio

	server                       string
	accessKeyID, accessKeySecret string
	json                         bool
	timeout                      time.Duration
	http                         *http.Client
}

// addFlags declares the common flags.
func (c *client) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", serverDefault(), "the emulator's HTTP address (env AMQPEMU_SERVER)")
	fs.StringVar(&c.accessKeyID, "access-key-id", os.Getenv("AMQPEMU_ACCESS_KEY_ID"), "HTTP Basic user when the API requires the access key (env AMQPEMU_ACCESS_KEY_ID)")
	fs.StringVar(&c.accessKeySecret, "access-key-secret", os.Getenv("AMQPEMU_ACCESS_KEY_SECRET"), "HTTP Basic password (env AMQPEMU_ACCESS_KEY_SECRET)")
	fs.BoolVar(&c.json, "json", false, "print the API's JSON answer instead of a table")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "how long to wait for each answer")
}

// serverDefault is the default of --server: $AMQPEMU_SERVER, or the
// emulator's default HTTP address.
func serverDefault() string {
	if s := os.Getenv("AMQPEMU_SERVER"); s != "" {
		return s
	}
	return defaultServer
}

// init checks the common flags once parsed.
func (c *client) init() error {
	s := strings.TrimRight(c.server, "/")
	if !strings.Contains(s, "://") {
		s = "http://" + s // host:port
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c.usageError("--server %q is not an http:// or https:// URL", c.server)
	}
	if c.timeout <= 0 {
		return c.usageError("--timeout must be positive")
	}
	c.server = s
	c.http = &http.Client{Timeout: c.timeout}
	return nil
}

// usageError prints one line about the command line and returns errUsage
// (exit 2).
func (c *client) usageError(format string, args ...any) error {
	fmt.Fprintf(c.std.err, "amqpemu %s: %s (see amqpemu %s --help)\n", c.cmd, fmt.Sprintf(format, args...), c.cmd)
	return errUsage
}

// do sends method path?query with in as its JSON body (nil: none), decodes
// a JSON answer into out (nil: not decoded) and returns the answer's body.
// An error answer becomes an *apiError; a server that cannot be reached an
// error saying so.
func (c *client) do(ctx context.Context, method, path string, query url.Values, in, out any) ([]byte, error) {
	target := c.server + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.accessKeyID != "" {
		req.SetBasicAuth(c.accessKeyID, c.accessKeySecret)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s %s: %w", method, target, c.transportError(ctx, err))
	}
	if resp.StatusCode >= 300 {
		return nil, answerError(resp, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("unexpected answer from %s %s: %w", method, target, err)
		}
	}
	return data, nil
}

// answerError turns an error answer into an error: the API's {"code",
// "message"}, or the status and the start of the body from anything else.
func answerError(resp *http.Response, data []byte) error {
	e := &apiError{Status: resp.StatusCode}
	if json.Unmarshal(data, e) == nil && e.Code != "" {
		return e
	}
	text := strings.TrimSpace(string(data))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	if text == "" {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return fmt.Errorf("HTTP %s: %s", resp.Status, text)
}

// transportError explains a request that got no answer.
func (c *client) transportError(ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("no emulator at %s (is `amqpemu serve` running?)", c.server)
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted: %w", ctx.Err())
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("no answer from %s within %s (--timeout)", c.server, c.timeout)
	}
	return fmt.Errorf("cannot reach %s: %w", c.server, err)
}

// print writes the API's answer data: indented JSON with --json ({"ok":
// true} for an empty answer), else what table writes through a tabwriter.
func (c *client) print(data []byte, table func(w io.Writer)) error {
	if c.json {
		data = bytes.TrimSpace(data)
		if len(data) == 0 {
			data = []byte(`{"ok": true}`)
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, data, "", "  "); err != nil {
			return fmt.Errorf("the answer is not JSON: %w", err)
		}
		buf.WriteByte('\n')
		_, err := c.std.out.Write(buf.Bytes())
		return err
	}
	tw := tabwriter.NewWriter(c.std.out, 0, 8, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

// row writes one tab-separated line.
func row(w io.Writer, cells ...any) {
	for i, cell := range cells {
		if i > 0 {
			fmt.Fprint(w, "\t")
		}
		fmt.Fprint(w, cell)
	}
	fmt.Fprintln(w)
}

// when shows an API time in UTC to the second, "-" for none.
func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// orDash is s, or "-" when empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// plural is "1 group", "2 groups".
func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}
