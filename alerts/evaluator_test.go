package alerts_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/alerts"
	"github.com/amqpemu/amqpemu/broker"
)

// Times consecutive breaching periods are needed: Times-1 do nothing, a
// clearing period starts the count again.
func TestConsecutivePeriods(t *testing.T) {
	f := newFixture(t)
	g := f.group("orders_app")
	r := f.rule(g, func(s *alerts.RuleSpec) { s.Times = ptr(3) })

	f.feed(g, 0, 150, 150, 50, 150, 150, 10)
	f.wantCalls()
	if st := f.groupStatus(r.ID, g); st.State != alerts.StateOK || st.Consecutive != 2 || st.Value == nil || *st.Value != 150 {
		t.Fatalf("after 2 breaching periods: %+v", st)
	}
	f.feed(g, 6, 150, 150, 150, 150)
	calls := f.wantCalls(alerts.StateAlert)
	st := f.groupStatus(r.ID, g)
	if st.State != alerts.StateAlert || st.Consecutive != 3 || !st.LastNotifiedAt.Equal(t0.Add(9*time.Minute)) {
		t.Fatalf("after 3 breaching periods: %+v", st)
	}
	form := calls[0].form(t)
	if form.Get("curValue") != "150" || form.Get("timestamp") != strconv.FormatInt(t0.Add(9*time.Minute).UnixMilli(), 10) {
		t.Fatalf("callback %v", form)
	}
}

// Before any period closed the state is INSUFFICIENT_DATA; a period
// without samples is skipped, neither breaching nor clearing.
func TestInsufficientDataAndGaps(t *testing.T) {
	f := newFixture(t)
	g := f.group("gaps_app")
	r := f.rule(g, func(s *alerts.RuleSpec) { s.Times = ptr(2) })
	f.feed(g, 0, 150)
	if st := f.groupStatus(r.ID, g); st.State != alerts.StateInsufficientData || st.Value != nil {
		t.Fatalf("before a period closed: %+v", st)
	}
	f.feed(g, 5, 150) // periods 1 to 4 had no samples
	if st := f.groupStatus(r.ID, g); st.State != alerts.StateOK || st.Consecutive != 1 {
		t.Fatalf("after one breaching period: %+v", st)
	}
	f.feed(g, 9, 0)
	f.wantCalls(alerts.StateAlert)
}

// A period's statistic is the Average, Maximum or Minimum of its samples.
func TestStatistics(t *testing.T) {
	f := newFixture(t)
	g := f.group("stats_app")
	avg := f.rule(g, func(s *alerts.RuleSpec) { s.Statistics = "Average"; s.Webhook = f.hook.URL + "/avg" })
	mx := f.rule(g, func(s *alerts.RuleSpec) { s.Statistics = "Maximum"; s.Webhook = f.hook.URL + "/max" })
	mn := f.rule(g, func(s *alerts.RuleSpec) { s.Statistics = "Minimum"; s.Webhook = f.hook.URL + "/min" })
	mnLow := f.rule(g, func(s *alerts.RuleSpec) {
		s.Statistics, s.Comparison, s.Threshold = "Minimum", "<=", ptr(10.0)
		s.Webhook = f.hook.URL + "/minlow"
	})
	for i, v := range []int{10, 200, 30} {
		f.src.set(g, v)
		f.eval(time.Duration(i*20) * time.Second)
	}
	f.eval(time.Minute)
	calls := f.flush()
	got := map[string]string{}
	for _, c := range calls {
		got[c.path] = c.form(t).Get("curValue")
	}
	if len(calls) != 2 || got["/max"] != "200" || got["/minlow"] != "10" {
		t.Fatalf("calls %v, want /max with 200 and /minlow with 10", got)
	}
	for r, want := range map[string]float64{avg.ID: 80, mx.ID: 200, mn.ID: 10, mnLow.ID: 10} {
		if st := f.groupStatus(r, g); st.Value == nil || *st.Value != want {
			t.Errorf("rule %s: value %v, want %v", r, st.Value, want)
		}
	}
}

