package openapi

import (
	"sync"
	"time"
)

// maxNonces bounds the nonces remembered: 131072 over Window is 145 signed
// calls a second, far above the platform's 5 per second per account. Past
// it the oldest are forgotten early, a replay of those still being refused
// once their timestamp leaves the window.
const maxNonces = 1 << 17

// nonceCache remembers the nonces of the last Window, oldest first.
type nonceCache struct {
	mu    sync.Mutex
	max   int
	seen  map[string]time.Time // key → when it was used
	queue []nonceEntry         // in order of use; queue[head:] are live
	head  int
}

type nonceEntry struct {
	key string
	at  time.Time
}

func newNonceCache(max int) *nonceCache {
	return &nonceCache{max: max, seen: map[string]time.Time{}}
}

// use records key at now, or reports false when it was used within Window.
func (c *nonceCache) use(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.head < len(c.queue) && (now.Sub(c.queue[c.head].at) > Window || len(c.seen) >= c.max) {
		c.pop()
	}
	if at, ok := c.seen[key]; ok && now.Sub(at) <= Window {
		return false
	}
	c.seen[key] = now
	c.queue = append(c.queue, nonceEntry{key, now})
	return true
}

// pop forgets the oldest entry, compacting the queue now and then.
func (c *nonceCache) pop() {
	e := c.queue[c.head]
	c.queue[c.head] = nonceEntry{}
	c.head++
	if at, ok := c.seen[e.key]; ok && at.Equal(e.at) {
		delete(c.seen, e.key)
	}
	if c.head > len(c.queue)/2 && c.head > 1024 {
		c.queue = append(c.queue[:0], c.queue[c.head:]...)
		c.head = 0
	}
}

func (c *nonceCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
