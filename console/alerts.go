package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/amqpemu/amqpemu/alerts"
)

// Alerts is what the console needs from the alert service;
// *alerts.Evaluator satisfies it.
type Alerts interface {
	List(ctx context.Context) ([]alerts.RuleStatus, error)
	Get(ctx context.Context, id string) (alerts.RuleStatus, error)
	Create(ctx context.Context, spec alerts.RuleSpec) (alerts.Rule, error)
	Update(ctx context.Context, id string, spec alerts.RuleSpec) (alerts.Rule, error)
	Delete(ctx context.Context, id string) error
	History(ctx context.Context, id string) ([]alerts.Notification, error)
}

// alertRoutes registers /api/v1/alerts. Without Config.Alerts every route
// answers 404 AlertsDisabled.
func (s *Server) alertRoutes() {
	h := s.apiIf(s.cfg.Alerts != nil, alertsOff)
	s.mux.Handle("GET /api/v1/alerts", h(s.listAlerts))
	s.mux.Handle("POST /api/v1/alerts", h(s.createAlert))
	s.mux.Handle("GET /api/v1/alerts/{id}", h(s.getAlert))
	s.mux.Handle("PUT /api/v1/alerts/{id}", h(s.putAlert))
	s.mux.Handle("DELETE /api/v1/alerts/{id}", h(s.deleteAlert))
	s.mux.Handle("GET /api/v1/alerts/{id}/history", h(s.alertHistory))
}

func alertsOff(http.ResponseWriter, *http.Request) error {
	return errorf(http.StatusNotFound, CodeAlertsDisabled, "alert rules are off in this server (it runs without an alert service)")
}

// alertJSON is a rule as the REST API shows it.
type alertJSON struct {
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
}

// alertStatusJSON is a rule with its state per group.
type alertStatusJSON struct {
	alertJSON
	State []alertStateJSON `json:"state"`
}

type alertStateJSON struct {
	Group          string     `json:"group"`
	GroupName      string     `json:"groupName"`
	State          string     `json:"state"`
	Value          *float64   `json:"value"` // the last closed period's statistic
	Consecutive    int        `json:"consecutive"`
	Since          *time.Time `json:"since"`
	LastNotifiedAt *time.Time `json:"lastNotifiedAt"`
}

type notificationJSON struct {
	Time       time.Time `json:"time"`
	Group      string    `json:"group"`
	GroupName  string    `json:"groupName"`
	AlertState string    `json:"alertState"`
	Value      float64   `json:"value"`
	HTTPStatus *int      `json:"httpStatus"` // null when the webhook never answered
	Attempts   int       `json:"attempts"`
	Error      *string   `json:"error"` // null when delivered
}

func toAlertJSON(r alerts.Rule) alertJSON {
	return alertJSON{
		ID: r.ID, Name: r.Name, Group: r.Group, Metric: r.Metric, Comparison: r.Comparison, Threshold: r.Threshold,
		Statistics: r.Statistics, Period: r.Period, Times: r.Times, SilenceTime: r.SilenceTime,
		EffectiveInterval: r.EffectiveInterval, Webhook: r.Webhook, WebhookFormat: r.WebhookFormat, Enabled: r.Enabled,
		CreatedAt: r.CreatedAt.UTC(),
	}
}

func toAlertStatusJSON(st alerts.RuleStatus) alertStatusJSON {
	out := alertStatusJSON{alertJSON: toAlertJSON(st.Rule), State: make([]alertStateJSON, len(st.Groups))}
	for i, g := range st.Groups {
		out.State[i] = alertStateJSON{
			Group: g.Group, GroupName: g.GroupName, State: g.State, Value: g.Value, Consecutive: g.Consecutive,
			Since: optTime(g.Since), LastNotifiedAt: optTime(g.LastNotifiedAt),
		}
	}
	return out
}

// alertBody is the body of POST and PUT: the settable fields, and the
// read-only ones of a GET answer so that one can be edited and sent back.
type alertBody struct {
	alerts.RuleSpec
	ID        *string         `json:"id"`        // refused on POST; on PUT, the path's id
	CreatedAt *time.Time      `json:"createdAt"` // ignored
	State     json.RawMessage `json:"state"`     // ignored
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	rules, err := s.cfg.Alerts.List(r.Context())
	if err != nil {
		return err
	}
	out := make([]alertStatusJSON, len(rules))
	for i, st := range rules {
		out[i] = toAlertStatusJSON(st)
	}
	return writeJSON(w, http.StatusOK, struct {
		Alerts []alertStatusJSON `json:"alerts"`
	}{out})
}

func (s *Server) createAlert(w http.ResponseWriter, r *http.Request) error {
	var in alertBody
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.ID != nil {
		return errorf(http.StatusBadRequest, CodeInvalidArgument, `"id" is assigned by the server; leave it out`)
	}
	rule, err := s.cfg.Alerts.Create(r.Context(), in.RuleSpec)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/alerts/"+url.PathEscape(rule.ID))
	return writeJSON(w, http.StatusCreated, toAlertJSON(rule))
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) error {
	st, err := s.cfg.Alerts.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toAlertStatusJSON(st))
}

func (s *Server) putAlert(w http.ResponseWriter, r *http.Request) error {
	var in alertBody
	if err := decode(w, r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	if in.ID != nil && *in.ID != id {
		return errorf(http.StatusBadRequest, CodeInvalidArgument, `"id" is %q but the path names %q; an id cannot be changed`, *in.ID, id)
	}
	rule, err := s.cfg.Alerts.Update(r.Context(), id, in.RuleSpec)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toAlertJSON(rule))
}

func (s *Server) deleteAlert(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Alerts.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) alertHistory(w http.ResponseWriter, r *http.Request) error {
	h, err := s.cfg.Alerts.History(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]notificationJSON, len(h))
	for i, n := range h {
		out[i] = notificationJSON{
			Time: n.Time.UTC(), Group: n.Group, GroupName: n.GroupName, AlertState: n.AlertState, Value: n.Value,
			Attempts: n.Attempts,
		}
		if n.HTTPStatus != 0 {
			out[i].HTTPStatus = &n.HTTPStatus
		}
		if n.Error != "" {
			out[i].Error = &n.Error
		}
	}
	return writeJSON(w, http.StatusOK, struct {
		Notifications []notificationJSON `json:"notifications"`
	}{out})
}
