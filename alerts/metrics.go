package alerts

import "github.com/prometheus/client_golang/prometheus"

var (
	firingDesc = prometheus.NewDesc("amqpemu_alert_firing",
		"1 while the alert rule is in the ALERT state for the consumer group, else 0.",
		[]string{"rule", "group"}, nil)
	notificationsDesc = prometheus.NewDesc("amqpemu_alert_notifications_total",
		"Webhook notifications of the alert rule, by the state they reported and whether they were delivered (ok or failed).",
		[]string{"rule", "state", "result"}, nil)
)

// countKey identifies a notification counter.
type countKey struct{ rule, state, result string }

// collector reports the evaluator's rules at scrape time: the series of a
// deleted rule go with it.
type collector struct{ e *Evaluator }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- firingDesc
	ch <- notificationsDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	var out []prometheus.Metric
	c.e.mu.Lock()
	for id, en := range c.e.rules {
		for group, st := range en.groups {
			v := 0.0
			if st.State == StateAlert {
				v = 1
			}
			out = append(out, prometheus.MustNewConstMetric(firingDesc, prometheus.GaugeValue, v, id, group))
		}
	}
	for k, n := range c.e.counts {
		out = append(out, prometheus.MustNewConstMetric(notificationsDesc, prometheus.CounterValue, n, k.rule, k.state, k.result))
	}
	c.e.mu.Unlock()
	for _, m := range out {
		ch <- m
	}
}
