package logservice

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// The live consumers of each group, from their heartbeats, and which
// shards each is to run. This is session state, as on the vendor's
// service: it is kept in memory, and after a restart the consumers' next
// heartbeats rebuild it (their checkpoints are in the state bucket).
//
// Assignment: the shards are spread evenly over the live consumers
// (counts differ by one at most), a shard staying with its owner while the
// owner is alive and within its share. A consumer silent for longer than
// the group's timeout is dropped and its shards go to the others. A shard
// is handed to its new owner only once no other live consumer reports
// holding it, nor was just given it (and may be starting it): the consumer
// library keeps reporting a shard until its worker has stopped and flushed
// the checkpoint, so no shard is run by two consumers at once.

// sessions holds every group's state, by group key.
type sessions struct {
	mu     sync.Mutex // guards groups and everything in them
	groups map[string]*groupSession
}

type groupSession struct {
	members map[string]*member // by consumer name
	owner   map[int]string     // shard → the consumer it is assigned to
}

type member struct {
	seen    time.Time
	held    []int // the shards its last heartbeat reported running
	granted []int // the shards its last heartbeat's answer gave it, which it may be starting
}

// heartbeat records consumer's heartbeat in group key (of a logstore of
// shards shards, timing out after timeout) and returns the shards it is
// to run, sorted.
func (ss *sessions) heartbeat(key, consumer string, held []int, shards int, timeout time.Duration, now time.Time) []int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	g := ss.group(key)
	g.expire(now, timeout)
	m := &member{seen: now, held: held}
	g.members[consumer] = m
	g.assign(shards)
	m.granted = []int{}
	for s := range shards {
		if g.owner[s] == consumer && !g.heldByOther(s, consumer) {
			m.granted = append(m.granted, s)
		}
	}
	return slices.Clone(m.granted)
}

// owns reports whether consumer is live in group key and assigned shard.
func (ss *sessions) owns(key, consumer string, shard int, timeout time.Duration, now time.Time) (live, assigned bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	g := ss.group(key)
	g.expire(now, timeout)
	_, live = g.members[consumer]
	return live, live && g.owner[shard] == consumer
}

// forget drops the groups whose key+"." begins with prefix.
func (ss *sessions) forget(prefix string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k := range ss.groups {
		if strings.HasPrefix(k+".", prefix) {
			delete(ss.groups, k)
		}
	}
}

func (ss *sessions) group(key string) *groupSession {
	if ss.groups == nil {
		ss.groups = map[string]*groupSession{}
	}
	g := ss.groups[key]
	if g == nil {
		g = &groupSession{members: map[string]*member{}, owner: map[int]string{}}
		ss.groups[key] = g
	}
	return g
}

// expire drops the members silent for longer than timeout.
func (g *groupSession) expire(now time.Time, timeout time.Duration) {
	for name, m := range g.members {
		if now.Sub(m.seen) > timeout {
			delete(g.members, name)
		}
	}
}

func (g *groupSession) heldByOther(shard int, consumer string) bool {
	for name, m := range g.members {
		if name != consumer && (slices.Contains(m.held, shard) || slices.Contains(m.granted, shard)) {
			return true
		}
	}
	return false
}

// assign keeps each shard with a live owner within its share and gives
// the rest to the least loaded. Shares: every live member gets
// shards/len, and the members holding the most (then by name) one more
// while shards%len remain.
func (g *groupSession) assign(shards int) {
	names := make([]string, 0, len(g.members))
	count := map[string]int{}
	for s, o := range g.owner {
		if _, live := g.members[o]; live && s < shards {
			count[o]++
		} else {
			delete(g.owner, s)
		}
	}
	for name := range g.members {
		names = append(names, name)
	}
	if len(names) == 0 {
		return
	}
	slices.SortFunc(names, func(a, b string) int {
		if count[a] != count[b] {
			return count[b] - count[a]
		}
		return strings.Compare(a, b)
	})
	share := map[string]int{}
	for i, name := range names {
		share[name] = shards / len(names)
		if i < shards%len(names) {
			share[name]++
		}
	}
	kept := map[string]int{}
	for s := range shards {
		if o, ok := g.owner[s]; ok {
			if kept[o] < share[o] {
				kept[o]++
			} else {
				delete(g.owner, s)
			}
		}
	}
	for s := range shards {
		if _, ok := g.owner[s]; ok {
			continue
		}
		best := ""
		for _, name := range names {
			if kept[name] < share[name] && (best == "" || kept[name] < kept[best]) {
				best = name
			}
		}
		g.owner[s] = best
		kept[best]++
	}
}

// Consumer is a live consumer of a group, as its heartbeats tell.
type Consumer struct {
	Name     string    `json:"name"`
	Held     []int     `json:"held"`     // the shards it last reported running
	LastSeen time.Time `json:"lastSeen"` // its last heartbeat
}

// consumers is a snapshot of group key's live consumers, by name.
func (ss *sessions) consumers(key string, timeout time.Duration, now time.Time) []Consumer {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	g := ss.group(key)
	g.expire(now, timeout)
	out := make([]Consumer, 0, len(g.members))
	for name, m := range g.members {
		out = append(out, Consumer{Name: name, Held: append([]int{}, m.held...), LastSeen: m.seen})
	}
	slices.SortFunc(out, func(a, b Consumer) int { return strings.Compare(a.Name, b.Name) })
	return out
}
