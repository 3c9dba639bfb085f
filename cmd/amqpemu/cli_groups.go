package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// apiGroup is a group in the REST API's answers.
type apiGroup struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// apiGroupPage is GET /api/v1/groups.
type apiGroupPage struct {
	Groups    []apiGroup `json:"groups"`
	Total     int        `json:"total"`
	Page      int        `json:"page"`
	PageSize  int        `json:"pageSize"`
	PageCount int        `json:"pageCount"`
}

// apiGroupStatus is GET /api/v1/groups/{id}/status; rates are in messages
// per minute.
type apiGroupStatus struct {
	Accumulation   int        `json:"accumulation"`
	RealtimeRate   int        `json:"realtimeRate"`
	BacklogRate    int        `json:"backlogRate"`
	LastConsumedAt *time.Time `json:"lastConsumedAt"`
	Clients        []struct {
		ClientID     string     `json:"clientId"`
		Address      string     `json:"address"`
		OnlineSince  *time.Time `json:"onlineSince"`
		RealtimeRate int        `json:"realtimeRate"`
		BacklogRate  int        `json:"backlogRate"`
	} `json:"clients"`
}

func groupPath(group string, tail ...string) string {
	return "/api/v1/groups/" + url.PathEscape(group) + strings.Join(tail, "")
}

func groupsCommands() *commandSet {
	return &commandSet{
		name:    "groups",
		summary: "Manage the consumer groups of a running emulator through its REST API.",
		about:   "GROUP is a group's id or its name.",
		cmds: []subcommand{
			{name: "list", summary: "list the consumer groups, a page at a time",
				examples: []string{"amqpemu groups list --name billing --fuzzy --page-size 20"}, setup: groupsList},
			{name: "create", args: []string{"NAME"}, summary: "create a consumer group (4–30 letters, digits, '_' or Chinese characters)",
				examples: []string{"amqpemu groups create billing_app"}, setup: groupsCreate},
			{name: "rename", args: []string{"GROUP", "NEW_NAME"}, summary: "rename a consumer group",
				examples: []string{"amqpemu groups rename billing_app billing_v2"}, setup: groupsRename},
			{name: "delete", args: []string{"GROUP"}, summary: "delete a consumer group (refused while a product's subscription names it)",
				examples: []string{"amqpemu groups delete billing_app"}, setup: groupsDelete},
			{name: "status", args: []string{"GROUP"}, summary: "show a group's backlog, rates and online clients",
				examples: []string{"amqpemu groups status DEFAULT_GROUP"}, setup: groupsStatus},
			{name: "peek", args: []string{"GROUP"}, summary: "show the next messages of a group's backlog without consuming them",
				examples: []string{"amqpemu groups peek billing_app --count 5"}, setup: groupsPeek},
			{name: "clear", args: []string{"GROUP"}, summary: "drop a group's backlog (asks first unless --yes)",
				examples: []string{"amqpemu groups clear billing_app --yes"}, setup: groupsClear},
			{name: "partitions", args: []string{"GROUP"}, summary: "show a group's position and backlog in each partition of a product's topic",
				examples: []string{"amqpemu groups partitions billing_app --topic pk1"}, setup: groupsPartitions},
			{name: "reset", args: []string{"GROUP"}, summary: "move a group's position to the earliest or latest message, or to a time, or some partitions of a topic",
				examples: []string{
					"amqpemu groups reset billing_app --to earliest",
					"amqpemu groups reset billing_app --time 2025-06-01T08:00:00Z",
					"amqpemu groups reset billing_app --time 1748764800000",
					"amqpemu groups reset billing_app --topic pk1 --partition 0=5 --partition 1=earliest",
				}, setup: groupsReset},
		},
	}
}

func groupTable(w io.Writer, groups ...apiGroup) {
	row(w, "ID", "NAME", "CREATED")
	for _, g := range groups {
		row(w, g.ID, g.Name, when(&g.CreatedAt))
	}
}

