package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/alerts"
	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/console"
)

// newAlertEnv is a console with an alert evaluator over its broker.
func newAlertEnv(t *testing.T) (*env, *alerts.Evaluator) {
	t.Helper()
	var ev *alerts.Evaluator
	e := newEnv(t, func(c *console.Config) {
		b := c.Broker.(*broker.Broker)
		var err error
		ev, err = alerts.New(context.Background(), alerts.Config{Source: b, Store: b.StateBucket("alerts"), Logger: c.Logger, RetryWait: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ev.Close(context.Background()) })
		c.Alerts = ev
	})
	return e, ev
}

type alertBody struct {
	ID                string    `json:"id"`
	Name              string    `json:"name"`
	Group             string    `json:"group"`
	Metric            string    `json:"metric"`
	Comparison        string    `json:"comparison"`
	Threshold         float64   `json:"threshold"`
	Statistics        string    `json:"statistics"`
	Period            int       `json:"period"`
	Times             int       `json:"times"`
	SilenceTime       int       `json:"silenceTime"`
	EffectiveInterval string    `json:"effectiveInterval"`
	Webhook           string    `json:"webhook"`
	WebhookFormat     string    `json:"webhookFormat"`
	Enabled           bool      `json:"enabled"`
	CreatedAt         time.Time `json:"createdAt"`
	State             []struct {
		Group          string     `json:"group"`
		GroupName      string     `json:"groupName"`
		State          string     `json:"state"`
		Value          *float64   `json:"value"`
		Consecutive    int        `json:"consecutive"`
		Since          *time.Time `json:"since"`
		LastNotifiedAt *time.Time `json:"lastNotifiedAt"`
	} `json:"state"`
}

