package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// apiAlert is an alert rule in the REST API's answers, with its state per
// group when the answer has it.
type apiAlert struct {
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

// apiNotification is one line of GET /api/v1/alerts/{id}/history.
type apiNotification struct {
	Time       time.Time `json:"time"`
	Group      string    `json:"group"`
	AlertState string    `json:"alertState"`
	Value      float64   `json:"value"`
	HTTPStatus int       `json:"httpStatus"`
	Attempts   int       `json:"attempts"`
	Error      string    `json:"error"`
}

func alertPath(id string, tail string) string {
	return "/api/v1/alerts/" + url.PathEscape(id) + tail
}

func alertsCommands() *commandSet {
	return &commandSet{
		name:    "alerts",
		summary: "Manage the alert rules of a running emulator through its REST API.",
		about: "A rule watches a group's metric (AccumulationCount, ConsumerSpeed in messages a minute, or\n" +
			"OnlineClientCount) and POSTs the CloudMonitor callback to its webhook after --times breaching\n" +
			"periods in a row, once per --silence, and again with alertState=OK when it clears.",
		cmds: []subcommand{
			{name: "list", summary: "list the rules and each one's state",
				examples: []string{"amqpemu alerts list"}, setup: alertsList},
			{name: "get", args: []string{"RULE"}, summary: "show one rule and its state per group",
				examples: []string{"amqpemu alerts get alarmRule_uuid_0b5e…"}, setup: alertsGet},
			{name: "create", args: []string{"NAME"}, summary: "create a rule",
				examples: []string{
					"amqpemu alerts create backlog_high --group billing_app --metric AccumulationCount --comparison '>=' --threshold 1000 --period 60 --times 3 --webhook http://127.0.0.1:9000/alert",
					"amqpemu alerts create nobody_online --group '*' --metric OnlineClientCount --comparison '<' --threshold 1 --webhook http://127.0.0.1:9000/alert --format json",
				}, setup: alertsCreate},
			{name: "delete", args: []string{"RULE"}, summary: "delete a rule",
				examples: []string{"amqpemu alerts delete alarmRule_uuid_0b5e…"}, setup: alertsDelete},
			{name: "history", args: []string{"RULE"}, summary: "show a rule's recent notifications, newest first",
				examples: []string{"amqpemu alerts history alarmRule_uuid_0b5e…"}, setup: alertsHistory},
		},
	}
}

func alertTable(w io.Writer, rules ...apiAlert) {
	row(w, "ID", "NAME", "GROUP", "CONDITION", "PERIOD", "ENABLED", "STATE")
	for _, r := range rules {
		state := "-"
		for i, s := range r.State {
			if i == 0 {
				state = ""
			} else {
				state += ", "
			}
			state += s.State
			if r.Group == "*" {
				state += " (" + orDash(s.GroupName) + ")"
			}
		}
		cond := fmt.Sprintf("%s(%s) %s %s ×%d", r.Statistics, r.Metric, r.Comparison, strconv.FormatFloat(r.Threshold, 'g', -1, 64), r.Times)
		row(w, r.ID, r.Name, r.Group, cond, fmt.Sprintf("%ds", r.Period), r.Enabled, state)
	}
}

func alertsList(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, _ []string) error {
		var out struct {
			Alerts []apiAlert `json:"alerts"`
		}
		data, err := c.do(ctx, http.MethodGet, "/api/v1/alerts", nil, nil, &out)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) {
			if len(out.Alerts) == 0 {
				fmt.Fprintln(w, "no alert rules")
				return
			}
			alertTable(w, out.Alerts...)
		})
	}
}

func alertsGet(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		var r apiAlert
		data, err := c.do(ctx, http.MethodGet, alertPath(args[0], ""), nil, nil, &r)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) { alertDetail(w, r) })
	}
}

