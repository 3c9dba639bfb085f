package alerts

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/amqpemu/amqpemu/broker"
)

// AllGroups as a rule's Group makes it watch every consumer group, each
// with a state of its own.
const AllGroups = "*"

// Metric names, as stored and sent in callbacks. The platform's metric
// names for consumer groups are not documented; these mirror the
// QueryConsumerGroupStatus fields.
const (
	MetricAccumulation  = "AccumulationCount" // broker.GroupStats.Accumulation
	MetricSpeed         = "ConsumerSpeed"     // RealtimeRate + BacklogRate, messages per minute
	MetricOnlineClients = "OnlineClientCount" // online clients
)

// metricNames maps every accepted spelling to the canonical name.
var metricNames = map[string]string{
	MetricAccumulation: MetricAccumulation, "accumulation": MetricAccumulation,
	MetricSpeed: MetricSpeed, "consumptionRate": MetricSpeed,
	MetricOnlineClients: MetricOnlineClients, "onlineClients": MetricOnlineClients,
}

// unit is the callback's unit of a metric.
func unit(metric string) string {
	if metric == MetricSpeed {
		return "count/min"
	}
	return "count"
}

// Statistics of a period's samples.
const (
	StatAverage = "Average"
	StatMaximum = "Maximum"
	StatMinimum = "Minimum"
)

// comparison is one of CloudMonitor's ComparisonOperator values.
type comparison struct {
	name, symbol string
	breach       func(v, threshold float64) bool
}

var comparisons = []comparison{
	{"GreaterThanOrEqualToThreshold", ">=", func(v, t float64) bool { return v >= t }},
	{"GreaterThanThreshold", ">", func(v, t float64) bool { return v > t }},
	{"LessThanOrEqualToThreshold", "<=", func(v, t float64) bool { return v <= t }},
	{"LessThanThreshold", "<", func(v, t float64) bool { return v < t }},
	{"EqualToThreshold", "==", func(v, t float64) bool { return v == t }},
	{"NotEqualToThreshold", "!=", func(v, t float64) bool { return v != t }},
}

// comparisonOf finds a comparison by name or symbol.
func comparisonOf(s string) (comparison, bool) {
	for _, c := range comparisons {
		if s == c.name || s == c.symbol {
			return c, true
		}
	}
	return comparison{}, false
}

// Defaults and bounds of a rule's settings.
const (
	DefaultPeriod            = 300 // seconds
	DefaultTimes             = 3
	DefaultSilenceTime       = 86400 // seconds
	DefaultEffectiveInterval = "00:00-23:59"

	minPeriod, maxPeriod = 5, 86400
	minTimes, maxTimes   = 1, 100
	maxSilenceTime       = 604800
	maxNameLen           = 64
	maxWebhookLen        = 2048
)

// Webhook formats.
const (
	FormatForm = "form" // application/x-www-form-urlencoded, the platform's current callbacks
	FormatJSON = "json"
)

// Rule is a stored alert rule; its JSON is the storage format and mirrors
// CloudMonitor's field names.
type Rule struct {
	ID                string    `json:"id"`
	Name              string    `json:"name"`
	Group             string    `json:"group"` // a group id, or AllGroups
	Metric            string    `json:"metric"`
	Comparison        string    `json:"comparison"`
	Threshold         float64   `json:"threshold"`
	Statistics        string    `json:"statistics"`
	Period            int       `json:"period"`      // seconds
	Times             int       `json:"times"`       // consecutive breaching periods
	SilenceTime       int       `json:"silenceTime"` // seconds
	EffectiveInterval string    `json:"effectiveInterval"`
	Webhook           string    `json:"webhook"`
	WebhookFormat     string    `json:"webhookFormat"`
	Enabled           bool      `json:"enabled"`
	CreatedAt         time.Time `json:"createdAt"`
}