// Inside the mute period a rule still in ALERT is not reported again; once
// it has passed, one more notification is sent.
func TestSilenceTime(t *testing.T) {
	f := newFixture(t)
	g := f.group("mute_app")
	f.rule(g, func(s *alerts.RuleSpec) { s.SilenceTime = ptr(600) })
	f.feed(g, 0, 150, 150) // ALERT at +1m
	f.wantCalls(alerts.StateAlert)
	f.feed(g, 2, 150, 150, 150, 150, 150, 150, 150, 150, 150) // closes up to +10m: inside the mute
	f.wantCalls(alerts.StateAlert)
	f.feed(g, 11, 150) // +11m: 600 s after the first
	calls := f.wantCalls(alerts.StateAlert, alerts.StateAlert)
	second := calls[1].form(t)
	if second.Get("preTriggerLevel") != "CRITICAL" || second.Get("lastTime") != "10分钟" || second.Get("triggerLevel") != "CRITICAL" {
		t.Fatalf("second notification %v", second)
	}
	f.feed(g, 12, 150, 150)
	f.wantCalls(alerts.StateAlert, alerts.StateAlert)
}

// A non-breaching period ends the ALERT with a recovery notification.
func TestRecovery(t *testing.T) {
	f := newFixture(t)
	g := f.group("recover_app")
	r := f.rule(g, func(s *alerts.RuleSpec) { s.SilenceTime = ptr(86400) })
	f.feed(g, 0, 150, 150, 150, 20, 20)
	calls := f.wantCalls(alerts.StateAlert, alerts.StateOK)
	ok := calls[1].form(t)
	if ok.Get("triggerLevel") != "OK" || ok.Get("preTriggerLevel") != "CRITICAL" || ok.Get("curValue") != "20" || ok.Get("lastTime") != "3分钟" {
		t.Fatalf("recovery %v", ok)
	}
	if first := calls[0].form(t); first.Get("preTriggerLevel") != "null" || first.Get("lastTime") != "0分钟" {
		t.Fatalf("first alert %v", first)
	}
	if st := f.groupStatus(r.ID, g); st.State != alerts.StateOK || st.Consecutive != 0 {
		t.Fatalf("after recovery %+v", st)
	}
	// A new ALERT after the recovery is reported, whatever the mute.
	f.feed(g, 5, 150, 150)
	calls = f.wantCalls(alerts.StateAlert, alerts.StateOK, alerts.StateAlert)
	if calls[2].form(t).Get("preTriggerLevel") != "OK" {
		t.Fatalf("alert after OK: %s", calls[2].body)
	}
}

// Outside the effective interval nothing is evaluated and the count starts
// again; an interval may wrap midnight.
func TestEffectiveInterval(t *testing.T) {
	f := newFixture(t)
	g := f.group("window_app")
	// t0 is 12:00 UTC.
	morning := f.rule(g, func(s *alerts.RuleSpec) { s.EffectiveInterval = "08:00-11:59"; s.Webhook = f.hook.URL + "/morning" })
	night := f.rule(g, func(s *alerts.RuleSpec) {
		s.EffectiveInterval, s.Times = "22:00-06:00", ptr(2)
		s.Webhook = f.hook.URL + "/night"
	})
	f.feed(g, 0, 150, 150, 150)
	f.wantCalls()
	for _, id := range []string{morning.ID, night.ID} {
		if st := f.status(id); len(st.Groups) != 0 {
			t.Fatalf("rule %s evaluated outside its interval: %+v", id, st.Groups)
		}
	}
	// 23:58 to 00:01 is inside the night rule: periods 23:58 and 23:59
	// breach, the ALERT comes at midnight.
	night0 := 11*60 + 58
	f.feed(g, night0, 150, 150, 150)
	calls := f.wantCalls(alerts.StateAlert)
	if calls[0].path != "/night" {
		t.Fatalf("call to %s", calls[0].path)
	}
	if st := f.groupStatus(night.ID, g); st.Consecutive != 2 {
		t.Fatalf("night rule %+v", st)
	}
	// At 06:01 the night rule is outside: the count is reset, nothing is
	// sent, not even for the clearing value.
	f.feed(g, night0+8*60+3, 10, 10)
	f.wantCalls(alerts.StateAlert)
	if st := f.groupStatus(night.ID, g); st.Consecutive != 0 || st.State != alerts.StateAlert {
		t.Fatalf("night rule outside its interval %+v", st)
	}
}

