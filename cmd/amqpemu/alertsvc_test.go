package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeAlerts runs the binary with an alert rule that breaches from the
// start: the evaluator serve runs calls the webhook within two 5 s periods,
// the metric shows it firing, and the rule is still there after a restart.
func TestServeAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for real statistical periods (up to 10 s)")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	em := startEmulator(t, bin, dir)
	got := make(chan url.Values, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		got <- form
	}))
	defer hook.Close()

	server := "http://" + em.http
	step := func(c cliCase) {
		t.Helper()
		c.args = append(c.args, "--server", server)
		c.run(t, bin)
	}
	step(cliCase{args: []string{"alerts", "list"}, want: []string{"no alert rules"}})
	step(cliCase{args: []string{"alerts", "create", "bad", "--group", "DEFAULT_GROUP", "--metric", "Nonsense", "--comparison", ">=",
		"--threshold", "0", "--webhook", hook.URL}, exit: 1, wantErr: []string{"amqpemu alerts create: InvalidArgument: ", "metric"}})
	step(cliCase{args: []string{"alerts", "create", "bad", "--threshold", "x"}, exit: 2, wantErr: []string{"--threshold"}})
	var created apiAlert
	step(cliCase{args: []string{"alerts", "create", "always", "--group", "DEFAULT_GROUP", "--metric", "AccumulationCount",
		"--comparison", ">=", "--threshold", "0", "--period", "5", "--times", "1", "--webhook", hook.URL, "--json"}, check: decodeInto(&created)})
	if created.ID == "" || created.Comparison != "GreaterThanOrEqualToThreshold" || created.Period != 5 || !created.Enabled {
		t.Fatalf("create --json: %+v", created)
	}
	select {
	case form := <-got:
		if form.Get("alertState") != "ALERT" || form.Get("ruleId") != created.ID || form.Get("userId") != defaultAccessKeyID {
			t.Fatalf("callback %v", form)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no callback within 30 s")
	}
	step(cliCase{args: []string{"alerts", "list"}, want: []string{created.ID, "always", "DEFAULT_GROUP", "Average(AccumulationCount) GreaterThanOrEqualToThreshold 0", "ALERT"}})
	step(cliCase{args: []string{"alerts", "get", created.ID}, want: []string{"webhook:", hook.URL, "ALERT"}})
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := runCLI(t, bin, nil, "", "alerts", "history", created.ID, "--server", server)
		if strings.Contains(r.stdout, "ALERT") && strings.Contains(r.stdout, "200") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("history without the delivered alert:\n%s%s", r.stdout, r.stderr)
		}
		time.Sleep(100 * time.Millisecond) // the outcome is recorded after the webhook answers
	}
	waitMetrics(t, em.http, `amqpemu_alert_firing{group="DEFAULT_GROUP",rule="`+created.ID+`"} 1`)

	if err := em.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := em.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	em = startEmulator(t, bin, dir)
	resp, err := http.Get("http://" + em.http + "/api/v1/alerts/" + created.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rule after restart: %s", resp.Status)
	}
	server = "http://" + em.http
	step(cliCase{args: []string{"alerts", "delete", created.ID}, want: []string{"deleted alert rule " + created.ID}})
	step(cliCase{args: []string{"alerts", "get", created.ID}, exit: 1, wantErr: []string{"amqpemu alerts get: AlertNotFound: "}})
}
