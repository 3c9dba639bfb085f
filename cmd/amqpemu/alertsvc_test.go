package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
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

	rule, _ := json.Marshal(map[string]any{"name": "always", "group": "DEFAULT_GROUP", "metric": "AccumulationCount",
		"comparison": ">=", "threshold": 0, "period": 5, "times": 1, "webhook": hook.URL})
	resp, err := http.Post("http://"+em.http+"/api/v1/alerts", "application/json", bytes.NewReader(rule))
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %s", resp.Status)
	}
	select {
	case form := <-got:
		if form.Get("alertState") != "ALERT" || form.Get("ruleId") != created.ID || form.Get("userId") != defaultAccessKeyID {
			t.Fatalf("callback %v", form)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no callback within 30 s")
	}
	waitMetrics(t, em.http, `amqpemu_alert_firing{group="DEFAULT_GROUP",rule="`+created.ID+`"} 1`)

	if err := em.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := em.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	em = startEmulator(t, bin, dir)
	resp, err = http.Get("http://" + em.http + "/api/v1/alerts/" + created.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rule after restart: %s", resp.Status)
	}
}