// A webhook failing twice is tried a third time; one failing always is
// given up after 3 attempts. History records both.
func TestWebhookRetries(t *testing.T) {
	f := newFixture(t)
	g := f.group("retry_app")
	f.hook.status = func(n int) int {
		if n <= 2 || n >= 4 { // 500, 500, 200, then 500 for good
			return 500
		}
		return 200
	}
	r := f.rule(g)
	f.feed(g, 0, 150, 20) // ALERT, then OK
	f.feed(g, 2, 20)
	if calls := f.flush(); len(calls) != 6 {
		t.Fatalf("%d calls, want 3 for each notification", len(calls))
	}
	h, err := f.ev.History(ctxT(t), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 {
		t.Fatalf("history %+v", h)
	}
	failed, delivered := h[0], h[1] // newest first
	if delivered.AlertState != alerts.StateAlert || delivered.Attempts != 3 || delivered.HTTPStatus != 200 || delivered.Error != "" {
		t.Fatalf("delivered %+v", delivered)
	}
	if failed.AlertState != alerts.StateOK || failed.Attempts != 3 || failed.HTTPStatus != 500 || !strings.Contains(failed.Error, "500") {
		t.Fatalf("failed %+v", failed)
	}
	if failed.Group != g || failed.GroupName != "retry_app" || failed.Value != 20 || !failed.Time.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("failed %+v", failed)
	}
	// An unreachable webhook fails too.
	dead := newReceiver(t)
	dead.Close()
	r2 := f.rule(g, func(s *alerts.RuleSpec) { s.Webhook = dead.URL })
	f.feed(g, 3, 150, 150)
	f.flush()
	if h, _ := f.ev.History(ctxT(t), r2.ID); len(h) != 1 || h[0].Attempts != 3 || h[0].HTTPStatus != 0 || h[0].Error == "" {
		t.Fatalf("unreachable webhook: %+v", h)
	}
}

// A restart in the middle keeps the count of consecutive periods and the
// mute, and the recovery is still sent.
func TestRestart(t *testing.T) {
	f := newFixture(t)
	g := f.group("restart_app")
	r := f.rule(g, func(s *alerts.RuleSpec) { s.Times, s.SilenceTime = ptr(3), ptr(3600) })
	f.feed(g, 0, 150, 150, 150) // two closed, the third open with a sample
	f.restart()
	if st := f.groupStatus(r.ID, g); st.Consecutive != 2 || st.State != alerts.StateOK {
		t.Fatalf("after restart %+v", st)
	}
	f.feed(g, 3, 150) // closes the third
	f.wantCalls(alerts.StateAlert)
	f.restart()
	f.feed(g, 4, 150, 150) // breaching inside the mute: no second ALERT
	f.wantCalls(alerts.StateAlert)
	f.restart()
	f.feed(g, 6, 10, 10)
	f.wantCalls(alerts.StateAlert, alerts.StateOK)
	h, err := f.ev.History(ctxT(t), r.ID)
	if err != nil || len(h) != 2 || h[0].AlertState != alerts.StateOK || h[1].AlertState != alerts.StateAlert {
		t.Fatalf("history after restarts: %+v, %v", h, err)
	}
	rs, err := f.ev.List(ctxT(t))
	if err != nil || len(rs) != 1 || rs[0].ID != r.ID || rs[0].Name != r.Name || !rs[0].CreatedAt.Equal(r.CreatedAt) {
		t.Fatalf("rules after restart: %+v, %v", rs, err)
	}
}

// A "*" rule watches every group, each with its own state; groups made
// later join, deleted ones leave.
func TestAllGroups(t *testing.T) {
	f := newFixture(t)
	a, b := f.group("group_a"), f.group("group_b")
	f.src.set(broker.DefaultGroupID, 0)
	f.src.set(b, 0)
	r := f.rule("*", func(s *alerts.RuleSpec) { s.SilenceTime = ptr(86400) })
	f.feed(a, 0, 150, 150)
	calls := f.wantCalls(alerts.StateAlert)
	form := calls[0].form(t)
	if form.Get("groupId") != a || form.Get("instanceName") != "group_a" || form.Get("dimensions") != "{groupId="+a+", groupName=group_a}" {
		t.Fatalf("callback %v", form)
	}
	if n := len(f.status(r.ID).Groups); n != 3 {
		t.Fatalf("%d group states, want 3 (DEFAULT_GROUP, a, b)", n)
	}
	c := f.group("group_c")
	f.src.set(c, 500)
	f.feed(a, 2, 150, 150)
	calls = f.wantCalls(alerts.StateAlert, alerts.StateAlert)
	if calls[1].form(t).Get("groupId") != c {
		t.Fatalf("second call %s", calls[1].body)
	}
	if err := f.b.DeleteGroup(ctxT(t), a); err != nil {
		t.Fatal(err)
	}
	f.eval(4 * time.Minute)
	for _, st := range f.status(r.ID).Groups {
		if st.Group == a {
			t.Fatal("the deleted group keeps a state")
		}
	}
	if n := len(f.status(r.ID).Groups); n != 3 {
		t.Fatalf("%d group states, want 3 (DEFAULT_GROUP, b, c)", n)
	}
}

