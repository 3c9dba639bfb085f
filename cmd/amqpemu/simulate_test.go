package main

import (
	"strings"
	"testing"
	"time"
)

// TestSimulate runs `amqpemu simulate` against the binary: its devices are
// registered, sign in over MQTT and publish; what they published is what a
// group subscribed to the product's data holds, custom topics and property
// posts alike.
func TestSimulate(t *testing.T) {
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir())
	server := "http://" + em.http
	backlog := func() int {
		t.Helper()
		var st apiGroupStatus
		cliCase{args: []string{"groups", "status", "sim_app", "--json", "--server", server}, check: decodeInto(&st)}.run(t, bin)
		return st.Accumulation
	}
	waitBacklog := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for got := backlog(); got != want; got = backlog() {
			if time.Now().After(deadline) {
				t.Fatalf("sim_app holds %d, want %d", got, want)
			}
			time.Sleep(50 * time.Millisecond) // the consumer's counts follow the stream
		}
	}

	cliCase{args: []string{"groups", "create", "sim_app", "--server", server}}.run(t, bin)
	cliCase{args: []string{"subs", "set", "pkSim", "--groups", "sim_app", "--kinds", "data", "--server", server}}.run(t, bin)
	r := runCLI(t, bin, nil, "", "simulate", "--server", server, "--product", "pkSim", "--devices", "3",
		"--rate", "200", "--count", "30", "--topic", "user/update", "--payload", `{"n": {{.Seq}}, "d": "{{.Device}}"}`)
	if r.exit != 0 || !strings.Contains(r.stdout, "devices connected: 3 (failed 0)") || !strings.Contains(r.stdout, "published: 30 in") {
		t.Fatalf("simulate custom topic: exit %d\n%s%s", r.exit, r.stdout, r.stderr)
	}
	waitBacklog(30)
	// The same devices again (already registered), now posting properties.
	r = runCLI(t, bin, nil, "", "simulate", "--server", server, "--product", "pkSim", "--devices", "3", "--rate", "200", "--count", "12")
	if r.exit != 0 || !strings.Contains(r.stdout, "published: 12 in") {
		t.Fatalf("simulate property posts: exit %d\n%s%s", r.exit, r.stdout, r.stderr)
	}
	waitBacklog(42)
	cliCase{args: []string{"devices", "list", "pkSim", "--server", server}, want: []string{"sim1", "sim2", "sim3"}}.run(t, bin)

	r = runCLI(t, bin, nil, "", "simulate", "--server", server, "--product", "pkSim", "--payload", "{{.Nope}}")
	if r.exit != 2 || !strings.Contains(r.stderr, "payload template") {
		t.Fatalf("bad template: exit %d\n%s", r.exit, r.stderr)
	}
}
