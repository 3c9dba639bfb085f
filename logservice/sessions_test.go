package logservice

import (
	"slices"
	"testing"
	"time"
)

func TestSessionsBalanceAndHandOver(t *testing.T) {
	var ss sessions
	now := time.Unix(1000, 0)
	const key, shards, timeout = "group.p.l.g", 4, 10 * time.Second
	hb := func(consumer string, held ...int) []int {
		if held == nil {
			held = []int{}
		}
		return ss.heartbeat(key, consumer, held, shards, timeout, now)
	}
	if got := hb("a"); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Fatalf("a alone gets %v, want every shard", got)
	}
	// b joins: two of a's shards are b's, but not while a may be starting
	// them (it was just given them) nor while it runs them.
	if got := hb("b"); len(got) != 0 {
		t.Fatalf("b gets %v while a may be starting all four", got)
	}
	aKeeps := hb("a", 0, 1, 2, 3)
	if len(aKeeps) != 2 {
		t.Fatalf("a is told to keep %v, want two shards", aKeeps)
	}
	if got := hb("b"); len(got) != 0 {
		t.Fatalf("b gets %v before a reported dropping anything", got)
	}
	hb("a", aKeeps...) // a stopped the other two
	bGets := hb("b")
	if len(bGets) != 2 || slices.ContainsFunc(bGets, func(s int) bool { return slices.Contains(aKeeps, s) }) {
		t.Fatalf("b gets %v; a keeps %v", bGets, aKeeps)
	}
	// a stays balanced on further heartbeats: nothing moves.
	if got := hb("a", aKeeps...); !slices.Equal(got, aKeeps) {
		t.Fatalf("a's shards moved: %v → %v", aKeeps, got)
	}
	// a falls silent: after the timeout b has everything.
	now = now.Add(timeout + time.Second)
	if got := hb("b", bGets...); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Fatalf("after a timed out b gets %v", got)
	}
	if live, _ := ss.owns(key, "a", 0, timeout, now); live {
		t.Fatal("a is still live after its timeout")
	}
	if live, assigned := ss.owns(key, "b", 0, timeout, now); !live || !assigned {
		t.Fatalf("b owns shard 0: live %v, assigned %v", live, assigned)
	}
}

func TestSessionsUneven(t *testing.T) {
	var ss sessions
	now := time.Unix(1000, 0)
	for _, c := range []string{"a", "b", "c"} {
		ss.heartbeat("k", c, []int{}, 5, time.Minute, now)
	}
	counts := map[int]int{}
	total := 0
	for _, c := range []string{"a", "b", "c"} {
		got := ss.heartbeat("k", c, []int{}, 5, time.Minute, now)
		counts[len(got)]++
		total += len(got)
	}
	if total != 5 || counts[2] != 2 || counts[1] != 1 {
		t.Fatalf("5 shards over 3 consumers: %v shards by count, %d in all", counts, total)
	}
}