func groupsList(fs *flag.FlagSet) runFunc {
	fs.String("name", "", "only the group named `N` (with --fuzzy: whose name contains N)")
	fs.Bool("fuzzy", false, "match --name as a substring")
	fs.Int("page", 1, "the page to show, from 1")
	fs.Int("page-size", 1000, "groups per page, 1 to 1000")
	return func(ctx context.Context, c *client, _ []string) error {
		// Only what was given is sent: the API checks the values and has
		// the defaults.
		q := url.Values{}
		params := map[string]string{"name": "name", "fuzzy": "fuzzy", "page": "page", "page-size": "pageSize"}
		fs.Visit(func(f *flag.Flag) {
			if p, ok := params[f.Name]; ok {
				q.Set(p, f.Value.String())
			}
		})
		var page apiGroupPage
		data, err := c.do(ctx, http.MethodGet, "/api/v1/groups", q, nil, &page)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) {
			if len(page.Groups) == 0 && page.Page <= 1 {
				fmt.Fprintln(w, "no groups")
				return
			}
			groupTable(w, page.Groups...)
			if page.PageCount > 1 || page.Page > 1 {
				fmt.Fprintf(w, "page %d of %d, %s\n", page.Page, page.PageCount, plural(page.Total, "group"))
			}
		})
	}
}

func groupsCreate(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		var g apiGroup
		data, err := c.do(ctx, http.MethodPost, "/api/v1/groups", nil, map[string]string{"name": args[0]}, &g)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) { groupTable(w, g) })
	}
}

func groupsRename(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		var g apiGroup
		data, err := c.do(ctx, http.MethodPatch, groupPath(args[0]), nil, map[string]string{"name": args[1]}, &g)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) { groupTable(w, g) })
	}
}

func groupsDelete(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		data, err := c.do(ctx, http.MethodDelete, groupPath(args[0]), nil, nil, nil)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) { fmt.Fprintf(w, "deleted group %s\n", args[0]) })
	}
}

func groupsStatus(*flag.FlagSet) runFunc {
	return func(ctx context.Context, c *client, args []string) error {
		var st apiGroupStatus
		data, err := c.do(ctx, http.MethodGet, groupPath(args[0], "/status"), nil, nil, &st)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) {
			row(w, "accumulation:", st.Accumulation)
			row(w, "realtime rate:", fmt.Sprintf("%d/min", st.RealtimeRate))
			row(w, "backlog rate:", fmt.Sprintf("%d/min", st.BacklogRate))
			row(w, "last consumed:", when(st.LastConsumedAt))
			row(w, "clients:", len(st.Clients))
			if len(st.Clients) == 0 {
				return
			}
			fmt.Fprintln(w)
			row(w, "CLIENT ID", "ADDRESS", "ONLINE SINCE", "REALTIME RATE", "BACKLOG RATE")
			for _, cl := range st.Clients {
				row(w, orDash(cl.ClientID), orDash(cl.Address), when(cl.OnlineSince),
					fmt.Sprintf("%d/min", cl.RealtimeRate), fmt.Sprintf("%d/min", cl.BacklogRate))
			}
		})
	}
}

func groupsClear(fs *flag.FlagSet) runFunc {
	yes := fs.Bool("yes", false, "clear without asking")
	return func(ctx context.Context, c *client, args []string) error {
		group := args[0]
		if !*yes {
			if !c.std.inTerminal {
				return c.usageError("stdin is not a terminal to ask on; give --yes to clear %s", group)
			}
			var st apiGroupStatus
			if _, err := c.do(ctx, http.MethodGet, groupPath(group, "/status"), nil, nil, &st); err != nil {
				return err
			}
			fmt.Fprintf(c.std.err, "clear %s of %s? [y/N] ", plural(st.Accumulation, "message"), group)
			if !confirmed(c.std.in) {
				return errors.New("not confirmed; nothing cleared")
			}
		}
		data, err := c.do(ctx, http.MethodPost, groupPath(group, "/clear"), nil, nil, nil)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) { fmt.Fprintf(w, "cleared the backlog of group %s\n", group) })
	}
}

