package console

import (
	"net/http"
	"time"

	"github.com/amqpemu/amqpemu/history"
)

// History is the sampled history of the groups' counters for
// GET /api/v1/groups/{id}/history; *history.Sampler satisfies it.
type History interface {
	Every() time.Duration
	// History is a group's points newer than since, oldest first, at most
	// one per step.
	History(id string, since time.Time, step time.Duration) []history.Point
}

// The windows GET /api/v1/groups/{id}/history takes.
const (
	defaultHistoryWindow = 15 * time.Minute
	maxHistoryWindow     = 8 * time.Hour
	maxHistoryPoints     = 600
)

// historyJSON is GET /api/v1/groups/{id}/history; every is the sampling
// interval in seconds, rates are in messages per minute.
type historyJSON struct {
	Group  string      `json:"group"`
	Every  float64     `json:"every"`
	Points []pointJSON `json:"points"`
}

type pointJSON struct {
	Time          time.Time `json:"time"`
	Accumulation  int       `json:"accumulation"`
	RealtimeRate  int       `json:"realtimeRate"`
	BacklogRate   int       `json:"backlogRate"`
	OnlineClients int       `json:"onlineClients"`
}

// groupHistory answers the points of the last ?window= (default 15m, up to
// 8h) at a step of historyStep.
func (s *Server) groupHistory(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.History == nil {
		return errorf(http.StatusNotFound, CodeHistoryDisabled, "group history is off in this server (it runs without a sampler)")
	}
	g, err := s.b.Group(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	window, err := historyWindow(r.URL.Query().Get("window"))
	if err != nil {
		return err
	}
	every := s.cfg.History.Every()
	ps := s.cfg.History.History(g.ID, time.Now().Add(-window), historyStep(window, every))
	out := historyJSON{Group: g.ID, Every: every.Seconds(), Points: make([]pointJSON, len(ps))}
	for i, p := range ps {
		out.Points[i] = pointJSON{
			Time: p.Time.UTC().Truncate(time.Millisecond), Accumulation: p.Accumulation,
			RealtimeRate: p.RealtimeRate, BacklogRate: p.BacklogRate, OnlineClients: p.OnlineClients,
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// historyWindow reads ?window=: a Go duration from 1s to 8h.
func historyWindow(v string) (time.Duration, error) {
	if v == "" {
		return defaultHistoryWindow, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > maxHistoryWindow {
		return 0, errorf(http.StatusBadRequest, CodeInvalidArgument, "window is %q; it must be 15m, 1h or 8h (any duration from 1s to 8h)", v)
	}
	return d, nil
}

// historyStep keeps a window to at most maxHistoryPoints points: the
// window over 600 rounded up to whole seconds, and never below the
// sampling interval (15m and 1h at the default 5 s: 5 s and 6 s; 8h: 48 s).
func historyStep(window, every time.Duration) time.Duration {
	step := (window/maxHistoryPoints + time.Second - 1).Truncate(time.Second)
	return max(step, every)
}