// A rule on one group forgets it when it is deleted.
func TestGroupDeleted(t *testing.T) {
	f := newFixture(t)
	g := f.group("doomed_app")
	r := f.rule(g)
	f.feed(g, 0, 1)
	if err := f.b.DeleteGroup(ctxT(t), g); err != nil {
		t.Fatal(err)
	}
	f.eval(time.Minute)
	if st := f.status(r.ID); len(st.Groups) != 0 {
		t.Fatalf("states %+v", st.Groups)
	}
}

// The form body carries the platform's current field set, signed.
func TestFormBody(t *testing.T) {
	f := newFixture(t)
	g := f.group("form_app")
	r := f.rule(g, func(s *alerts.RuleSpec) { s.Name = "积压 high"; s.Metric = "consumptionRate"; s.Comparison = ">" })
	f.src.mu.Lock()
	f.src.values = map[string]broker.GroupStats{g: {RealtimeRate: 120, BacklogRate: 30}}
	f.src.mu.Unlock()
	f.eval(0)
	f.eval(time.Minute)
	calls := f.wantCalls(alerts.StateAlert)
	if ct := calls[0].contentType; ct != "application/x-www-form-urlencoded" {
		t.Fatalf("Content-Type %q", ct)
	}
	form := calls[0].form(t)
	want := map[string]string{
		"alertName": "积压 high", "alertState": "ALERT", "curValue": "150", "dimensions": "{groupId=" + g + ", groupName=form_app}",
		"expression": "$Average>100", "metricName": "ConsumerSpeed", "rawMetricName": "ConsumerSpeed", "metricProject": "acs_iot",
		"namespace": "acs_iot", "productGroupName": "IoT Platform-AMQP Consumer Group", "instanceName": "form_app", "groupId": g,
		"ruleId": r.ID, "timestamp": strconv.FormatInt(t0.Add(time.Minute).UnixMilli(), 10), "triggerLevel": "CRITICAL", "preTriggerLevel": "null", "lastTime": "0分钟",
		"regionId": "local", "regionName": "local", "unit": "count/min", "userId": "test-user",
	}
	for k, v := range want {
		if got := form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if id := form.Get("transId"); len(id) != 36 || strings.Count(id, "-") != 4 {
		t.Errorf("transId %q", id)
	}
	if len(form) != len(want)+2 {
		t.Errorf("%d fields, want %d: %v", len(form), len(want)+2, form)
	}
	// signature: base64 HMAC-SHA1 with the secret over the other fields, sorted, k=v joined by '&'.
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+form.Get(k))
	}
	mac := hmac.New(sha1.New, []byte("test-secret"))
	mac.Write([]byte(strings.Join(parts, "&")))
	if got, want := form.Get("signature"), base64.StdEncoding.EncodeToString(mac.Sum(nil)); got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
	if !strings.HasPrefix(r.ID, "alarmRule_uuid_") {
		t.Errorf("rule id %q", r.ID)
	}
}

