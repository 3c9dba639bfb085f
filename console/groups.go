package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/amqpemu/amqpemu/broker"
)

// groupJSON is a group as the REST API shows it.
type groupJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

func toGroupJSON(g broker.Group) groupJSON {
	return groupJSON{ID: g.ID, Name: g.Name, CreatedAt: g.CreatedAt.UTC()}
}

// listGroups answers a page of the groups: ?name= (exact, or a substring
// with fuzzy=true), page (from 1) and pageSize (1–1000, default 1000).
func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	q, err := groupQuery(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := s.b.ListGroups(r.Context(), q)
	if err != nil {
		return err
	}
	out := make([]groupJSON, len(page.Groups))
	for i, g := range page.Groups {
		out[i] = toGroupJSON(g)
	}
	return writeJSON(w, http.StatusOK, struct {
		Groups    []groupJSON `json:"groups"`
		Total     int         `json:"total"`
		Page      int         `json:"page"`
		PageSize  int         `json:"pageSize"`
		PageCount int         `json:"pageCount"`
	}{out, page.Total, page.Page, page.PageSize, page.PageCount})
}

// groupQuery reads the listing's query parameters.
func groupQuery(v url.Values) (broker.GroupQuery, error) {
	q := broker.GroupQuery{Name: v.Get("name")}
	var err error
	if q.Page, err = intParam(v, "page"); err != nil {
		return q, err
	}
	if q.PageSize, err = intParam(v, "pageSize"); err != nil {
		return q, err
	}
	switch f := v.Get("fuzzy"); f {
	case "", "false":
	case "true":
		q.Fuzzy = true
	default:
		return q, errorf(http.StatusBadRequest, CodeInvalidArgument, "fuzzy is %q; it must be true or false", f)
	}
	return q, nil
}

// intParam is a positive integer query parameter, 0 when absent.
func intParam(v url.Values, name string) (int, error) {
	s := v.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, errorf(http.StatusBadRequest, CodeInvalidPageParams, "%s is %q; it must be a whole number from 1", name, s)
	}
	return n, nil
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	g, err := s.b.CreateGroup(r.Context(), in.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/groups/"+url.PathEscape(g.ID))
	return writeJSON(w, http.StatusCreated, toGroupJSON(g))
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request) error {
	g, err := s.b.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toGroupJSON(g))
}

