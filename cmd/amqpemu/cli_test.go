package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// cliRun is one run of the built binary.
type cliRun struct {
	stdout, stderr string
	exit           int
}

// runCLI runs bin with args, stdin from in (nil: a pipe with nothing in it,
// which is not a terminal) and env added to the test's environment.
func runCLI(t *testing.T, bin string, env []string, in string, args ...string) cliRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(in)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(), env...)
	err := cmd.Run()
	r := cliRun{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.exit = ee.ExitCode()
	case err != nil:
		t.Fatalf("%v: %v", args, err)
	}
	return r
}

// cliCase is one command line and what it must do; want and wantErr are
// substrings of stdout and stderr, check inspects stdout further.
type cliCase struct {
	args    []string
	exit    int
	want    []string
	wantErr []string
	check   func(t *testing.T, stdout string)
}

func (c cliCase) run(t *testing.T, bin string, env ...string) {
	t.Helper()
	r := runCLI(t, bin, env, "", c.args...)
	if r.exit != c.exit {
		t.Fatalf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", c.args, r.exit, c.exit, r.stdout, r.stderr)
	}
	for _, w := range c.want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("%v: stdout lacks %q:\n%s", c.args, w, r.stdout)
		}
	}
	for _, w := range c.wantErr {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, r.stderr)
		}
	}
	if c.exit != 0 {
		if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 || r.stdout != "" {
			t.Errorf("%v: exit %d wants one line on stderr and nothing on stdout:\nstdout:\n%s\nstderr:\n%s", c.args, c.exit, r.stdout, r.stderr)
		}
	}
	if c.check != nil {
		c.check(t, r.stdout)
	}
}

// decodeInto returns a check that decodes stdout (--json) into v.
func decodeInto(v any) func(*testing.T, string) {
	return func(t *testing.T, stdout string) {
		t.Helper()
		if err := json.Unmarshal([]byte(stdout), v); err != nil {
			t.Fatalf("--json output is not JSON: %v\n%s", err, stdout)
		}
	}
}

