package alerts_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/alerts"
	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/brokertest"
)

// t0 is a synthetic time at the start of every period used here (a
// multiple of 3600 s since the epoch); effective intervals are in UTC.
var t0 = time.Date(2030, 1, 7, 12, 0, 0, 0, time.UTC)

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// scripted is the real broker, except that the metrics of the groups
// given a value in set are that value: tests choose each sample.
type scripted struct {
	*broker.Broker
	mu     sync.Mutex
	values map[string]broker.GroupStats
}

func (s *scripted) GroupStats(ctx context.Context, id string) (broker.GroupStats, error) {
	s.mu.Lock()
	st, ok := s.values[id]
	s.mu.Unlock()
	if !ok {
		return s.Broker.GroupStats(ctx, id)
	}
	if _, err := s.Group(ctx, id); err != nil { // deleted groups are gone whatever the script says
		return broker.GroupStats{}, err
	}
	return st, nil
}

// set makes group id's accumulation v.
func (s *scripted) set(id string, v int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]broker.GroupStats{}
	}
	s.values[id] = broker.GroupStats{Accumulation: v}
}

// call is one request the receiver got.
type call struct {
	path        string
	contentType string
	body        []byte
}

func (c call) form(t *testing.T) url.Values {
	t.Helper()
	v, err := url.ParseQuery(string(c.body))
	if err != nil {
		t.Fatalf("body %q: %v", c.body, err)
	}
	return v
}

// receiver is a webhook endpoint recording what it gets; status (when
// set) chooses the answer to the n-th request (from 1).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	calls   []call
	status  func(n int) int
	blocked chan struct{} // when set, requests wait for it to close (or for the client to give up)
}

// block makes the receiver hold every request until the test ends.
func (r *receiver) block(t *testing.T) {
	r.mu.Lock()
	r.blocked = make(chan struct{})
	r.mu.Unlock()
	t.Cleanup(func() { close(r.blocked) })
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.calls = append(r.calls, call{path: req.URL.Path, contentType: req.Header.Get("Content-Type"), body: body})
		n, status, blocked := len(r.calls), r.status, r.blocked
		r.mu.Unlock()
		if blocked != nil {
			select {
			case <-blocked:
			case <-req.Context().Done():
			}
		}
		if req.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if status != nil {
			w.WriteHeader(status(n))
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// fixture is an evaluator over a real broker in a temporary directory.
type fixture struct {
	t    *testing.T
	dir  string
	b    *broker.Broker
	src  *scripted
	ev   *alerts.Evaluator
	reg  *prometheus.Registry
	hook *receiver
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), hook: newReceiver(t)}
	f.b = brokertest.Open(t, f.dir)
	f.src = &scripted{Broker: f.b}
	f.start()
	return f
}

// start makes a new evaluator over the broker.
func (f *fixture) start() {
	f.t.Helper()
	f.reg = prometheus.NewRegistry()
	ev, err := alerts.New(ctxT(f.t), alerts.Config{
		Source: f.src, Store: f.b.StateBucket("alerts"), Registerer: f.reg,
		Logger: zerolog.New(zerolog.NewTestWriter(f.t)).Level(zerolog.WarnLevel),
		UserID: "test-user", Secret: "test-secret", Location: time.UTC, RetryWait: time.Millisecond,
		Now: func() time.Time { return t0 },
	})
	if err != nil {
		f.t.Fatal(err)
	}
	f.ev = ev
	f.t.Cleanup(func() { ev.Close(context.Background()) })
}

// restart closes the evaluator and the broker, and opens both again over
// the same directory.
func (f *fixture) restart() {
	f.t.Helper()
	ctx := ctxT(f.t)
	if err := f.ev.Close(ctx); err != nil {
		f.t.Fatal(err)
	}
	f.b.Close(ctx)
	f.b = brokertest.Open(f.t, f.dir)
	f.src.Broker = f.b
	f.start()
}

func (f *fixture) group(name string) string {
	f.t.Helper()
	g, err := f.b.CreateGroup(ctxT(f.t), name)
	if err != nil {
		f.t.Fatal(err)
	}
	return g.ID
}

// rule is a valid spec for group with threshold >= 100, times 1, a 60 s
// period and no mute; mod changes it.
func (f *fixture) rule(group string, mod ...func(*alerts.RuleSpec)) alerts.Rule {
	f.t.Helper()
	spec := spec(group, f.hook.URL+"/hook")
	for _, m := range mod {
		m(&spec)
	}
	r, err := f.ev.Create(ctxT(f.t), spec)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func spec(group, webhook string) alerts.RuleSpec {
	return alerts.RuleSpec{
		Name: "backlog high", Group: group, Metric: "AccumulationCount", Comparison: ">=", Threshold: ptr(100.0),
		Period: ptr(60), Times: ptr(1), SilenceTime: ptr(0), Webhook: webhook,
	}
}

func ptr[T any](v T) *T { return &v }

// eval evaluates at t0 + at.
func (f *fixture) eval(at time.Duration) {
	f.t.Helper()
	if err := f.ev.Evaluate(ctxT(f.t), t0.Add(at)); err != nil {
		f.t.Fatalf("Evaluate at +%v: %v", at, err)
	}
}

// feed samples group once per 60 s period, values[k] at the start of
// period first+k. A period closes at the first sample of the next: feeding
// n+1 values closes n periods.
func (f *fixture) feed(group string, first int, values ...int) {
	f.t.Helper()
	for k, v := range values {
		f.src.set(group, v)
		f.eval(time.Duration(first+k) * time.Minute)
	}
}

// flush waits for the deliveries under way and returns every call the
// receiver got.
func (f *fixture) flush() []call {
	f.t.Helper()
	if err := f.ev.Flush(ctxT(f.t)); err != nil {
		f.t.Fatal(err)
	}
	return f.hook.got()
}

func (f *fixture) status(id string) alerts.RuleStatus {
	f.t.Helper()
	st, err := f.ev.Get(ctxT(f.t), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// groupStatus is rule id's state for group.
func (f *fixture) groupStatus(id, group string) alerts.GroupStatus {
	f.t.Helper()
	for _, g := range f.status(id).Groups {
		if g.Group == group {
			return g
		}
	}
	f.t.Fatalf("rule %s has no state for group %s", id, group)
	return alerts.GroupStatus{}
}

// wantCalls checks the receiver got n calls with these alert states.
func (f *fixture) wantCalls(states ...string) []call {
	f.t.Helper()
	calls := f.flush()
	if len(calls) != len(states) {
		f.t.Fatalf("%d calls, want %d (%v)", len(calls), len(states), bodies(calls))
	}
	for i, c := range calls {
		if got := c.form(f.t).Get("alertState"); got != states[i] {
			f.t.Fatalf("call %d: alertState %q, want %q (%s)", i, got, states[i], c.body)
		}
	}
	return calls
}

func bodies(calls []call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = string(c.body)
	}
	return out
}

func decodeJSON(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return m
}
