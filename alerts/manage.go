package alerts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/amqpemu/amqpemu/broker"
)

// ruleIDPrefix starts every rule id, as the platform's do.
const ruleIDPrefix = "alarmRule_uuid_"

// RuleStatus is a rule and its state for each group it watches.
type RuleStatus struct {
	Rule
	Groups []GroupStatus
}

// GroupStatus is a rule's state for one group.
type GroupStatus struct {
	Group       string
	GroupName   string
	State       string   // StateAlert, StateOK or StateInsufficientData
	Value       *float64 // the last closed period's statistic; nil before the first
	Consecutive int      // breaching periods in a row
	Since       time.Time
	// LastNotifiedAt is the last ALERT notification; zero if none.
	LastNotifiedAt time.Time
}

func (en *ruleEntry) status() RuleStatus {
	out := RuleStatus{Rule: en.rule, Groups: make([]GroupStatus, 0, len(en.groups))}
	for id, st := range en.groups {
		gs := GroupStatus{Group: id, GroupName: st.GroupName, State: st.State, Consecutive: st.Consecutive,
			Since: st.Since, LastNotifiedAt: st.LastNotifiedAt}
		if st.Value != nil {
			v := *st.Value
			gs.Value = &v
		}
		out.Groups = append(out.Groups, gs)
	}
	slices.SortFunc(out.Groups, func(a, b GroupStatus) int {
		return cmp.Or(cmp.Compare(a.GroupName, b.GroupName), cmp.Compare(a.Group, b.Group))
	})
	return out
}

// List returns every rule with its states, oldest first.
func (e *Evaluator) List(ctx context.Context) ([]RuleStatus, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, broker.ErrClosed
	}
	out := make([]RuleStatus, 0, len(e.rules))
	for _, en := range e.rules {
		out = append(out, en.status())
	}
	slices.SortFunc(out, func(a, b RuleStatus) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// Get returns one rule with its states.
func (e *Evaluator) Get(ctx context.Context, id string) (RuleStatus, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	en, err := e.entry(id)
	if err != nil {
		return RuleStatus{}, err
	}
	return en.status(), nil
}

// History returns a rule's recent notifications, newest first.
func (e *Evaluator) History(ctx context.Context, id string) ([]Notification, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	en, err := e.entry(id)
	if err != nil {
		return nil, err
	}
	return slices.Clone(en.history), nil
}

// entry finds a rule; mu is held.
func (e *Evaluator) entry(id string) (*ruleEntry, error) {
	if e.closed {
		return nil, broker.ErrClosed
	}
	en := e.rules[id]
	if en == nil {
		return nil, fmt.Errorf("%w: %s", ErrRuleNotFound, show(id))
	}
	return en, nil
}

// Create checks spec, stores the rule under a new id and returns it.
func (e *Evaluator) Create(ctx context.Context, spec RuleSpec) (Rule, error) {
	r, err := e.check(ctx, spec)
	if err != nil {
		return Rule{}, err
	}
	r.ID = ruleIDPrefix + newUUID()
	r.CreatedAt = e.now().UTC().Truncate(time.Millisecond)
	e.evalMu.Lock()
	defer e.evalMu.Unlock()
	if err := e.open(); err != nil {
		return Rule{}, err
	}
	if err := e.write(ctx, rulePrefix+r.ID, r); err != nil {
		return Rule{}, err
	}
	e.mu.Lock()
	e.rules[r.ID] = &ruleEntry{rule: r, groups: map[string]*groupState{}}
	e.mu.Unlock()
	e.log.Info().Str("rule", r.ID).Str("name", r.Name).Str("group", r.Group).Msg("alert rule created")
	return r, nil
}

// Update replaces a rule's settings with spec, keeping its id and creation
// time, and starts its evaluation afresh (its history stays).
func (e *Evaluator) Update(ctx context.Context, id string, spec RuleSpec) (Rule, error) {
	r, err := e.check(ctx, spec)
	if err != nil {
		return Rule{}, err
	}
	e.evalMu.Lock()
	defer e.evalMu.Unlock()
	e.mu.Lock()
	en, err := e.entry(id)
	e.mu.Unlock()
	if err != nil {
		return Rule{}, err
	}
	r.ID, r.CreatedAt = id, en.rule.CreatedAt
	if err := e.write(ctx, rulePrefix+id, r); err != nil {
		return Rule{}, err
	}
	if err := e.store.Delete(ctx, statePrefix+id); err != nil {
		return Rule{}, err
	}
	e.mu.Lock()
	en.rule, en.groups = r, map[string]*groupState{}
	e.mu.Unlock()
	e.log.Info().Str("rule", id).Str("name", r.Name).Str("group", r.Group).Msg("alert rule replaced")
	return r, nil
}

// Delete removes a rule, its state and its history.
func (e *Evaluator) Delete(ctx context.Context, id string) error {
	e.evalMu.Lock()
	defer e.evalMu.Unlock()
	e.mu.Lock()
	_, err := e.entry(id)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	if err := e.store.Delete(ctx, rulePrefix+id); err != nil {
		return err
	}
	e.mu.Lock()
	delete(e.rules, id)
	maps.DeleteFunc(e.counts, func(k countKey, _ float64) bool { return k.rule == id })
	e.mu.Unlock()
	// What a failure leaves here load removes at the next start.
	for _, k := range []string{statePrefix + id, historyPrefix + id} {
		if err := e.store.Delete(ctx, k); err != nil {
			e.log.Warn().Err(err).Str("rule", id).Msg("removing a deleted alert rule's state")
		}
	}
	e.log.Info().Str("rule", id).Msg("alert rule deleted")
	return nil
}

func (e *Evaluator) open() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return broker.ErrClosed
	}
	return nil
}

// check validates spec and resolves its group to an id.
func (e *Evaluator) check(ctx context.Context, spec RuleSpec) (Rule, error) {
	r, err := ruleFrom(spec)
	if err != nil {
		return Rule{}, err
	}
	if r.Group == AllGroups {
		return r, nil
	}
	g, err := e.src.Group(ctx, r.Group)
	if errors.Is(err, broker.ErrGroupNotFound) {
		return Rule{}, invalid(`"group" is %s: no consumer group has that id or name (give a group id or name, or "*" for every group)`, show(r.Group))
	}
	if err != nil {
		return Rule{}, err
	}
	r.Group = g.ID
	return r, nil
}
