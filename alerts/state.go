package alerts

import (
	"math"
	"time"
)

// Alert states, as the callback's alertState says them.
const (
	StateAlert            = "ALERT"
	StateOK               = "OK"
	StateInsufficientData = "INSUFFICIENT_DATA"
)

// Trigger levels of the callback: a rule here has one level, CRITICAL.
const (
	levelCritical = "CRITICAL"
	levelOK       = "OK"
)

// accumulator gathers one statistical period's samples.
type accumulator struct {
	Start int64   `json:"start"` // the period's start, Unix seconds
	N     int     `json:"n"`     // samples
	Sum   float64 `json:"sum"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
}

func (a *accumulator) add(v float64) {
	if a.N == 0 {
		a.Min, a.Max = v, v
	}
	a.N++
	a.Sum += v
	a.Min = math.Min(a.Min, v)
	a.Max = math.Max(a.Max, v)
}

func (a *accumulator) stat(statistics string) float64 {
	switch statistics {
	case StatMaximum:
		return a.Max
	case StatMinimum:
		return a.Min
	}
	return a.Sum / float64(a.N)
}

// periodStart is the start of the period of length p seconds holding t.
func periodStart(t time.Time, p int) int64 {
	s := t.Unix()
	r := s % int64(p)
	if r < 0 {
		r += int64(p)
	}
	return s - r
}

// groupState is a rule's state for one group; its JSON is the storage
// format.
type groupState struct {
	GroupName      string      `json:"groupName"`
	State          string      `json:"state"`
	Consecutive    int         `json:"consecutive"`     // breaching periods in a row
	Value          *float64    `json:"value,omitempty"` // the last closed period's statistic
	Since          time.Time   `json:"since"`           // when State was entered
	LastNotifiedAt time.Time   `json:"lastNotifiedAt,omitzero"`
	Period         accumulator `json:"period"` // the current period
}

func newGroupState(name string, now time.Time) *groupState {
	return &groupState{GroupName: name, State: StateInsufficientData, Since: now}
}

// event is a notification that a step decided to send.
type event struct {
	state    string        // StateAlert or StateOK
	pre      string        // the previous trigger level, "" for none
	value    float64       // the closed period's statistic
	alerting time.Duration // how long the rule has been alerting
	at       time.Time
}

// step advances the state to now: it closes the current period if now is
// past its end, then adds the sample v (if sampled). It returns the
// notification to send, if any, and whether the state changed.
func (st *groupState) step(r *Rule, now time.Time, v float64, sampled bool) (*event, bool) {
	var ev *event
	changed := false
	start := periodStart(now, r.Period)
	if st.Period.Start != start {
		if st.Period.N > 0 && st.Period.Start < start {
			ev = st.close(r, now)
		}
		// A period without samples is skipped: it neither breaches nor clears.
		st.Period = accumulator{Start: start}
		changed = true
	}
	if sampled {
		st.Period.add(v)
		changed = true
	}
	return ev, changed
}

// close ends the current period, which has samples.
func (st *groupState) close(r *Rule, now time.Time) *event {
	v := st.Period.stat(r.Statistics)
	st.Value = &v
	if !r.breach(v) {
		st.Consecutive = 0
		switch st.State {
		case StateAlert:
			ev := &event{state: StateOK, pre: levelCritical, value: v, alerting: now.Sub(st.Since), at: now}
			st.State, st.Since = StateOK, now
			return ev
		case StateInsufficientData:
			st.State, st.Since = StateOK, now
		}
		return nil
	}
	st.Consecutive = min(st.Consecutive+1, math.MaxInt32)
	switch {
	case st.Consecutive < r.Times:
		if st.State == StateInsufficientData {
			st.State, st.Since = StateOK, now
		}
		return nil
	case st.State != StateAlert:
		pre := ""
		if st.State == StateOK {
			pre = levelOK
		}
		st.State, st.Since, st.LastNotifiedAt = StateAlert, now, now
		return &event{state: StateAlert, pre: pre, value: v, at: now}
	case now.Sub(st.LastNotifiedAt) >= time.Duration(r.SilenceTime)*time.Second:
		// Only one alert is reported during each mute period.
		st.LastNotifiedAt = now
		return &event{state: StateAlert, pre: levelCritical, value: v, alerting: now.Sub(st.Since), at: now}
	}
	return nil
}

// outside is a step outside the effective interval: nothing is evaluated
// and the count of consecutive periods starts again. It reports whether
// the state changed.
func (st *groupState) outside() bool {
	if st.Consecutive == 0 && st.Period == (accumulator{}) {
		return false
	}
	st.Consecutive, st.Period = 0, accumulator{}
	return true
}
