package history

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/periodic"
)

// Source is what the sampler reads from the engine; *broker.Broker
// satisfies it.
type Source interface {
	Groups(ctx context.Context) ([]broker.Group, error)
	GroupStats(ctx context.Context, id string) (broker.GroupStats, error)
}

// Defaults of Config.
const (
	DefaultEvery = 5 * time.Second
	DefaultKeep  = 8 * time.Hour
)

// sampleBudget bounds one Sample's reads of the engine.
const sampleBudget = 10 * time.Second

// Config sets up a Sampler.
type Config struct {
	Source Source // required
	// Every is the sampling interval; 0 means DefaultEvery.
	Every time.Duration
	// Keep is how far back the samples go; 0 means DefaultKeep. Each group
	// keeps Keep/Every samples (5760 at the defaults).
	Keep time.Duration
	// Now is Run's clock; nil means time.Now.
	Now    func() time.Time
	Logger zerolog.Logger
}

// Point is one sample of a group's counters, as History returns it.
type Point struct {
	Time          time.Time `json:"time"`
	Accumulation  int       `json:"accumulation"`
	RealtimeRate  int       `json:"realtimeRate"` // messages per minute
	BacklogRate   int       `json:"backlogRate"`  // messages per minute
	OnlineClients int       `json:"onlineClients"`
}

// sample is a Point as a ring stores it: 32 bytes (8 + 8 + 3×4, padded),
// so a group's ring at the defaults (5760 samples) is 184 KB, and 1000
// groups (the broker's default limit) at most 184 MB. Rings grow to their
// capacity as samples arrive: a group created an hour ago holds 720.
type sample struct {
	unixMilli     int64
	accumulation  int64
	realtimeRate  int32
	backlogRate   int32
	onlineClients int32
}

func (s sample) point() Point {
	return Point{
		Time: time.UnixMilli(s.unixMilli), Accumulation: int(s.accumulation),
		RealtimeRate: int(s.realtimeRate), BacklogRate: int(s.backlogRate), OnlineClients: int(s.onlineClients),
	}
}

// ring holds a group's newest samples, oldest first from next once full.
type ring struct {
	buf  []sample // grows by append up to capacity, then wraps
	next int      // where the next sample goes once len(buf) == capacity
}

func (r *ring) add(s sample, capacity int) {
	if len(r.buf) < capacity {
		r.buf = append(r.buf, s)
		return
	}
	r.buf[r.next] = s
	r.next = (r.next + 1) % capacity
}

// last is the newest sample; ok is false for an empty ring.
func (r *ring) last() (sample, bool) {
	if len(r.buf) == 0 {
		return sample{}, false
	}
	return r.at(len(r.buf) - 1), true // next stays 0 until the ring is full
}

// at is the i-th oldest sample.
func (r *ring) at(i int) sample { return r.buf[(r.next+i)%len(r.buf)] }

// Sampler samples every group's counters and keeps their recent history.
// Make it with New; Start runs it in a goroutine that Close waits for, or
// call Run (or Sample) yourself.
type Sampler struct {
	src      Source
	every    time.Duration
	capacity int // samples per group
	now      func() time.Time
	log      zerolog.Logger

	// sampleMu serializes Sample; held during I/O to the engine.
	sampleMu sync.Mutex

	// mu guards rings. It is never held during I/O.
	mu    sync.Mutex
	rings map[string]*ring // by group id

	// Owned by Start and Close.
	lifeMu  sync.Mutex
	cancel  context.CancelFunc
	done    chan struct{} // closed when Start's goroutine ends
	started bool
}

