package broker

import (
	"context"
	"time"
)

// rateWindow counts events over the last minute in one-second buckets, so
// a rate in messages per minute is a sum, not an average over all time.
type rateWindow struct {
	buckets [60]uint32
	stamp   [60]int64 // the second each bucket counts
}

func (w *rateWindow) add(now time.Time) { w.addN(now, 1) }

// addN counts n events at now.
func (w *rateWindow) addN(now time.Time, n uint32) {
	s := now.Unix()
	i := s % 60
	if w.stamp[i] != s {
		w.stamp[i], w.buckets[i] = s, 0
	}
	w.buckets[i] += n
}

// perMinute is how many events happened in the 60 seconds before now.
func (w *rateWindow) perMinute(now time.Time) int {
	if w == nil {
		return 0
	}
	s := now.Unix()
	n := 0
	for i := range w.buckets {
		if s-w.stamp[i] < 60 {
			n += int(w.buckets[i])
		}
	}
	return n
}

// consumption counts acknowledged messages: real-time ones (delivered soon
// after they arrived) and backlog ones (redelivered, or waiting longer than
// backlogAge before delivery). Its windows (720 bytes each) are made on
// first use: an idle member needs neither.
type consumption struct {
	realtime, backlog *rateWindow
	last              time.Time
}

// backlogAge is how long a message may wait before its consumption counts
// as backlog rather than real-time.
const backlogAge = 10 * time.Second

func (c *consumption) add(now time.Time, backlog bool) {
	w := &c.realtime
	if backlog {
		w = &c.backlog
	}
	if *w == nil {
		*w = new(rateWindow)
	}
	(*w).add(now)
	c.last = now
}

// ClientStats describes one online client of a group.
type ClientStats struct {
	ClientID     string
	Address      string
	OnlineSince  time.Time
	RealtimeRate int    // messages per minute
	BacklogRate  int    // messages per minute
	Node         string // the amqpemu node it is on (Broker.Nodes)
}

// GroupStats is a group's consumption status, as the vendor's console shows it.
type GroupStats struct {
	Accumulation   int
	RealtimeRate   int // messages per minute, all clients
	BacklogRate    int
	LastConsumedAt time.Time // zero if nothing was consumed since start
	Clients        []ClientStats
}

// GroupStats returns a group's backlog, consumption rates and online clients.
func (b *Broker) GroupStats(ctx context.Context, ref string) (GroupStats, error) {
	grp, err := b.Group(ctx, ref)
	if err != nil {
		return GroupStats{}, err
	}
	id := grp.ID
	acc, err := b.Backlog(ctx, id)
	if err != nil {
		return GroupStats{}, err
	}
	st := GroupStats{Accumulation: acc}
	parts := []nodeStats{b.localStats(consumerName(id))}
	if b.shared() {
		parts = append(parts, b.gatherStats(ctx, consumerName(id))...)
	}
	for _, p := range parts {
		st.RealtimeRate += p.RealtimeRate
		st.BacklogRate += p.BacklogRate
		if p.LastConsumed.After(st.LastConsumedAt) {
			st.LastConsumedAt = p.LastConsumed
		}
		st.Clients = append(st.Clients, p.Clients...)
	}
	return st, nil
}