// webhook records the bodies POSTed to it.
type webhook struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newWebhook(t *testing.T) *webhook {
	h := &webhook{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, string(data))
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func TestAlertsREST(t *testing.T) {
	e, ev := newAlertEnv(t)
	hook := newWebhook(t)
	id := e.createGroup("alerting_app")

	// Create with the group's name: the id is stored, defaults filled in.
	r := e.do("POST", "/api/v1/alerts", map[string]any{
		"name": "backlog high", "group": "alerting_app", "metric": "accumulation", "comparison": ">=",
		"threshold": 0, "times": 1, "period": 60, "webhook": hook.URL + "/cb",
	})
	var created alertBody
	e.want(r, http.StatusCreated, &created)
	if created.Group != id || created.Metric != "AccumulationCount" || created.Comparison != "GreaterThanOrEqualToThreshold" ||
		created.Statistics != "Average" || created.SilenceTime != 86400 || created.EffectiveInterval != "00:00-23:59" ||
		created.WebhookFormat != "form" || !created.Enabled || created.CreatedAt.IsZero() || created.State != nil {
		t.Fatalf("created %s", r)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/alerts/"+url.PathEscape(created.ID) {
		t.Fatalf("Location %q", loc)
	}
	path := "/api/v1/alerts/" + created.ID

	var list struct{ Alerts []alertBody }
	e.want(e.do("GET", "/api/v1/alerts", nil), http.StatusOK, &list)
	if len(list.Alerts) != 1 || list.Alerts[0].ID != created.ID || list.Alerts[0].State == nil || len(list.Alerts[0].State) != 0 {
		t.Fatalf("list %+v", list)
	}

	// Two evaluations a period apart: the first period closes, breaching.
	t0 := time.Date(2030, 1, 7, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	for _, at := range []time.Time{t0, t0.Add(time.Minute)} {
		if err := ev.Evaluate(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := ev.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var got alertBody
	e.want(e.do("GET", path, nil), http.StatusOK, &got)
	if len(got.State) != 1 {
		t.Fatalf("state %s", e.do("GET", path, nil))
	}
	st := got.State[0]
	if st.Group != id || st.GroupName != "alerting_app" || st.State != "ALERT" || st.Value == nil || *st.Value != 0 ||
		st.Consecutive != 1 || st.Since == nil || st.LastNotifiedAt == nil || !st.LastNotifiedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("state %+v", st)
	}
	var hist struct {
		Notifications []struct {
			Time       time.Time `json:"time"`
			Group      string    `json:"group"`
			AlertState string    `json:"alertState"`
			Value      float64   `json:"value"`
			HTTPStatus *int      `json:"httpStatus"`
			Attempts   int       `json:"attempts"`
			Error      *string   `json:"error"`
		}
	}
	e.want(e.do("GET", path+"/history", nil), http.StatusOK, &hist)
	if len(hist.Notifications) != 1 {
		t.Fatalf("history %+v", hist)
	}
	n := hist.Notifications[0]
	if n.Group != id || n.AlertState != "ALERT" || n.HTTPStatus == nil || *n.HTTPStatus != 200 || n.Attempts != 1 || n.Error != nil || !n.Time.Equal(t0.Add(time.Minute)) {
		t.Fatalf("notification %+v", n)
	}
	hook.mu.Lock()
	if len(hook.bodies) != 1 {
		t.Fatalf("webhook got %v", hook.bodies)
	}
	hook.mu.Unlock()

	// PUT takes a GET answer back, edited; the state starts again.
	got.Name, got.Threshold, got.WebhookFormat = "renamed", 10, "json"
	var put alertBody
	e.want(e.do("PUT", path, got), http.StatusOK, &put)
	if put.ID != created.ID || put.Name != "renamed" || put.Threshold != 10 || put.WebhookFormat != "json" ||
		!put.CreatedAt.Equal(created.CreatedAt) || put.Group != id {
		t.Fatalf("put %+v", put)
	}
	e.want(e.do("GET", path, nil), http.StatusOK, &got)
	if len(got.State) != 0 || got.Name != "renamed" {
		t.Fatalf("after put %+v", got)
	}

	e.want(e.do("DELETE", path, nil), http.StatusNoContent, nil)
	e.wantError(e.do("GET", path, nil), http.StatusNotFound, console.CodeAlertNotFound)
	e.wantError(e.do("GET", path+"/history", nil), http.StatusNotFound, console.CodeAlertNotFound)
	e.wantError(e.do("DELETE", path, nil), http.StatusNotFound, console.CodeAlertNotFound)
	e.wantError(e.do("PUT", path, map[string]any{"name": "x", "group": "*", "metric": "accumulation", "comparison": ">",
		"threshold": 1, "webhook": "http://example.com"}), http.StatusNotFound, console.CodeAlertNotFound)
	e.want(e.do("GET", "/api/v1/alerts", nil), http.StatusOK, &list)
	if len(list.Alerts) != 0 {
		t.Fatalf("list after delete %+v", list)
	}
}

func TestAlertsRESTBadRequests(t *testing.T) {
	e, _ := newAlertEnv(t)
	valid := func(mod func(map[string]any)) map[string]any {
		m := map[string]any{"name": "n", "group": "*", "metric": "AccumulationCount", "comparison": ">", "threshold": 1, "webhook": "http://example.com/cb"}
		if mod != nil {
			mod(m)
		}
		return m
	}
	tests := []struct {
		name string
		body any
		code string
	}{
		{"bad metric", valid(func(m map[string]any) { m["metric"] = "cpu" }), console.CodeInvalidArgument},
		{"unknown group", valid(func(m map[string]any) { m["group"] = "no_such_group" }), console.CodeInvalidArgument},
		{"missing threshold", valid(func(m map[string]any) { delete(m, "threshold") }), console.CodeInvalidArgument},
		{"period too short", valid(func(m map[string]any) { m["period"] = 1 }), console.CodeInvalidArgument},
		{"bad webhook", valid(func(m map[string]any) { m["webhook"] = "localhost:9000" }), console.CodeInvalidArgument},
		{"id given", valid(func(m map[string]any) { m["id"] = "alarmRule_uuid_x" }), console.CodeInvalidArgument},
		{"unknown field", valid(func(m map[string]any) { m["contactGroups"] = "ops" }), console.CodeUnknownField},
		{"wrong type", valid(func(m map[string]any) { m["times"] = "three" }), console.CodeInvalidJSON},
		{"not an object", "[]", console.CodeInvalidJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			e.wantError(e.do("POST", "/api/v1/alerts", tt.body), http.StatusBadRequest, tt.code)
		})
	}
	e.t = t
	var r struct{ ID string }
	e.want(e.do("POST", "/api/v1/alerts", valid(nil)), http.StatusCreated, &r)
	e.wantError(e.do("PUT", "/api/v1/alerts/"+r.ID, valid(func(m map[string]any) { m["id"] = "alarmRule_uuid_other" })),
		http.StatusBadRequest, console.CodeInvalidArgument)
	e.wantError(e.do("PUT", "/api/v1/alerts/"+r.ID, valid(func(m map[string]any) { m["times"] = 0 })),
		http.StatusBadRequest, console.CodeInvalidArgument)
}

func TestAlertsOff(t *testing.T) {
	e := newEnv(t)
	for _, r := range []response{
		e.do("GET", "/api/v1/alerts", nil),
		e.do("POST", "/api/v1/alerts", map[string]any{"name": "n"}),
		e.do("GET", "/api/v1/alerts/x/history", nil),
	} {
		e.wantError(r, http.StatusNotFound, console.CodeAlertsDisabled)
	}
}
