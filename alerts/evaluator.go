package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/periodic"
)

// Source is what the evaluator reads from the engine; *broker.Broker
// satisfies it.
type Source interface {
	Groups(ctx context.Context) ([]broker.Group, error)
	// Group finds a group by id or, failing that, by name.
	Group(ctx context.Context, ref string) (broker.Group, error)
	GroupStats(ctx context.Context, id string) (broker.GroupStats, error)
}

// Store keeps rules, states and histories; *broker.StateBucket satisfies
// it. Get of an absent key returns an error wrapping broker.ErrStateNotFound.
type Store interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
	Keys(ctx context.Context) ([]string, error)
}

// Config sets up an Evaluator.
type Config struct {
	Source Source // required
	Store  Store  // required, e.g. broker.StateBucket("alerts")
	Logger zerolog.Logger
	// Registerer gets the evaluator's metrics; nil leaves them out.
	Registerer prometheus.Registerer

	// UserID is the callbacks' userId (the platform sends the account's).
	UserID string
	// Secret signs the callbacks (the signature field): see signature.
	Secret string

	// Now is Run's clock; nil means time.Now. Location is the time zone
	// of the effective intervals; nil means time.Local.
	Now      func() time.Time
	Location *time.Location
	// RetryWait is the pause between delivery attempts; 0 means one second.
	RetryWait time.Duration
	// QueueSize bounds the notifications awaiting delivery; 0 means 256.
	QueueSize int

	// Leads, when set, says whether this node evaluates: of the amqpemu
	// nodes of a cluster one does (broker.Broker.Leads), so each alert
	// fires once. Every node then reads the rules and states from Store at
	// each evaluation, so that any answers for the cluster. Nil: alone.
	Leads func() bool
}

// Delivery of a notification.
const (
	maxAttempts    = 3               // the platform retries up to 3 times
	attemptTimeout = 5 * time.Second // and waits 5 s for each
	maxHistory     = 50              // notifications kept per rule
	evaluateBudget = 10 * time.Second
)

// Keys in the Store.
const (
	rulePrefix    = "rule."
	statePrefix   = "state."
	historyPrefix = "history."
)

// Evaluator evaluates the alert rules and sends their notifications; it
// is also the service that manages the rules. Make it with New; Close it.
type Evaluator struct {
	src       Source
	store     Store
	log       zerolog.Logger
	now       func() time.Time
	loc       *time.Location
	userID    string
	secret    string
	retryWait time.Duration
	client    *http.Client
	leads     func() bool // nil alone (Config.Leads)

	// evalMu serializes Evaluate, the rule changes and the recording of
	// delivery outcomes, and with them every write to the store. Held
	// during I/O to the engine, never during a webhook call.
	evalMu sync.Mutex

	// mu guards the fields below. It is never held during I/O. rules and
	// everything reachable from it change only with both evalMu and mu
	// held, so either is enough to read them.
	mu      sync.Mutex
	rules   map[string]*ruleEntry
	counts  map[countKey]float64 // notifications sent, for the metrics
	pending int                  // notifications queued or being delivered
	idle    chan struct{}        // closed when pending drops to zero
	closed  bool

	queue      chan *delivery // to the sender; closed by Close
	sendCtx    context.Context
	cancelSend context.CancelFunc
	senderDone chan struct{}
}

// ruleEntry is a rule and what the evaluator knows of it.
type ruleEntry struct {
	rule    Rule
	groups  map[string]*groupState // by group id
	history []Notification         // newest first, at most maxHistory
}

// Notification is one callback, as History lists it.
type Notification struct {
	Time       time.Time `json:"time"`
	Group      string    `json:"group"`
	GroupName  string    `json:"groupName"`
	AlertState string    `json:"alertState"`
	Value      float64   `json:"value"`
	HTTPStatus int       `json:"httpStatus,omitempty"` // of the last attempt; 0 if none answered
	Attempts   int       `json:"attempts"`
	Error      string    `json:"error,omitempty"` // empty when delivered
}