func alertDetail(w io.Writer, r apiAlert) {
	row(w, "id:", r.ID)
	row(w, "name:", r.Name)
	row(w, "group:", r.Group)
	row(w, "condition:", fmt.Sprintf("%s of %s %s %g for %d periods of %ds", r.Statistics, r.Metric, r.Comparison, r.Threshold, r.Times, r.Period))
	row(w, "mute:", fmt.Sprintf("%ds", r.SilenceTime))
	row(w, "effective:", r.EffectiveInterval)
	row(w, "webhook:", r.Webhook+" ("+r.WebhookFormat+")")
	row(w, "enabled:", r.Enabled)
	if len(r.State) == 0 {
		return
	}
	fmt.Fprintln(w)
	row(w, "GROUP", "STATE", "VALUE", "IN A ROW", "SINCE", "LAST NOTIFIED")
	for _, s := range r.State {
		value := "-"
		if s.Value != nil {
			value = strconv.FormatFloat(*s.Value, 'g', -1, 64)
		}
		row(w, s.Group, s.State, value, s.Consecutive, when(s.Since), when(s.LastNotifiedAt))
	}
}

func alertsCreate(fs *flag.FlagSet) runFunc {
	group := fs.String("group", "", "the `GROUP` watched (id or name), or '*' for every group (required)")
	metric := fs.String("metric", "", "AccumulationCount, ConsumerSpeed or OnlineClientCount (required)")
	comparison := fs.String("comparison", "", "`OP`: >=, >, <=, <, ==, != or CloudMonitor's names (GreaterThanOrEqualToThreshold, …) (required)")
	threshold := fs.String("threshold", "", "the `NUMBER` compared with (required)")
	statistics := fs.String("statistics", "", "Average, Maximum or Minimum of a period's samples (default Average)")
	period := fs.Int("period", 0, "the statistical period in `seconds` (default 300)")
	times := fs.Int("times", 0, "breaching periods in a row before the alert (default 3)")
	silence := fs.String("silence", "", "mute `seconds`: at most one alert per mute period (default 86400)")
	interval := fs.String("interval", "", "effective interval `hh:mm-hh:mm`, local time (default 00:00-23:59)")
	webhook := fs.String("webhook", "", "the callback `URL` (required)")
	format := fs.String("format", "", "form (default) or json: how the callback body is encoded")
	disabled := fs.Bool("disabled", false, "create the rule switched off")
	return func(ctx context.Context, c *client, args []string) error {
		body := map[string]any{"name": args[0], "group": *group, "metric": *metric, "comparison": *comparison, "webhook": *webhook}
		if *threshold != "" {
			n, err := strconv.ParseFloat(*threshold, 64)
			if err != nil {
				return c.usageError("--threshold is %q; it must be a number", *threshold)
			}
			body["threshold"] = n
		}
		for k, v := range map[string]string{"statistics": *statistics, "effectiveInterval": *interval, "webhookFormat": *format} {
			if v != "" {
				body[k] = v
			}
		}
		for k, v := range map[string]int{"period": *period, "times": *times} {
			if v != 0 {
				body[k] = v
			}
		}
		if *silence != "" {
			n, err := strconv.Atoi(*silence)
			if err != nil {
				return c.usageError("--silence is %q; it must be a whole number of seconds", *silence)
			}
			body["silenceTime"] = n
		}
		if *disabled {
			body["enabled"] = false
		}
		var r apiAlert
		data, err := c.do(ctx, http.MethodPost, "/api/v1/alerts", nil, body, &r)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) { alertTable(w, r) })
	}
}

func alertsDelete(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		data, err := c.do(ctx, http.MethodDelete, alertPath(args[0], ""), nil, nil, nil)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) { fmt.Fprintf(w, "deleted alert rule %s\n", args[0]) })
	}
}

func alertsHistory(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		var out struct {
			Notifications []apiNotification `json:"notifications"`
		}
		data, err := c.do(ctx, http.MethodGet, alertPath(args[0], "/history"), nil, nil, &out)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) {
			if len(out.Notifications) == 0 {
				fmt.Fprintln(w, "no notifications yet")
				return
			}
			row(w, "TIME", "GROUP", "STATE", "VALUE", "HTTP", "ATTEMPTS", "ERROR")
			for _, n := range out.Notifications {
				status := "-"
				if n.HTTPStatus != 0 {
					status = strconv.Itoa(n.HTTPStatus)
				}
				row(w, when(&n.Time), n.Group, n.AlertState, strconv.FormatFloat(n.Value, 'g', -1, 64), status, n.Attempts, orDash(n.Error))
			}
		})
	}
}