// New makes a Sampler; it samples nothing until Start, Run or Sample.
func New(cfg Config) (*Sampler, error) {
	if cfg.Source == nil {
		return nil, errors.New("history: Config.Source is required")
	}
	if cfg.Every == 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.Keep == 0 {
		cfg.Keep = DefaultKeep
	}
	if cfg.Every < 0 || cfg.Keep < cfg.Every {
		return nil, fmt.Errorf("history: Every (%s) must be positive and Keep (%s) at least Every", cfg.Every, cfg.Keep)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sampler{
		src: cfg.Source, every: cfg.Every, capacity: int(cfg.Keep / cfg.Every), now: cfg.Now,
		log: cfg.Logger.With().Str("component", "history").Logger(), rings: map[string]*ring{},
	}, nil
}

// Every is the sampling interval.
func (s *Sampler) Every() time.Duration { return s.every }

// Capacity is how many samples each group keeps.
func (s *Sampler) Capacity() int { return s.capacity }

// Start runs Run in a goroutine of the sampler's until Close. A second
// Start, or one after Close, does nothing.
func (s *Sampler) Start() {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.started {
		return
	}
	s.started = true
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go func() {
		defer close(s.done)
		s.Run(ctx)
	}()
}

// Close stops Start's goroutine and waits for it to end. It is safe to
// call twice, and without Start. The history stays readable.
func (s *Sampler) Close() {
	s.lifeMu.Lock()
	s.started = true // no Start after Close
	cancel, done := s.cancel, s.done
	s.lifeMu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Run samples every Every until ctx ends or the broker closes. A failing
// sample (the engine away) is logged when it starts and when it ends.
func (s *Sampler) Run(ctx context.Context) {
	periodic.Run(ctx, s.every, s.now, s.Sample, s.log, "sampling group history", "group history sampled again")
}

// Sample takes one sample of every group at now. The rings of groups that
// no longer exist are dropped; a group whose stats cannot be read misses
// this sample. A sample not after a group's newest (the clock stepped
// back) is left out. Run calls it every Every; tests call it with
// synthetic times.
func (s *Sampler) Sample(ctx context.Context, now time.Time) error {
	s.sampleMu.Lock()
	defer s.sampleMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, sampleBudget)
	defer cancel()
	groups, err := s.src.Groups(ctx)
	if err != nil {
		return fmt.Errorf("history: listing groups: %w", err)
	}
	taken := make(map[string]sample, len(groups))
	var errs []error
	for _, g := range groups {
		st, err := s.src.GroupStats(ctx, g.ID)
		switch {
		case errors.Is(err, broker.ErrGroupNotFound):
			continue // deleted since it was listed
		case err != nil:
			errs = append(errs, fmt.Errorf("history: reading the status of group %s: %w", g.ID, err))
			taken[g.ID] = sample{unixMilli: -1} // kept, not sampled
			continue
		}
		taken[g.ID] = sample{
			unixMilli: now.UnixMilli(), accumulation: int64(st.Accumulation),
			realtimeRate: int32(st.RealtimeRate), backlogRate: int32(st.BacklogRate), onlineClients: int32(len(st.Clients)),
		}
	}
	s.record(taken)
	return errors.Join(errs...)
}

// record adds the samples taken and drops the rings of groups not among
// them; a sample with unixMilli -1 keeps its group's ring unchanged.
func (s *Sampler) record(taken map[string]sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.rings {
		if _, ok := taken[id]; !ok {
			delete(s.rings, id)
		}
	}
	for id, smp := range taken {
		if smp.unixMilli < 0 {
			continue
		}
		r := s.rings[id]
		if r == nil {
			r = &ring{}
			s.rings[id] = r
		}
		if last, ok := r.last(); ok && smp.unixMilli <= last.unixMilli {
			continue
		}
		r.add(smp, s.capacity)
	}
}

// History returns a group's samples newer than since, oldest first,
// downsampled to at most one per step: the samples are bucketed by their
// time truncated to a multiple of step (so a chart polled again sees the
// same buckets), and each bucket becomes one point with the time, rates
// and online clients of its last sample and the largest accumulation of
// its samples (so a backlog spike survives downsampling). A step up to
// Every returns every sample. An unknown group has no points (nil).
func (s *Sampler) History(id string, since time.Time, step time.Duration) []Point {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rings[id]
	if r == nil {
		return nil
	}
	sinceMs, stepMs := since.UnixMilli(), step.Milliseconds()
	if step <= s.every || stepMs <= 0 {
		stepMs = 0
	}
	var out []Point
	var cur sample
	curBucket, have := int64(0), false
	for i := range len(r.buf) {
		smp := r.at(i)
		if smp.unixMilli <= sinceMs {
			continue
		}
		if stepMs == 0 {
			out = append(out, smp.point())
			continue
		}
		b := floorDiv(smp.unixMilli, stepMs)
		if have && b == curBucket {
			smp.accumulation = max(smp.accumulation, cur.accumulation)
			cur = smp
			continue
		}
		if have {
			out = append(out, cur.point())
		}
		cur, curBucket, have = smp, b, true
	}
	if have {
		out = append(out, cur.point())
	}
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