// New loads the rules, their states and histories from cfg.Store and
// starts the sender. Run (or Evaluate) evaluates them.
func New(ctx context.Context, cfg Config) (*Evaluator, error) {
	if cfg.Source == nil || cfg.Store == nil {
		return nil, errors.New("alerts: Config.Source and Config.Store are required")
	}
	e := &Evaluator{
		src: cfg.Source, store: cfg.Store, log: cfg.Logger.With().Str("component", "alerts").Logger(),
		now: cfg.Now, loc: cfg.Location, userID: cfg.UserID, secret: cfg.Secret, retryWait: cfg.RetryWait,
		client: &http.Client{Timeout: attemptTimeout}, leads: cfg.Leads,
		rules: make(map[string]*ruleEntry), counts: make(map[countKey]float64),
		senderDone: make(chan struct{}),
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.loc == nil {
		e.loc = time.Local
	}
	if e.retryWait == 0 {
		e.retryWait = time.Second
	}
	size := cfg.QueueSize
	if size <= 0 {
		size = 256
	}
	if err := e.load(ctx); err != nil {
		return nil, err
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(collector{e}); err != nil {
			return nil, fmt.Errorf("alerts: registering metrics: %w", err)
		}
	}
	e.queue = make(chan *delivery, size)
	e.sendCtx, e.cancelSend = context.WithCancel(context.Background())
	go e.sendLoop()
	return e, nil
}

// load reads the store. Entries that do not decode are logged and left
// out; states and histories of rules that no longer exist are removed.
func (e *Evaluator) load(ctx context.Context) error {
	rules, err := e.readAll(ctx, true)
	if err == nil {
		e.rules = rules
	}
	return err
}

// reload reads the store again, for what other nodes of a cluster
// changed: the rules made through their APIs, the states their
// evaluations left. evalMu is held.
func (e *Evaluator) reload(ctx context.Context) error {
	rules, err := e.readAll(ctx, false)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.rules = rules
	e.mu.Unlock()
	return nil
}

// readAll reads every rule with its state and history; with prune, it
// removes the states and histories of rules that no longer exist.
func (e *Evaluator) readAll(ctx context.Context, prune bool) (map[string]*ruleEntry, error) {
	keys, err := e.store.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("alerts: reading the rules: %w", err)
	}
	rules := make(map[string]*ruleEntry)
	for _, k := range keys {
		if id, ok := strings.CutPrefix(k, rulePrefix); ok {
			var r Rule
			if err := e.read(ctx, k, &r); err != nil {
				e.log.Error().Err(err).Str("rule", id).Msg("alert rule left out")
				continue
			}
			rules[id] = &ruleEntry{rule: r, groups: map[string]*groupState{}}
		}
	}
	for _, k := range keys {
		prefix, id, _ := strings.Cut(k, ".")
		en := rules[id]
		var dst any
		switch {
		case prefix+"." == rulePrefix:
			continue
		case en == nil:
			if !prune {
				continue
			}
			if err := e.store.Delete(ctx, k); err != nil {
				return nil, fmt.Errorf("alerts: removing %s: %w", k, err)
			}
			continue
		case prefix+"." == statePrefix:
			dst = &en.groups
		case prefix+"." == historyPrefix:
			dst = &en.history
		default:
			continue
		}
		if err := e.read(ctx, k, dst); err != nil {
			e.log.Error().Err(err).Str("rule", id).Msg("alert rule state left out")
		}
		if en.groups == nil { // stored as null
			en.groups = map[string]*groupState{}
		}
	}
	return rules, nil
}

func (e *Evaluator) read(ctx context.Context, key string, v any) error {
	data, err := e.store.Get(ctx, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s is corrupt: %w", key, err)
	}
	return nil
}

func (e *Evaluator) write(ctx context.Context, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return e.store.Put(ctx, key, data)
}

// Run evaluates the rules every second until ctx ends. A failing
// evaluation (the engine away) is logged when it starts and when it ends.
func (e *Evaluator) Run(ctx context.Context) {
	periodic.Run(ctx, time.Second, e.now, e.Evaluate, e.log, "evaluating alert rules", "alert rules evaluated again")
}

// target is one group a rule watches, and its metric now.
type target struct {
	id, name string
	value    float64
	sampled  bool // false when the metric could not be read
}

// plan is what Evaluate found for one rule.
type plan struct {
	rule    Rule
	inside  bool     // now is in the effective interval
	known   bool     // targets is the complete list of the rule's groups
	targets []target // the groups that exist
}

// Evaluate samples every enabled rule's metric at now, closing the periods
// that now is past the end of, and queues the notifications they call
// for. Run calls it every second; tests call it with synthetic times.
func (e *Evaluator) Evaluate(ctx context.Context, now time.Time) error {
	e.evalMu.Lock()
	defer e.evalMu.Unlock()
	if e.leads != nil {
		if err := e.reload(ctx); err != nil {
			return err
		}
		if !e.leads() {
			return nil
		}
	}
	rules, closed := e.enabledRules()
	if closed {
		return broker.ErrClosed
	}
	if len(rules) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, evaluateBudget)
	defer cancel()
	plans, err := e.sample(ctx, rules, now)
	var sends []*delivery
	var dirty []string
	e.mu.Lock()
	for _, p := range plans {
		en := e.rules[p.rule.ID]
		ds, changed := e.apply(en, p, now)
		sends = append(sends, ds...)
		if changed {
			dirty = append(dirty, p.rule.ID)
		}
	}
	e.mu.Unlock()
	for _, id := range dirty {
		// Read without mu: only evalMu's holder changes it (see mu).
		if werr := e.write(ctx, statePrefix+id, e.rules[id].groups); werr != nil {
			err = errors.Join(err, fmt.Errorf("storing the state of rule %s: %w", id, werr))
		}
	}
	for _, d := range sends {
		e.enqueue(d)
	}
	return err
}

// enabledRules copies the enabled rules, in a stable order.
func (e *Evaluator) enabledRules() ([]Rule, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Rule
	for _, en := range e.rules {
		if en.rule.Enabled {
			out = append(out, en.rule)
		}
	}
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.ID, b.ID) })
	return out, e.closed
}

