package alerts_test

import (
	"maps"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/amqpemu/amqpemu/alerts"
)

// series is the value of each series of a metric family, by its labels.
func (f *fixture) series(name string) map[string]float64 {
	f.t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				key += l.GetName() + "=" + l.GetValue() + ","
			}
			out[key] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	if m.GetGauge() != nil {
		return m.GetGauge().GetValue()
	}
	return m.GetCounter().GetValue()
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	g := f.group("metrics_app")
	f.hook.status = func(n int) int {
		if n == 1 {
			return 200
		}
		return 503
	}
	r := f.rule(g, func(s *alerts.RuleSpec) { s.SilenceTime = ptr(86400) })
	f.feed(g, 0, 150, 150) // ALERT at +1m, delivered
	f.flush()
	firing := "group=" + g + ",rule=" + r.ID + ","
	if got := f.series("amqpemu_alert_firing"); len(got) != 1 || got[firing] != 1 {
		t.Fatalf("firing %v", got)
	}
	f.feed(g, 2, 10, 10) // OK at +3m, refused by the webhook
	f.flush()
	if got := f.series("amqpemu_alert_firing"); len(got) != 1 || got[firing] != 0 {
		t.Fatalf("firing after recovery %v", got)
	}
	want := map[string]float64{
		"result=ok,rule=" + r.ID + ",state=ALERT,":  1,
		"result=failed,rule=" + r.ID + ",state=OK,": 1,
	}
	if got := f.series("amqpemu_alert_notifications_total"); !maps.Equal(got, want) {
		t.Fatalf("notifications %v, want %v", got, want)
	}
	if err := f.ev.Delete(ctxT(t), r.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.series("amqpemu_alert_firing"); len(got) != 0 {
		t.Fatalf("firing after delete %v", got)
	}
	if got := f.series("amqpemu_alert_notifications_total"); len(got) != 0 {
		t.Fatalf("notifications after delete %v", got)
	}
}
