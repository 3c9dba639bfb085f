package console

import (
	"net/http"
	"net/url"
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

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) error {
	groups, err := s.b.Groups(r.Context())
	if err != nil {
		return err
	}
	out := make([]groupJSON, len(groups))
	for i, g := range groups {
		out[i] = toGroupJSON(g)
	}
	return writeJSON(w, http.StatusOK, struct {
		Groups []groupJSON `json:"groups"`
	}{out})
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
}

func (s *Server) groupStatus(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	// Checked first so that an id no consumer could be named after is a
	// plain 404, whatever the stats source does with it.
	if _, err := s.b.Group(r.Context(), id); err != nil {
		return err
	}
	st, err := s.stats.GroupStats(r.Context(), id)
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
			RealtimeRate: c.RealtimeRate, BacklogRate: c.BacklogRate,
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

const resetUsage = `the body must be {"to": "earliest"}, {"to": "latest"} or {"timestamp": <epoch milliseconds>}`

func (s *Server) resetGroup(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		To        *string `json:"to"`
		Timestamp *int64  `json:"timestamp"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
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