// renameGroup is PATCH /api/v1/groups/{id} with {"name"}: the only
// property of a group that changes.
func (s *Server) renameGroup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name *string `json:"name"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Name == nil {
		return errorf(http.StatusBadRequest, CodeInvalidArgument, `the body must be {"name": "<new name>"}`)
	}
	g, err := s.b.RenameGroup(r.Context(), r.PathValue("id"), *in.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toGroupJSON(g))
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	if err := s.b.DeleteGroup(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// statusJSON is GET /api/v1/groups/{id}/status; rates are in messages per
// minute, times null when unknown.
type statusJSON struct {
	Accumulation   int          `json:"accumulation"`
	RealtimeRate   int          `json:"realtimeRate"`
	BacklogRate    int          `json:"backlogRate"`
	LastConsumedAt *time.Time   `json:"lastConsumedAt"`
	Clients        []clientJSON `json:"clients"`
}

type clientJSON struct {
	ClientID     string     `json:"clientId"`
	Address      string     `json:"address"`
	OnlineSince  *time.Time `json:"onlineSince"`
	RealtimeRate int        `json:"realtimeRate"`
	BacklogRate  int        `json:"backlogRate"`
	Node         string     `json:"node,omitempty"` // the amqpemu node it is on
}

func (s *Server) groupStatus(w http.ResponseWriter, r *http.Request) error {
	// Resolved first so that the stats source gets an id, and an id no
	// consumer could be named after is a plain 404.
	g, err := s.b.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	st, err := s.stats.GroupStats(r.Context(), g.ID)
	if err != nil {
		return err
	}
	out := statusJSON{
		Accumulation:   st.Accumulation,
		RealtimeRate:   st.RealtimeRate,
		BacklogRate:    st.BacklogRate,
		LastConsumedAt: optTime(st.LastConsumedAt),
		Clients:        make([]clientJSON, len(st.Clients)),
	}
	for i, c := range st.Clients {
		out.Clients[i] = clientJSON{
			ClientID: c.ClientID, Address: c.Address, OnlineSince: optTime(c.OnlineSince),
			RealtimeRate: c.RealtimeRate, BacklogRate: c.BacklogRate, Node: c.Node,
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// optTime is t in UTC to the millisecond, or nil (JSON null) when zero.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Millisecond)
	return &t
}

func (s *Server) clearGroup(w http.ResponseWriter, r *http.Request) error {
	if err := s.b.Clear(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

const resetUsage = `the body must be {"to": "earliest"}, {"to": "latest"}, {"timestamp": <epoch milliseconds>}` +
	` or {"topic": "<product key>", "partitions": [{"partition": 0, "offset": 5}, {"partition": 1, "to": "earliest"}]}`

// resetBody is POST /api/v1/groups/{id}/reset: the whole group (to or
// timestamp), or some partitions of one topic.
type resetBody struct {
	To         *string              `json:"to"`
	Timestamp  *int64               `json:"timestamp"`
	Topic      *string              `json:"topic"`
	Partitions []partitionResetBody `json:"partitions"`
}

// partitionResetBody is one partition's new position: exactly one of
// offset, to and timestamp.
type partitionResetBody struct {
	Partition *int64  `json:"partition"`
	Offset    *int64  `json:"offset"`
	To        *string `json:"to"`
	Timestamp *int64  `json:"timestamp"`
}

func (s *Server) resetGroup(w http.ResponseWriter, r *http.Request) error {
	var in resetBody
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Topic != nil || in.Partitions != nil {
		topic, parts, err := partitionResets(in)
		if err != nil {
			return err
		}
		if err := s.b.ResetPartitions(r.Context(), r.PathValue("id"), topic, parts); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	p, err := position(in.To, in.Timestamp)
	if err != nil {
		return err
	}
	if err := s.b.Reset(r.Context(), r.PathValue("id"), p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// groupPartitions is GET /api/v1/groups/{id}/partitions?topic=pk: the
// group's position (the offset it resumes at) and backlog in each
// partition of the topic.
func (s *Server) groupPartitions(w http.ResponseWriter, r *http.Request) error {
	topic := r.URL.Query().Get("topic")
	if topic == "" {
		return errorf(http.StatusBadRequest, CodeInvalidArgument, "give the topic (a product key): ?topic=<product key>")
	}
	g, err := s.b.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	parts, err := s.b.GroupPartitions(r.Context(), g.ID, topic)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Group      string                  `json:"group"`
		Topic      string                  `json:"topic"`
		Partitions []broker.GroupPartition `json:"partitions"`
	}{g.ID, topic, parts})
}

// partitionResets reads a per-partition reset body; the broker checks the
// topic and the partitions against the topic's.
func partitionResets(in resetBody) (string, []broker.PartitionPosition, error) {
	bad := func(format string, args ...any) (string, []broker.PartitionPosition, error) {
		return "", nil, errorf(http.StatusBadRequest, CodeInvalidArgument, format, args...)
	}
	switch {
	case in.To != nil || in.Timestamp != nil:
		return bad("give \"to\" or \"timestamp\" for the whole group, or \"topic\" and \"partitions\", not both; %s", resetUsage)
	case in.Topic == nil || *in.Topic == "":
		return bad("\"partitions\" needs a \"topic\" (a product key); %s", resetUsage)
	case len(in.Partitions) == 0:
		return bad("\"topic\" needs \"partitions\", a list of at least one; %s", resetUsage)
	case len(in.Partitions) > broker.MaxPartitions:
		return bad("%d partitions; a topic has at most %d", len(in.Partitions), broker.MaxPartitions)
	}
	parts := make([]broker.PartitionPosition, len(in.Partitions))
	for i, pb := range in.Partitions {
		if pb.Partition == nil {
			return bad("partitions[%d] has no \"partition\"", i)
		}
		if *pb.Partition < 0 || *pb.Partition >= broker.MaxPartitions {
			return "", nil, errorf(http.StatusBadRequest, CodePartitionNotFound, "partitions[%d]: partition %d is out of range (0 to %d)", i, *pb.Partition, broker.MaxPartitions-1)
		}
		pp := broker.PartitionPosition{Partition: int32(*pb.Partition)}
		switch given := countSet(pb.Offset != nil, pb.To != nil, pb.Timestamp != nil); {
		case given != 1:
			return bad("partitions[%d] (partition %d) needs exactly one of \"offset\", \"to\" and \"timestamp\"", i, pp.Partition)
		case pb.Offset != nil && *pb.Offset < 0:
			return bad("partitions[%d]: offset %d is negative; an offset is a message's sequence, from 1", i, *pb.Offset)
		case pb.Offset != nil:
			pp.Offset = *pb.Offset
		default:
			p, err := position(pb.To, pb.Timestamp)
			if err != nil {
				var e *Error
				if errors.As(err, &e) {
					e.Message = fmt.Sprintf("partitions[%d]: %s", i, e.Message)
				}
				return "", nil, err
			}
			pp.Position = p
		}
		parts[i] = pp
	}
	return *in.Topic, parts, nil
}

func countSet(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// position reads a reset body: exactly one of "to" and "timestamp".
func position(to *string, ts *int64) (broker.Position, error) {
	switch {
	case to != nil && ts != nil:
		return broker.Position{}, errorf(http.StatusBadRequest, CodeInvalidArgument, "give \"to\" or \"timestamp\", not both; %s", resetUsage)
	case to != nil && *to == "earliest":
		return broker.Position{Earliest: true}, nil
	case to != nil && *to == "latest":
		return broker.Position{Latest: true}, nil
	case to != nil:
		return broker.Position{}, errorf(http.StatusBadRequest, CodeInvalidArgument, "\"to\" is %q; %s", *to, resetUsage)
	case ts != nil && *ts > 0:
		return broker.Position{Time: time.UnixMilli(*ts)}, nil
	case ts != nil:
		return broker.Position{}, errorf(http.StatusBadRequest, CodeInvalidArgument, "\"timestamp\" is %d; it must be a positive number of milliseconds since 1970", *ts)
	}
	return broker.Position{}, errorf(http.StatusBadRequest, CodeInvalidArgument, "%s", resetUsage)
}
