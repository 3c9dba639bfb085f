package logservice

import (
	"sync"
	"sync/atomic"
)

// roundRobin spreads PutLogs without a hash key over a logstore's shards
// in turn. The vendor writes such groups to a shard of its choosing; taking
// them in turn keeps the shards evenly filled, as a load-balanced service
// would, and is predictable in tests.
type roundRobin struct {
	next sync.Map // "<project>/<logstore>" → *atomic.Uint64
}

// pick returns the shard for the next write to a logstore of n shards.
func (rr *roundRobin) pick(key string, n int) int {
	c, _ := rr.next.LoadOrStore(key, new(atomic.Uint64))
	return int((c.(*atomic.Uint64).Add(1) - 1) % uint64(n))
}

// forget drops a deleted logstore's counter.
func (rr *roundRobin) forget(key string) { rr.next.Delete(key) }