// sample reads each rule's groups and their metrics. Errors other than a
// group's absence are returned; the groups concerned go unsampled.
func (e *Evaluator) sample(ctx context.Context, rules []Rule, now time.Time) ([]plan, error) {
	s := &sampler{src: e.src, ctx: ctx, stats: map[string]statsRead{}}
	plans := make([]plan, 0, len(rules))
	for _, r := range rules {
		p := plan{rule: r, inside: r.window().contains(now.In(e.loc))}
		if p.inside {
			var groups []broker.Group
			groups, p.known = s.groupsOf(r)
			for _, g := range groups {
				st := s.statsOf(g.ID)
				if st.gone {
					continue // deleted since it was listed
				}
				t := target{id: g.ID, name: g.Name}
				if st.err == nil {
					t.value, t.sampled = metricValue(r.Metric, &st.stats), true
				}
				p.targets = append(p.targets, t)
			}
		}
		plans = append(plans, p)
	}
	return plans, errors.Join(s.errs...)
}

// sampler reads groups and their stats for one Evaluate, each once however
// many rules watch them.
type sampler struct {
	src     Source
	ctx     context.Context
	all     []broker.Group // every group, read for the first AllGroups rule
	allErr  error
	allRead bool
	stats   map[string]statsRead
	errs    []error
}

type statsRead struct {
	stats broker.GroupStats
	gone  bool  // the group does not exist
	err   error // another failure
}

// groupsOf lists a rule's groups, and whether the list is known complete
// (false when it could not be read).
func (s *sampler) groupsOf(r Rule) ([]broker.Group, bool) {
	if r.Group == AllGroups {
		if !s.allRead {
			s.all, s.allErr = s.src.Groups(s.ctx)
			s.allRead = true
			if s.allErr != nil {
				s.errs = append(s.errs, fmt.Errorf("listing groups: %w", s.allErr))
			}
		}
		return s.all, s.allErr == nil
	}
	g, err := s.src.Group(s.ctx, r.Group)
	switch {
	case err == nil:
		return []broker.Group{g}, true
	case errors.Is(err, broker.ErrGroupNotFound):
		return nil, true // deleted: the rule watches nothing
	}
	s.errs = append(s.errs, fmt.Errorf("rule %s: reading group %s: %w", r.ID, r.Group, err))
	return nil, false
}

func (s *sampler) statsOf(id string) statsRead {
	if st, ok := s.stats[id]; ok {
		return st
	}
	var st statsRead
	st.stats, st.err = s.src.GroupStats(s.ctx, id)
	if errors.Is(st.err, broker.ErrGroupNotFound) {
		st.gone = true
	} else if st.err != nil {
		s.errs = append(s.errs, fmt.Errorf("reading the status of group %s: %w", id, st.err))
	}
	s.stats[id] = st
	return st
}

// metricValue is a metric's value in a group's stats.
func metricValue(metric string, st *broker.GroupStats) float64 {
	switch metric {
	case MetricSpeed:
		return float64(st.RealtimeRate + st.BacklogRate)
	case MetricOnlineClients:
		return float64(len(st.Clients))
	}
	return float64(st.Accumulation)
}

// apply steps a rule's group states by a plan; mu and evalMu are held. It
// returns the notifications to send and whether the state changed.
func (e *Evaluator) apply(en *ruleEntry, p plan, now time.Time) ([]*delivery, bool) {
	changed := false
	if !p.inside {
		for _, st := range en.groups {
			changed = st.outside() || changed
		}
		return nil, changed
	}
	if p.known {
		for id := range en.groups {
			if !slices.ContainsFunc(p.targets, func(t target) bool { return t.id == id }) {
				delete(en.groups, id) // the group was deleted
				changed = true
			}
		}
	}
	var out []*delivery
	for _, t := range p.targets {
		st := en.groups[t.id]
		if st == nil {
			st = newGroupState(t.name, now)
			en.groups[t.id] = st
		}
		if st.GroupName != t.name {
			st.GroupName, changed = t.name, true
		}
		ev, c := st.step(&en.rule, now, t.value, t.sampled)
		changed = changed || c
		if ev != nil {
			out = append(out, e.newDelivery(en.rule, t.id, t.name, ev))
		}
	}
	return out, changed
}

// Flush waits until every queued notification has been delivered (or has
// failed) and recorded, or ctx ends.
func (e *Evaluator) Flush(ctx context.Context) error {
	e.mu.Lock()
	if e.pending == 0 {
		e.mu.Unlock()
		return nil
	}
	idle := e.idle
	e.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops evaluating and waits for the notifications queued to be
// delivered; when ctx ends first, the deliveries under way are abandoned
// (recorded as failed). It is safe to call twice.
func (e *Evaluator) Close(ctx context.Context) error {
	e.evalMu.Lock()
	e.mu.Lock()
	first := !e.closed
	e.closed = true
	e.mu.Unlock()
	if first {
		close(e.queue) // no enqueue can follow: enqueue runs under evalMu and checks closed
	}
	e.evalMu.Unlock()
	var err error
	select {
	case <-e.senderDone:
	case <-ctx.Done():
		err = ctx.Err()
		e.cancelSend()
		<-e.senderDone
	}
	e.cancelSend()
	return err
}