// RuleSpec is what a caller sets when creating or replacing a rule; the
// pointer fields tell "absent" (the default) from zero.
type RuleSpec struct {
	Name              string   `json:"name"`
	Group             string   `json:"group"` // a group id or name, or AllGroups
	Metric            string   `json:"metric"`
	Comparison        string   `json:"comparison"`
	Threshold         *float64 `json:"threshold"`
	Statistics        string   `json:"statistics,omitempty"`
	Period            *int     `json:"period,omitempty"`
	Times             *int     `json:"times,omitempty"`
	SilenceTime       *int     `json:"silenceTime,omitempty"`
	EffectiveInterval string   `json:"effectiveInterval,omitempty"`
	Webhook           string   `json:"webhook"`
	WebhookFormat     string   `json:"webhookFormat,omitempty"`
	Enabled           *bool    `json:"enabled,omitempty"`
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", broker.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// ruleFrom checks spec and fills in the defaults; the group is left as
// given (the caller resolves it).
func ruleFrom(spec RuleSpec) (Rule, error) {
	r := Rule{
		Name: spec.Name, Group: spec.Group, Statistics: StatAverage, Period: DefaultPeriod, Times: DefaultTimes,
		SilenceTime: DefaultSilenceTime, EffectiveInterval: DefaultEffectiveInterval, Webhook: spec.Webhook,
		WebhookFormat: FormatForm, Enabled: true,
	}
	if err := checkName(spec.Name); err != nil {
		return Rule{}, err
	}
	if spec.Group == "" {
		return Rule{}, invalid(`"group" is required: a consumer group id or name, or "*" for every group`)
	}
	var ok bool
	if r.Metric, ok = metricNames[spec.Metric]; !ok {
		return Rule{}, invalid(`"metric" is %s; use AccumulationCount, ConsumerSpeed or OnlineClientCount (or accumulation, consumptionRate, onlineClients)`, show(spec.Metric))
	}
	c, ok := comparisonOf(spec.Comparison)
	if !ok {
		return Rule{}, invalid(`"comparison" is %s; use GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanOrEqualToThreshold, LessThanThreshold, EqualToThreshold or NotEqualToThreshold (or >=, >, <=, <, ==, !=)`, show(spec.Comparison))
	}
	r.Comparison = c.name
	if spec.Threshold == nil {
		return Rule{}, invalid(`"threshold" is required: the number the metric's statistic is compared with`)
	}
	if math.IsNaN(*spec.Threshold) || math.IsInf(*spec.Threshold, 0) {
		return Rule{}, invalid(`"threshold" must be a finite number`)
	}
	r.Threshold = *spec.Threshold
	if spec.Statistics != "" {
		if spec.Statistics != StatAverage && spec.Statistics != StatMaximum && spec.Statistics != StatMinimum {
			return Rule{}, invalid(`"statistics" is %s; use Average, Maximum or Minimum`, show(spec.Statistics))
		}
		r.Statistics = spec.Statistics
	}
	if err := setInt(&r.Period, spec.Period, "period", minPeriod, maxPeriod, "seconds (the statistical period)"); err != nil {
		return Rule{}, err
	}
	if err := setInt(&r.Times, spec.Times, "times", minTimes, maxTimes, "consecutive periods"); err != nil {
		return Rule{}, err
	}
	if err := setInt(&r.SilenceTime, spec.SilenceTime, "silenceTime", 0, maxSilenceTime, "seconds (the mute period)"); err != nil {
		return Rule{}, err
	}
	if spec.EffectiveInterval != "" {
		w, err := parseWindow(spec.EffectiveInterval)
		if err != nil {
			return Rule{}, err
		}
		r.EffectiveInterval = w.String()
	}
	if err := checkWebhook(spec.Webhook); err != nil {
		return Rule{}, err
	}
	switch spec.WebhookFormat {
	case "":
	case FormatForm, FormatJSON:
		r.WebhookFormat = spec.WebhookFormat
	default:
		return Rule{}, invalid(`"webhookFormat" is %s; use form (the default) or json`, show(spec.WebhookFormat))
	}
	if spec.Enabled != nil {
		r.Enabled = *spec.Enabled
	}
	return r, nil
}

func checkName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case name == "":
		return invalid(`"name" is required: the rule's name, 1 to %d characters`, maxNameLen)
	case !utf8.ValidString(name):
		return invalid(`"name" is not valid UTF-8`)
	case n > maxNameLen:
		return invalid(`"name" is %d characters long; at most %d are allowed`, n, maxNameLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return invalid(`"name" contains a control character`)
	}
	return nil
}

func setInt(dst *int, v *int, field string, lo, hi int, what string) error {
	if v == nil {
		return nil
	}
	if *v < lo || *v > hi {
		return invalid(`%q is %d; it must be %d to %d %s`, field, *v, lo, hi, what)
	}
	*dst = *v
	return nil
}

func checkWebhook(s string) error {
	if s == "" {
		return invalid(`"webhook" is required: the http:// or https:// URL the notifications are POSTed to`)
	}
	if len(s) > maxWebhookLen {
		return invalid(`"webhook" is longer than the %d bytes allowed`, maxWebhookLen)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid(`"webhook" is %s; it must be an absolute http:// or https:// URL`, show(s))
	}
	return nil
}

// show quotes a value in an error, cut short.
func show(s string) string {
	const max = 48
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// window is an effective interval, "hh:mm-hh:mm", in minutes of the day;
// both ends are included (23:59 lasts to 23:59:59) and from > to wraps
// midnight.
type window struct{ from, to int }

func parseWindow(s string) (window, error) {
	bad := invalid(`"effectiveInterval" is %s; use hh:mm-hh:mm (24-hour local time, e.g. 08:00-20:00 or 22:00-06:00)`, show(s))
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return window{}, bad
	}
	var w window
	var err1, err2 error
	w.from, err1 = parseClock(from)
	w.to, err2 = parseClock(to)
	if err1 != nil || err2 != nil {
		return window{}, bad
	}
	return w, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, strconv.ErrSyntax
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, strconv.ErrRange
	}
	return hh*60 + mm, nil
}

func (w window) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.from/60, w.from%60, w.to/60, w.to%60)
}

// contains reports whether t's time of day is in the window.
func (w window) contains(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	if w.from <= w.to {
		return w.from <= m && m <= w.to
	}
	return m >= w.from || m <= w.to
}

// window is r's effective interval (validated when the rule was made).
func (r *Rule) window() window {
	w, err := parseWindow(r.EffectiveInterval)
	if err != nil {
		return window{0, 24*60 - 1}
	}
	return w
}

// breach compares a period's statistic with the threshold.
func (r *Rule) breach(v float64) bool {
	c, _ := comparisonOf(r.Comparison)
	return c.breach != nil && c.breach(v, r.Threshold)
}

// expression is the callback's expression, e.g. "$Average>=100".
func (r *Rule) expression() string {
	c, _ := comparisonOf(r.Comparison)
	return "$" + r.Statistics + c.symbol + formatNumber(r.Threshold)
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