// TestCLIAgainstEmulator drives `amqpemu groups` and `amqpemu subs` (the
// built binary) against one running emulator, in order: create, list
// (table, --json, pages, filters), rename, subscribe by name, status with a
// backlog, clear (asked, refused without a terminal, --yes), reset in each
// form, delete refused while subscribed, subs list/get/delete, the
// deletes afterwards, an online client in the status, and AMQPEMU_SERVER.
func TestCLIAgainstEmulator(t *testing.T) {
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir())
	server := "http://" + em.http
	step := func(c cliCase) {
		t.Helper()
		c.args = append(c.args, "--server", server)
		c.run(t, bin)
	}
	accumulation := func() int {
		t.Helper()
		var st apiGroupStatus
		step(cliCase{args: []string{"groups", "status", "billing_v2", "--json"}, check: decodeInto(&st)})
		return st.Accumulation
	}
	waitAccumulation := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for got := accumulation(); got != want; got = accumulation() {
			if time.Now().After(deadline) {
				t.Fatalf("accumulation %d, want %d", got, want)
			}
			time.Sleep(50 * time.Millisecond) // the consumer's counters follow the store asynchronously
		}
	}

	// Create and list.
	step(cliCase{args: []string{"groups", "create", "billing_app"}, want: []string{"ID", "NAME", "CREATED", "billing_app", "000100"}})
	var stock apiGroup
	step(cliCase{args: []string{"groups", "create", "stock_app", "--json"}, check: decodeInto(&stock)})
	if stock.ID == "" || stock.Name != "stock_app" || stock.CreatedAt.IsZero() {
		t.Fatalf("create --json: %+v", stock)
	}
	step(cliCase{args: []string{"groups", "create", "abc"}, exit: 1, wantErr: []string{"amqpemu groups create: InvalidGroupName: ", `"abc"`}})
	step(cliCase{args: []string{"groups", "list"}, want: []string{"DEFAULT_GROUP", "billing_app", stock.ID + "  stock_app"},
		check: func(t *testing.T, out string) {
			if strings.Contains(out, "page") {
				t.Errorf("one page has a footer:\n%s", out)
			}
		}})
	var page apiGroupPage
	step(cliCase{args: []string{"groups", "list", "--json"}, check: decodeInto(&page)})
	if page.Total != 3 || len(page.Groups) != 3 || page.PageCount != 1 || page.Groups[0].ID == "" {
		t.Fatalf("list --json: %+v", page)
	}
	billingID := page.Groups[slices.IndexFunc(page.Groups, func(g apiGroup) bool { return g.Name == "billing_app" })].ID
	step(cliCase{args: []string{"groups", "list", "--page-size", "2"}, want: []string{"page 1 of 2, 3 groups"}})
	step(cliCase{args: []string{"groups", "list", "--page-size", "2", "--page", "2"}, want: []string{"page 2 of 2, 3 groups"},
		check: func(t *testing.T, out string) {
			if n := strings.Count(out, "\n"); n != 3 { // header, one group, footer
				t.Errorf("page 2 of 2 has %d lines:\n%s", n, out)
			}
		}})
	step(cliCase{args: []string{"groups", "list", "--name", "bill", "--fuzzy"}, want: []string{"billing_app"},
		check: func(t *testing.T, out string) {
			if strings.Contains(out, "stock_app") || strings.Contains(out, "DEFAULT_GROUP") {
				t.Errorf("--name bill --fuzzy:\n%s", out)
			}
		}})
	step(cliCase{args: []string{"groups", "list", "--name", "nothing_like_it"}, want: []string{"no groups"}})
	step(cliCase{args: []string{"groups", "list", "--page", "0"}, exit: 1, wantErr: []string{"amqpemu groups list: InvalidPageParams: "}})

	// Rename, by name and by id.
	step(cliCase{args: []string{"groups", "rename", "billing_app", "billing_v2"}, want: []string{billingID, "billing_v2"}})
	step(cliCase{args: []string{"groups", "rename", stock.ID, "stock_v2"}, want: []string{stock.ID, "stock_v2"}})
	step(cliCase{args: []string{"groups", "rename", "no_such_group", "whatever"}, exit: 1, wantErr: []string{"amqpemu groups rename: GroupNotFound: "}})

	// Subscribe by name (the answer has ids), publish, see the backlog.
	var sub apiSubscription
	step(cliCase{args: []string{"subs", "set", "pk1", "--groups", "billing_v2,DEFAULT_GROUP", "--kinds", "data,status", "--json"}, check: decodeInto(&sub)})
	if !slices.Equal(sub.Groups, []string{billingID, "DEFAULT_GROUP"}) || !slices.Equal(sub.Kinds, []string{"data", "status"}) {
		t.Fatalf("subs set --json: %+v, want groups [%s DEFAULT_GROUP]", sub, billingID)
	}
	step(cliCase{args: []string{"subs", "set", "pk2", "--groups", stock.ID}, want: []string{"PRODUCT", "GROUPS", "KINDS", "pk2", stock.ID, "data"}})
	if out, err := exec.Command(bin, "publish", "--server", server, "--product", "pk1", "--device", "d1", "--count", "3", "hello").CombinedOutput(); err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	waitAccumulation(3)
	step(cliCase{args: []string{"groups", "status", "billing_v2"},
		want: []string{"accumulation:   3\n", "realtime rate:", "/min", "last consumed:  -\n", "clients:        0\n"}})

	// Clear: refused without a terminal to ask on, asked on one, --yes.
	step(cliCase{args: []string{"groups", "peek", "billing_v2", "--count", "2"}, want: []string{"MESSAGE ID", "/pk1/d1/user/update", `"hello"`},
		check: func(t *testing.T, out string) {
			if n := strings.Count(out, "\n"); n != 3 { // header, two messages
				t.Errorf("peek --count 2 printed %d lines:\n%s", n, out)
			}
		}})
	waitAccumulation(3) // peeking consumed nothing
	step(cliCase{args: []string{"groups", "clear", "billing_v2"}, exit: 2, wantErr: []string{"not a terminal", "--yes"}})
	for _, answer := range []string{"n\n", "y\n"} {
		var stdout, stderr bytes.Buffer
		err := groupsCommands().run(context.Background(), []string{"clear", "--server", server, "billing_v2"},
			stdio{in: strings.NewReader(answer), inTerminal: true, out: &stdout, err: &stderr})
		if !strings.Contains(stderr.String(), "clear 3 messages of billing_v2? [y/N] ") {
			t.Errorf("clear on a terminal asked %q", stderr.String())
		}
		if answer == "n\n" {
			if err == nil || !strings.Contains(err.Error(), "amqpemu groups clear: not confirmed") || report(err, io.Discard) != 1 {
				t.Errorf("answered no: %v", err)
			}
			waitAccumulation(3)
			continue
		}
		if err != nil || !strings.Contains(stdout.String(), "cleared the backlog of group billing_v2") {
			t.Errorf("answered yes: %v, %q", err, stdout.String())
		}
		waitAccumulation(0)
	}
	step(cliCase{args: []string{"groups", "reset", "billing_v2", "--to", "earliest"}, want: []string{"reset group billing_v2 to earliest"}})
	waitAccumulation(3)
	step(cliCase{args: []string{"groups", "clear", "billing_v2", "--yes"}, want: []string{"cleared the backlog of group billing_v2"}})
	waitAccumulation(0)

	// Reset in each form.
	step(cliCase{args: []string{"groups", "reset", "billing_v2", "--time", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, want: []string{"reset group billing_v2 to "}})
	waitAccumulation(3)
	step(cliCase{args: []string{"groups", "reset", "--to", "latest", "billing_v2"}, want: []string{"reset group billing_v2 to latest"}})
	waitAccumulation(0)
	var ok map[string]any
	step(cliCase{args: []string{"groups", "reset", "billing_v2", "--time", fmt.Sprint(time.Now().Add(-time.Hour).UnixMilli()), "--json"}, check: decodeInto(&ok)})
	if ok["ok"] != true || len(ok) != 1 {
		t.Errorf("reset --json: %v, want {\"ok\": true}", ok)
	}
	waitAccumulation(3)
	for _, bad := range [][]string{{}, {"--to", "earliest", "--time", "1"}, {"--to", "middle"}, {"--time", "yesterday"}} {
		step(cliCase{args: append([]string{"groups", "reset", "billing_v2"}, bad...), exit: 2, wantErr: []string{"amqpemu groups reset: ", "--help"}})
	}
	step(cliCase{args: []string{"groups", "reset", "billing_v2", "--time", "-5"}, exit: 1, wantErr: []string{"amqpemu groups reset: InvalidArgument: "}})

	// Per-partition resets (the group has no online client).
	step(cliCase{args: []string{"groups", "reset", "billing_v2", "--topic", "pk1", "--partition", "0=earliest", "--partition", "1=latest"},
		want: []string{"reset group billing_v2 in topic pk1: partition 0 to earliest, partition 1 to latest"}})
	step(cliCase{args: []string{"groups", "partitions", "billing_v2", "--topic", "pk1"}, want: []string{"PARTITION", "OFFSET", "PENDING"},
		check: func(t *testing.T, out string) {
			if n := strings.Count(out, "\n"); n != 5 { // header, four partitions
				t.Errorf("groups partitions printed %d lines:\n%s", n, out)
			}
		}})
	step(cliCase{args: []string{"groups", "partitions", "billing_v2"}, exit: 2, wantErr: []string{"--topic"}})
	step(cliCase{args: []string{"groups", "reset", "billing_v2", "--topic", "pk1", "--partition", "9=1"}, exit: 1, wantErr: []string{"amqpemu groups reset: PartitionNotFound: "}})
	step(cliCase{args: []string{"groups", "reset", "billing_v2", "--topic", "no_such_topic", "--partition", "0=1"}, exit: 1, wantErr: []string{"amqpemu groups reset: TopicNotFound: "}})
	for _, bad := range [][]string{{"--topic", "pk1"}, {"--partition", "0=1"}, {"--topic", "pk1", "--partition", "x=1"}, {"--topic", "pk1", "--partition", "0=soon"},
		{"--to", "earliest", "--topic", "pk1", "--partition", "0=1"}, {"--topic", "pk1", "--partition", "0=1", "--partition", "0=2"}} {
		step(cliCase{args: append([]string{"groups", "reset", "billing_v2"}, bad...), exit: 2, wantErr: []string{"amqpemu groups reset: ", "--help"}})
	}
	step(cliCase{args: []string{"groups", "reset", "billing_v2", "--to", "latest"}, want: []string{"reset group billing_v2 to latest"}})
	waitAccumulation(0)

	// Deleting a subscribed group is refused with the API's message.
	step(cliCase{args: []string{"groups", "delete", "billing_v2"}, exit: 1,
		wantErr: []string{"amqpemu groups delete: GroupInUse: consumer group still has subscriptions", "pk1"}})
	step(cliCase{args: []string{"groups", "delete", "DEFAULT_GROUP"}, exit: 1, wantErr: []string{"amqpemu groups delete: DefaultGroup: "}})

	// Subscriptions.
	step(cliCase{args: []string{"subs", "list"}, want: []string{"PRODUCT", "GROUPS", "KINDS", "pk1", billingID + ",DEFAULT_GROUP", "data,status", "pk2"},
		check: func(t *testing.T, out string) {
			if strings.Index(out, "pk1") > strings.Index(out, "pk2") {
				t.Errorf("products out of order:\n%s", out)
			}
		}})
	var all struct{ Subscriptions map[string]apiSubscription }
	step(cliCase{args: []string{"subs", "list", "--json"}, check: decodeInto(&all)})
	if len(all.Subscriptions) != 2 || !slices.Equal(all.Subscriptions["pk1"].Groups, sub.Groups) {
		t.Errorf("subs list --json: %+v", all)
	}
	step(cliCase{args: []string{"subs", "get", "pk1"}, want: []string{"pk1", billingID, "data,status"}})
	step(cliCase{args: []string{"subs", "get", "pk1", "--json"}, check: decodeInto(&sub)})
	step(cliCase{args: []string{"subs", "set", "pk1"}, exit: 2, wantErr: []string{"missing --groups"}})
	step(cliCase{args: []string{"subs", "set", "pk1", "--groups", "no_such_group"}, exit: 1, wantErr: []string{"amqpemu subs set: GroupNotFound: "}})
	step(cliCase{args: []string{"subs", "set", "pk1", "--groups", "billing_v2", "--kinds", "smoke"}, exit: 1, wantErr: []string{"amqpemu subs set: InvalidArgument: ", "smoke"}})
	step(cliCase{args: []string{"subs", "delete", "pk1"}, want: []string{"deleted the subscription of product pk1"}})
	step(cliCase{args: []string{"subs", "delete", "pk2", "--json"}, check: decodeInto(&ok)})
	step(cliCase{args: []string{"subs", "get", "pk1"}, want: []string{"product pk1 has no subscription"}})
	step(cliCase{args: []string{"subs", "list"}, want: []string{"no subscriptions"}})

	// Now the groups go.
	step(cliCase{args: []string{"groups", "delete", "billing_v2"}, want: []string{"deleted group billing_v2"}})
	ok = nil
	step(cliCase{args: []string{"groups", "delete", stock.ID, "--json"}, check: decodeInto(&ok)})
	if ok["ok"] != true {
		t.Errorf("delete --json: %v", ok)
	}
	step(cliCase{args: []string{"groups", "status", "billing_v2"}, exit: 1, wantErr: []string{"amqpemu groups status: GroupNotFound: "}})
	step(cliCase{args: []string{"groups", "list", "--json"}, check: decodeInto(&page)})
	if page.Total != 1 || page.Groups[0].ID != "DEFAULT_GROUP" {
		t.Errorf("groups left: %+v", page)
	}

	// An online client shows in the status table.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sess := amqpSession(t, ctx, em.addr)
	if _, err := sess.NewReceiver(ctx, "DEFAULT_GROUP", nil); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r := runCLI(t, bin, nil, "", "groups", "status", "DEFAULT_GROUP", "--server", server)
		if r.exit == 0 && strings.Contains(r.stdout, "clients:        1\n") {
			for _, w := range []string{"CLIENT ID", "ADDRESS", "ONLINE SINCE", "REALTIME RATE", "BACKLOG RATE", "127.0.0.1:"} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("status with a client lacks %q:\n%s", w, r.stdout)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed the client: %+v", r)
		}
	}

	// AMQPEMU_SERVER is the default --server; the flag wins over it.
	cliCase{args: []string{"groups", "list"}, want: []string{"DEFAULT_GROUP"}}.run(t, bin, "AMQPEMU_SERVER="+server)
	cliCase{args: []string{"subs", "list"}, want: []string{"no subscriptions"}}.run(t, bin, "AMQPEMU_SERVER="+em.http) // host:port
	cliCase{args: []string{"groups", "list", "--server", server}, want: []string{"DEFAULT_GROUP"}}.run(t, bin, "AMQPEMU_SERVER=http://127.0.0.1:1")
}

