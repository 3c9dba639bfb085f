package alerts_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/amqpemu/amqpemu/alerts"
	"github.com/amqpemu/amqpemu/broker"
)

// Each bad field is refused with ErrInvalidArgument and a message naming it.
func TestValidation(t *testing.T) {
	f := newFixture(t)
	f.group("valid_app")
	tests := []struct {
		name  string
		mod   func(*alerts.RuleSpec)
		field string // the message names it
	}{
		{"no name", func(s *alerts.RuleSpec) { s.Name = "" }, `"name"`},
		{"long name", func(s *alerts.RuleSpec) { s.Name = strings.Repeat("名", 65) }, `"name"`},
		{"control in name", func(s *alerts.RuleSpec) { s.Name = "a\nb" }, `"name"`},
		{"no group", func(s *alerts.RuleSpec) { s.Group = "" }, `"group"`},
		{"unknown group", func(s *alerts.RuleSpec) { s.Group = "no_such_group" }, `"group"`},
		{"bad group id", func(s *alerts.RuleSpec) { s.Group = "a.b*c" }, `"group"`},
		{"no metric", func(s *alerts.RuleSpec) { s.Metric = "" }, `"metric"`},
		{"unknown metric", func(s *alerts.RuleSpec) { s.Metric = "CPUUtilization" }, `"metric"`},
		{"no comparison", func(s *alerts.RuleSpec) { s.Comparison = "" }, `"comparison"`},
		{"bad comparison", func(s *alerts.RuleSpec) { s.Comparison = "=>" }, `"comparison"`},
		{"no threshold", func(s *alerts.RuleSpec) { s.Threshold = nil }, `"threshold"`},
		{"bad statistics", func(s *alerts.RuleSpec) { s.Statistics = "Sum" }, `"statistics"`},
		{"short period", func(s *alerts.RuleSpec) { s.Period = ptr(4) }, `"period"`},
		{"long period", func(s *alerts.RuleSpec) { s.Period = ptr(86401) }, `"period"`},
		{"zero times", func(s *alerts.RuleSpec) { s.Times = ptr(0) }, `"times"`},
		{"many times", func(s *alerts.RuleSpec) { s.Times = ptr(101) }, `"times"`},
		{"negative silence", func(s *alerts.RuleSpec) { s.SilenceTime = ptr(-1) }, `"silenceTime"`},
		{"long silence", func(s *alerts.RuleSpec) { s.SilenceTime = ptr(604801) }, `"silenceTime"`},
		{"interval without dash", func(s *alerts.RuleSpec) { s.EffectiveInterval = "08:00" }, `"effectiveInterval"`},
		{"interval hour 24", func(s *alerts.RuleSpec) { s.EffectiveInterval = "24:00-06:00" }, `"effectiveInterval"`},
		{"interval minute 60", func(s *alerts.RuleSpec) { s.EffectiveInterval = "08:60-09:00" }, `"effectiveInterval"`},
		{"interval words", func(s *alerts.RuleSpec) { s.EffectiveInterval = "morning" }, `"effectiveInterval"`},
		{"no webhook", func(s *alerts.RuleSpec) { s.Webhook = "" }, `"webhook"`},
		{"ftp webhook", func(s *alerts.RuleSpec) { s.Webhook = "ftp://example.com/x" }, `"webhook"`},
		{"relative webhook", func(s *alerts.RuleSpec) { s.Webhook = "/hook" }, `"webhook"`},
		{"hostless webhook", func(s *alerts.RuleSpec) { s.Webhook = "http://" }, `"webhook"`},
		{"bad format", func(s *alerts.RuleSpec) { s.WebhookFormat = "xml" }, `"webhookFormat"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec("valid_app", "http://127.0.0.1:1/hook")
			tt.mod(&s)
			_, err := f.ev.Create(ctxT(t), s)
			if !errors.Is(err, broker.ErrInvalidArgument) {
				t.Fatalf("Create: %v, want ErrInvalidArgument", err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("message %q does not name %s", err, tt.field)
			}
		})
	}
	if rs, _ := f.ev.List(ctxT(t)); len(rs) != 0 {
		t.Fatalf("refused rules were stored: %+v", rs)
	}
}

// Aliases are stored under their canonical names, a group name as the id,
// and absent settings take their defaults.
func TestCanonicalRule(t *testing.T) {
	f := newFixture(t)
	id := f.group("canon_app")
	r, err := f.ev.Create(ctxT(t), alerts.RuleSpec{
		Name: "n", Group: "canon_app", Metric: "accumulation", Comparison: "!=", Threshold: ptr(0.0),
		EffectiveInterval: "8:00-20:30", Webhook: "https://example.com/hook",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := alerts.Rule{
		ID: r.ID, Name: "n", Group: id, Metric: "AccumulationCount", Comparison: "NotEqualToThreshold", Threshold: 0,
		Statistics: "Average", Period: 300, Times: 3, SilenceTime: 86400, EffectiveInterval: "08:00-20:30",
		Webhook: "https://example.com/hook", WebhookFormat: "form", Enabled: true, CreatedAt: t0,
	}
	if r != want {
		t.Fatalf("rule\n %+v\nwant\n %+v", r, want)
	}
	for alias, canon := range map[string]string{
		">=": "GreaterThanOrEqualToThreshold", ">": "GreaterThanThreshold", "<=": "LessThanOrEqualToThreshold",
		"<": "LessThanThreshold", "==": "EqualToThreshold", "EqualToThreshold": "EqualToThreshold",
	} {
		s := spec("*", "http://example.com")
		s.Comparison = alias
		if r, err := f.ev.Create(ctxT(t), s); err != nil || r.Comparison != canon || r.Group != "*" {
			t.Errorf("comparison %q: %+v, %v", alias, r, err)
		}
	}
	for alias, canon := range map[string]string{"consumptionRate": "ConsumerSpeed", "onlineClients": "OnlineClientCount", "ConsumerSpeed": "ConsumerSpeed"} {
		s := spec(id, "http://example.com")
		s.Metric = alias
		if r, err := f.ev.Create(ctxT(t), s); err != nil || r.Metric != canon {
			t.Errorf("metric %q: %+v, %v", alias, r, err)
		}
	}
}