// confirmed reads one line and reports whether it is y or yes.
func confirmed(in io.Reader) bool {
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

func groupsReset(fs *flag.FlagSet) runFunc {
	to := fs.String("to", "", "`earliest|latest`: redeliver every retained message, or skip the backlog")
	at := fs.String("time", "", "a `time`: RFC 3339 (2025-06-01T08:00:00Z) or epoch milliseconds")
	topic := fs.String("topic", "", "with --partition: the `topic` (a product key) whose partitions move; the other partitions and products stay where they are")
	var parts partitionFlags
	fs.Var(&parts, "partition", "with --topic, repeatable: `P=POSITION` moves partition P to POSITION, an offset (a message's seq), earliest, latest or an RFC 3339 time; refused while the group has online clients")
	return func(ctx context.Context, c *client, args []string) error {
		body, target, err := resetRequest(*to, *at, *topic, parts)
		if err != nil {
			return c.usageError("%v", err)
		}
		data, err := c.do(ctx, http.MethodPost, groupPath(args[0], "/reset"), nil, body, nil)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) { fmt.Fprintf(w, "reset group %s %s\n", args[0], target) })
	}
}

// apiGroupPartitions is GET /api/v1/groups/{id}/partitions.
type apiGroupPartitions struct {
	Group      string `json:"group"`
	Topic      string `json:"topic"`
	Partitions []struct {
		Partition int   `json:"partition"`
		Offset    int64 `json:"offset"`
		Pending   int   `json:"pending"`
	} `json:"partitions"`
}

func groupsPartitions(fs *flag.FlagSet) runFunc {
	topic := fs.String("topic", "", "the `topic`: a product key")
	return func(ctx context.Context, c *client, args []string) error {
		if *topic == "" {
			return c.usageError("give --topic (a product key)")
		}
		var ps apiGroupPartitions
		data, err := c.do(ctx, http.MethodGet, groupPath(args[0], "/partitions"), url.Values{"topic": {*topic}}, nil, &ps)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) {
			row(w, "PARTITION", "OFFSET", "PENDING")
			for _, p := range ps.Partitions {
				row(w, p.Partition, p.Offset, p.Pending)
			}
		})
	}
}

// resetRequest is the body of POST /api/v1/groups/{id}/reset for the
// flags of groups reset, and what it does in words.
func resetRequest(to, at, topic string, parts partitionFlags) (body any, target string, err error) {
	if topic != "" || len(parts) > 0 {
		switch {
		case to != "" || at != "":
			return nil, "", errors.New("give --to or --time for the whole group, or --topic with --partition, not both")
		case topic == "":
			return nil, "", errors.New("--partition needs --topic (a product key)")
		case len(parts) == 0:
			return nil, "", errors.New("--topic needs at least one --partition P=POSITION")
		}
		words := make([]string, len(parts))
		for i, p := range parts {
			words[i] = fmt.Sprintf("partition %d to %s", p.Partition, p.describe())
		}
		return apiPartitionsReset{Topic: topic, Partitions: parts}, "in topic " + topic + ": " + strings.Join(words, ", "), nil
	}
	switch {
	case (to == "") == (at == ""):
		return nil, "", errors.New("give --to earliest, --to latest, --time TIME, or --topic with --partition P=POSITION")
	case to == "earliest" || to == "latest":
		return map[string]string{"to": to}, "to " + to, nil
	case to != "":
		return nil, "", fmt.Errorf("--to is %q; it must be earliest or latest", to)
	}
	ms, err := parseTime(at)
	if err != nil {
		return nil, "", fmt.Errorf("--time: %v", err)
	}
	return map[string]int64{"timestamp": ms}, "to " + time.UnixMilli(ms).UTC().Format(time.RFC3339Nano), nil
}

// apiPartitionsReset is a per-partition reset's body.
type apiPartitionsReset struct {
	Topic      string              `json:"topic"`
	Partitions []apiPartitionReset `json:"partitions"`
}

// apiPartitionReset is one partition's new position: one of offset, to
// and timestamp.
type apiPartitionReset struct {
	Partition int    `json:"partition"`
	Offset    *int64 `json:"offset,omitempty"`
	To        string `json:"to,omitempty"`
	Timestamp int64  `json:"timestamp,omitempty"`
}