// TestCLINoEmulator: a --server (or AMQPEMU_SERVER) where nothing listens
// is one clear line and exit 1; a --server that is no URL is a usage error.
func TestCLINoEmulator(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	bin := buildBinary(t)
	want := "no emulator at " + dead + " (is `amqpemu serve` running?)"
	cliCase{args: []string{"groups", "list", "--server", dead}, exit: 1, wantErr: []string{"amqpemu groups list: " + want}}.run(t, bin)
	cliCase{args: []string{"subs", "get", "pk"}, exit: 1, wantErr: []string{"amqpemu subs get: " + want}}.run(t, bin, "AMQPEMU_SERVER="+dead)
	cliCase{args: []string{"groups", "list", "--server", "ftp://x"}, exit: 2, wantErr: []string{`--server "ftp://x"`, "--help"}}.run(t, bin)
}

// TestCLIHelp: amqpemu help lists the client commands; each set's --help
// lists its subcommands with their summaries; each subcommand's --help
// (and help SET SUB) shows its usage, flags and an example; a wrong
// command line is one line with a hint and exit 2.
func TestCLIHelp(t *testing.T) {
	bin := buildBinary(t)
	for _, args := range [][]string{{"help"}, {"--help"}} {
		cliCase{args: args, want: []string{"amqpemu groups COMMAND", "amqpemu subs COMMAND", "amqpemu alerts COMMAND", "alert rules (see amqpemu alerts --help)", "amqpemu devices COMMAND"}}.run(t, bin)
	}
	for _, set := range []*commandSet{groupsCommands(), subsCommands(), devicesCommands()} {
		var lines []string
		for _, sub := range set.cmds {
			lines = append(lines, "  "+sub.name+" ", sub.summary+"\n")
		}
		for _, args := range [][]string{{set.name, "--help"}, {set.name, "-h"}, {set.name, "help"}, {"help", set.name}} {
			cliCase{args: args, want: append(lines, "Usage: amqpemu "+set.name+" COMMAND", "--server URL", "--json")}.run(t, bin)
		}
		for _, sub := range set.cmds {
			name := set.name + " " + sub.name
			want := []string{"Usage: amqpemu " + name, "Example: amqpemu " + name, "-server", "-json", "-timeout", "-access-key-id"}
			help := runCLI(t, bin, nil, "", set.name, sub.name, "--help")
			cliCase{args: []string{set.name, sub.name, "--help"}, want: want}.run(t, bin)
			cliCase{args: []string{"help", set.name, sub.name}, check: func(t *testing.T, out string) {
				if out != help.stdout {
					t.Errorf("help %s differs from %s --help:\n%s", name, name, out)
				}
			}}.run(t, bin)
			cliCase{args: []string{set.name, sub.name, "--frobnicate"}, exit: 2, wantErr: []string{"amqpemu " + name + ": ", "-frobnicate"}}.run(t, bin)
			if len(sub.args) > 0 {
				cliCase{args: []string{set.name, sub.name}, exit: 2, wantErr: []string{"amqpemu " + name + ": missing " + sub.args[0]}}.run(t, bin)
			}
			extra := append(slices.Repeat([]string{"x_arg"}, len(sub.args)), "surplus")
			cliCase{args: append([]string{set.name, sub.name}, extra...), exit: 2, wantErr: []string{`unexpected argument "surplus"`}}.run(t, bin)
		}
		cliCase{args: []string{set.name, "frobnicate"}, exit: 2, wantErr: []string{"amqpemu " + set.name + `: unknown command "frobnicate"`}}.run(t, bin)
		cliCase{args: []string{set.name}, exit: 2, wantErr: []string{"amqpemu " + set.name + ": missing command"}}.run(t, bin)
	}
	cliCase{args: []string{"groups", "delete", ""}, exit: 2, wantErr: []string{"GROUP is empty"}}.run(t, bin)
}