// The JSON body has the same fields, numbers as numbers and dimensions as
// an object.
func TestJSONBody(t *testing.T) {
	f := newFixture(t)
	g := f.group("json_app")
	r := f.rule(g, func(s *alerts.RuleSpec) {
		s.WebhookFormat = "json"
		s.Metric = "onlineClients"
		s.Comparison = "<"
		s.Threshold = ptr(1.0)
	})
	f.src.mu.Lock()
	f.src.values = map[string]broker.GroupStats{g: {}}
	f.src.mu.Unlock()
	f.eval(0)
	f.eval(time.Minute)
	calls := f.flush()
	if len(calls) != 1 || calls[0].contentType != "application/json" {
		t.Fatalf("calls %v", calls)
	}
	m := decodeJSON(t, calls[0].body)
	if m["curValue"] != 0.0 || m["timestamp"] != float64(t0.Add(time.Minute).UnixMilli()) || m["alertState"] != "ALERT" ||
		m["ruleId"] != r.ID || m["unit"] != "count" || m["metricName"] != "OnlineClientCount" || m["expression"] != "$Average<1" ||
		m["preTriggerLevel"] != nil || m["signature"] == "" {
		t.Fatalf("body %s", calls[0].body)
	}
	dims, ok := m["dimensions"].(map[string]any)
	if !ok || dims["groupId"] != g || dims["groupName"] != "json_app" {
		t.Fatalf("dimensions %v", m["dimensions"])
	}
	if len(m) != 23 {
		t.Fatalf("%d fields: %s", len(m), calls[0].body)
	}
}

// The metric values come from the broker's own group status.
func TestRealAccumulation(t *testing.T) {
	f := newFixture(t)
	ctx := ctxT(t)
	f.rule(broker.DefaultGroupID, func(s *alerts.RuleSpec) { s.Threshold = ptr(3.0) })
	for range 3 {
		if _, err := f.b.Publish(ctx, broker.DeviceMessage{ProductKey: "pk", DeviceName: "dev", Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for { // JetStream counts a message pending just after storing it
		st, err := f.b.GroupStats(ctx, broker.DefaultGroupID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Accumulation == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("accumulation %d, want 3", st.Accumulation)
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.eval(0)
	f.eval(time.Minute)
	calls := f.wantCalls(alerts.StateAlert)
	if v := calls[0].form(t).Get("curValue"); v != "3" {
		t.Fatalf("curValue %s", v)
	}
}

// Update replaces the settings and resets the state; Delete removes the
// rule with its state and history.
func TestUpdateAndDelete(t *testing.T) {
	f := newFixture(t)
	ctx := ctxT(t)
	g := f.group("crud_app")
	r := f.rule(g, func(s *alerts.RuleSpec) { s.Times = ptr(3) })
	f.feed(g, 0, 150, 150, 150)
	s := spec("crud_app", f.hook.URL+"/new") // by name
	s.Name, s.Enabled = "renamed", ptr(false)
	u, err := f.ev.Update(ctx, r.ID, s)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != r.ID || !u.CreatedAt.Equal(r.CreatedAt) || u.Name != "renamed" || u.Group != g || u.Enabled || u.Times != 1 {
		t.Fatalf("updated %+v", u)
	}
	if st := f.status(r.ID); len(st.Groups) != 0 {
		t.Fatalf("state kept across update: %+v", st.Groups)
	}
	f.feed(g, 3, 150, 150) // disabled: nothing
	f.wantCalls()
	if _, err := f.ev.Update(ctx, "alarmRule_uuid_nope", s); !errors.Is(err, alerts.ErrRuleNotFound) {
		t.Fatalf("update of an unknown rule: %v", err)
	}
	if err := f.ev.Delete(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{f.ev.Delete(ctx, r.ID), errOf(f.ev.Get(ctx, r.ID)), errOf(f.ev.History(ctx, r.ID))} {
		if !errors.Is(err, alerts.ErrRuleNotFound) {
			t.Fatalf("after delete: %v, want ErrRuleNotFound", err)
		}
	}
	keys, err := f.b.StateBucket("alerts").Keys(ctx)
	if err != nil || len(keys) != 0 {
		t.Fatalf("keys left after delete: %v, %v", keys, err)
	}
}

func errOf[T any](_ T, err error) error { return err }

// Close waits for the delivery under way; past its context it abandons it.
func TestCloseAbandonsStuckWebhook(t *testing.T) {
	f := newFixture(t)
	f.hook.block(t)
	g := f.group("stuck_app")
	f.rule(g)
	f.feed(g, 0, 150, 150)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := f.ev.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v, want the context's deadline", err)
	}
	if err := f.ev.Evaluate(ctxT(t), t0); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Evaluate after Close: %v", err)
	}
	if err := f.ev.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// Run evaluates until its context ends.
func TestRunStops(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.ev.Run(ctx); close(done) }()
	cancel()
	<-done
}