func (p apiPartitionReset) describe() string {
	switch {
	case p.Offset != nil:
		return "offset " + strconv.FormatInt(*p.Offset, 10)
	case p.To != "":
		return p.To
	}
	return time.UnixMilli(p.Timestamp).UTC().Format(time.RFC3339Nano)
}

// partitionFlags are the --partition P=POSITION flags, in order.
type partitionFlags []apiPartitionReset

func (f *partitionFlags) String() string {
	if f == nil {
		return ""
	}
	out := make([]string, len(*f))
	for i, p := range *f {
		out[i] = fmt.Sprintf("%d=%s", p.Partition, p.describe())
	}
	return strings.Join(out, ",")
}

// Set reads P=OFFSET, P=earliest, P=latest or P=TIME (RFC 3339; a number
// is an offset, never epoch milliseconds).
func (f *partitionFlags) Set(s string) error {
	ps, pos, ok := strings.Cut(s, "=")
	if !ok || pos == "" {
		return fmt.Errorf("%q is not P=POSITION (0=5, 1=earliest, 2=latest, 3=2025-06-01T08:00:00Z)", s)
	}
	n, err := strconv.Atoi(ps)
	if err != nil || n < 0 {
		return fmt.Errorf("%q: the partition %q is not a number from 0", s, ps)
	}
	for _, p := range *f {
		if p.Partition == n {
			return fmt.Errorf("partition %d is given twice", n)
		}
	}
	p := apiPartitionReset{Partition: n}
	switch {
	case pos == "earliest" || pos == "latest":
		p.To = pos
	default:
		if o, err := strconv.ParseInt(pos, 10, 64); err == nil {
			if o < 0 {
				return fmt.Errorf("%q: offset %d is negative", s, o)
			}
			p.Offset = &o
			break
		}
		t, err := time.Parse(time.RFC3339Nano, pos)
		if err != nil {
			return fmt.Errorf("%q: %q is neither an offset, earliest, latest nor an RFC 3339 time", s, pos)
		}
		p.Timestamp = t.UnixMilli()
	}
	*f = append(*f, p)
	return nil
}

// parseTime reads an RFC 3339 time or epoch milliseconds.
func parseTime(s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither an RFC 3339 time (2025-06-01T08:00:00Z) nor epoch milliseconds", s)
	}
	return t.UnixMilli(), nil
}

// apiPeek is GET /api/v1/groups/{id}/messages.
type apiPeek struct {
	Messages []struct {
		MessageID     string  `json:"messageId"`
		Topic         string  `json:"topic"`
		GenerateTime  int64   `json:"generateTime"`
		Delivered     bool    `json:"delivered"`
		Payload       *string `json:"payload"`
		PayloadBase64 string  `json:"payloadBase64"`
	} `json:"messages"`
}

func groupsPeek(fs *flag.FlagSet) runFunc {
	count := fs.Int("count", 10, "how many messages, 1 to 100")
	return func(ctx context.Context, c *client, args []string) error {
		var p apiPeek
		q := url.Values{"count": {strconv.Itoa(*count)}}
		data, err := c.do(ctx, http.MethodGet, groupPath(args[0], "/messages"), q, nil, &p)
		if err != nil {
			return err
		}
		return c.print(data, func(w io.Writer) {
			if len(p.Messages) == 0 {
				fmt.Fprintln(w, "no messages waiting")
				return
			}
			row(w, "MESSAGE ID", "TOPIC", "GENERATED", "DELIVERED", "PAYLOAD")
			for _, m := range p.Messages {
				body := "base64:" + m.PayloadBase64
				if m.Payload != nil {
					body = strconv.Quote(*m.Payload)
				}
				if len(body) > 80 {
					body = body[:77] + "..."
				}
				gen := time.UnixMilli(m.GenerateTime)
				row(w, m.MessageID, m.Topic, when(&gen), m.Delivered, body)
			}
		})
	}
}