// TestCLIClient checks client.do against a stand-in API: the access key
// from the environment goes as HTTP Basic, a 401 says how to give it, an
// answer that is not the API's error shows the status and body, and a
// server that does not answer in --timeout says so.
func TestCLIClient(t *testing.T) {
	t.Setenv("AMQPEMU_ACCESS_KEY_ID", "ak")
	t.Setenv("AMQPEMU_ACCESS_KEY_SECRET", "sk")
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch id, secret, _ := r.BasicAuth(); {
		case r.URL.Path == "/api/v1/groups/slow/status":
			<-r.Context().Done()
			return
		case r.URL.Path == "/api/v1/groups/proxied/status":
			http.Error(w, "upstream down", http.StatusBadGateway)
			return
		case id != "ak" || secret != "sk":
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"code":"Unauthorized","message":"the REST API needs HTTP Basic authentication with the access key id and secret"}`)
			return
		}
		io.WriteString(w, `{"groups":[{"id":"g1","name":"group_one","createdAt":"2025-06-01T08:00:00Z"}],"total":1,"page":1,"pageSize":1000,"pageCount":1}`)
	}))
	defer api.Close()
	run := func(args ...string) (string, error) {
		var stdout bytes.Buffer
		err := groupsCommands().run(context.Background(), append(args, "--server", api.URL), stdio{in: strings.NewReader(""), out: &stdout, err: io.Discard})
		return stdout.String(), err
	}
	if out, err := run("list"); err != nil || out != "ID  NAME       CREATED\ng1  group_one  2025-06-01T08:00:00Z\n" {
		t.Errorf("list with the key from the environment: %v\n%q", err, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "--access-key-secret", "wrong"}, "amqpemu groups list: Unauthorized: the REST API needs HTTP Basic authentication with the access key id and secret (give --access-key-id and --access-key-secret"},
		{[]string{"status", "proxied"}, "amqpemu groups status: HTTP 502 Bad Gateway: upstream down"},
		{[]string{"status", "slow", "--timeout", "200ms"}, "amqpemu groups status: no answer from " + api.URL + " within 200ms (--timeout)"},
	} {
		_, err := run(c.args...)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || report(err, io.Discard) != 1 {
			t.Errorf("%v: %v, want %q and exit 1", c.args, err, c.want)
		}
	}
}

// TestSubsSetKeepsPlatformFlags: `subs set` changes groups and kinds and
// keeps the SubscribeFlags the OpenAPI (here the REST API) stored.
func TestSubsSetKeepsPlatformFlags(t *testing.T) {
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir())
	server := "http://" + em.http
	req, _ := http.NewRequest(http.MethodPut, server+"/api/v1/products/pkF/subscription",
		strings.NewReader(`{"groups":["DEFAULT_GROUP"],"subscribeFlags":{"jt808DeviceDataFlag":true}}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %v %v", resp, err)
	}
	resp.Body.Close()
	var sub apiSubscription
	cliCase{args: []string{"subs", "set", "pkF", "--groups", "DEFAULT_GROUP", "--kinds", "data,status", "--json", "--server", server}, check: decodeInto(&sub)}.run(t, bin)
	if !sub.Flags["jt808DeviceDataFlag"] || !slices.Equal(sub.Kinds, []string{"data", "status"}) {
		t.Fatalf("after subs set: %+v", sub)
	}
}
