package console_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/console"
	"github.com/amqpemu/amqpemu/history"
)

type historyBody struct {
	Group  string  `json:"group"`
	Every  float64 `json:"every"`
	Points []struct {
		Time          time.Time `json:"time"`
		Accumulation  int       `json:"accumulation"`
		RealtimeRate  int       `json:"realtimeRate"`
		BacklogRate   int       `json:"backlogRate"`
		OnlineClients int       `json:"onlineClients"`
	} `json:"points"`
}

// newHistoryEnv is a console with a sampler that took a sample every 30 s
// over the last two hours, the newest 20 s ago.
func newHistoryEnv(t *testing.T) (*env, *history.Sampler) {
	t.Helper()
	var s *history.Sampler
	e := newEnv(t, func(cfg *console.Config) {
		var err error
		if s, err = history.New(history.Config{Source: cfg.Broker}); err != nil {
			t.Fatal(err)
		}
		cfg.History = s
	})
	return e, s
}

func sampleHours(t *testing.T, s *history.Sampler) {
	t.Helper()
	base := time.Now().Add(-2*time.Hour + 10*time.Second)
	for i := range 240 {
		if err := s.Sample(context.Background(), base.Add(time.Duration(i)*30*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGroupHistory(t *testing.T) {
	e, s := newHistoryEnv(t)
	id := e.createGroup("charts_group")
	sampleHours(t, s)

	tests := []struct {
		name, path string
		wantGroup  string
		wantPoints int
		window     time.Duration
	}{
		{"default window", "/api/v1/groups/DEFAULT_GROUP/history", broker.DefaultGroupID, 30, 15 * time.Minute},
		{"1h", "/api/v1/groups/DEFAULT_GROUP/history?window=1h", broker.DefaultGroupID, 120, time.Hour},
		{"by name", "/api/v1/groups/charts_group/history?window=15m", id, 30, 15 * time.Minute},
		{"8h keeps what there is", "/api/v1/groups/" + id + "/history?window=8h", id, 0, 8 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body historyBody
			e.want(e.do("GET", tt.path, nil), http.StatusOK, &body)
			if body.Group != tt.wantGroup || body.Every != 5 {
				t.Fatalf("group %q every %v, want %q 5", body.Group, body.Every, tt.wantGroup)
			}
			if tt.wantPoints > 0 && len(body.Points) != tt.wantPoints {
				t.Fatalf("%d points, want %d", len(body.Points), tt.wantPoints)
			}
			if len(body.Points) == 0 || len(body.Points) > 600 {
				t.Fatalf("%d points", len(body.Points))
			}
			oldest := time.Now().Add(-tt.window)
			for i, p := range body.Points {
				if p.Time.Before(oldest) || (i > 0 && !p.Time.After(body.Points[i-1].Time)) {
					t.Fatalf("point %d at %s: outside the window or out of order", i, p.Time)
				}
			}
		})
	}
}

func TestGroupHistoryErrors(t *testing.T) {
	e, _ := newHistoryEnv(t)
	var body historyBody
	e.want(e.do("GET", "/api/v1/groups/DEFAULT_GROUP/history", nil), http.StatusOK, &body)
	if body.Points == nil || len(body.Points) != 0 {
		t.Fatalf("before any sample: points %v, want []", body.Points)
	}
	for _, w := range []string{"2d", "9h", "0s", "-1m", "500ms", "fifteen"} {
		e.wantError(e.do("GET", "/api/v1/groups/DEFAULT_GROUP/history?window="+w, nil), http.StatusBadRequest, console.CodeInvalidArgument)
	}
	e.wantError(e.do("GET", "/api/v1/groups/no_such_group/history", nil), http.StatusNotFound, console.CodeGroupNotFound)

	off := newEnv(t)
	off.wantError(off.do("GET", "/api/v1/groups/DEFAULT_GROUP/history", nil), http.StatusNotFound, console.CodeHistoryDisabled)
}
