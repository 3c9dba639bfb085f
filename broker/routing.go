package broker

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// Device messages are stored under one of two subject roots, chosen at
// ingest from the product's subscription:
//
//	dev.<kind>.<pk>.<dn>   DEFAULT_GROUP receives it (its filter is dev.>)
//	devs.<kind>.<pk>.<dn>  only the groups subscribed to the product do
//
// A product without a subscription goes to DEFAULT_GROUP, as on the
// platform out of the box; once its subscription leaves DEFAULT_GROUP (or
// the kind) out, DEFAULT_GROUP stops getting it. JetStream filters cannot
// exclude, hence the second root rather than a narrower filter.
const (
	rootDefault    = "dev"
	rootSubscribed = "devs"
)

// rootFor is the subject root of a message of kind from productKey.
func (b *Broker) rootFor(kind, productKey string) string {
	s, ok := b.subCache.get(productKey)
	if !ok || (slices.Contains(s.Groups, DefaultGroupID) && slices.Contains(s.Kinds, kind)) {
		return rootDefault
	}
	return rootSubscribed
}

// subCache mirrors the subscriptions bucket in memory, fed by a KV watch so
// that every amqpemu sharing a NATS cluster routes alike, and without a KV
// read on each ingest.
type subCache struct {
	mu      sync.Mutex
	subs    map[string]Subscription
	rev     uint64        // the newest bucket revision applied
	changed chan struct{} // closed and replaced at each update
}

func newSubCache() *subCache {
	return &subCache{subs: map[string]Subscription{}, changed: make(chan struct{})}
}

func (c *subCache) get(productKey string) (Subscription, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.subs[productKey]
	return s, ok
}

// all is a copy of every subscription.
func (c *subCache) all() map[string]Subscription {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.subs)
}

// apply records one bucket entry (a put or a delete).
func (c *subCache) apply(e jetstream.KeyValueEntry) {
	var s Subscription
	put := e.Operation() == jetstream.KeyValuePut && json.Unmarshal(e.Value(), &s) == nil
	c.mu.Lock()
	defer c.mu.Unlock()
	if put {
		c.subs[e.Key()] = s
	} else {
		delete(c.subs, e.Key())
	}
	c.rev = max(c.rev, e.Revision())
	close(c.changed)
	c.changed = make(chan struct{})
}

// replace swaps in the whole bucket, as read when a watch starts (entries
// deleted while no watch ran are gone from it).
func (c *subCache) replace(subs map[string]Subscription, rev uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.subs = subs
	c.rev = max(c.rev, rev)
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitFor waits until the bucket revision rev has been applied.
func (c *subCache) waitFor(ctx context.Context, rev uint64) error {
	return c.waitUntil(ctx, func() bool { return c.rev >= rev })
}

// waitGone waits until productKey's subscription is gone (the KV API does
// not return the revision of a delete).
func (c *subCache) waitGone(ctx context.Context, productKey string) error {
	return c.waitUntil(ctx, func() bool { _, ok := c.subs[productKey]; return !ok })
}

// waitUntil waits until done, called with c.mu held, holds.
func (c *subCache) waitUntil(ctx context.Context, done func() bool) error {
	for {
		c.mu.Lock()
		ok, changed := done(), c.changed
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// watchSubscriptions fills the cache with the bucket's current entries,
// then keeps it up to date until the broker closes or the engine
// connection is lost (supervise then watches again on the new one).
func (b *Broker) watchSubscriptions(ctx context.Context) error {
	e := b.e()
	w, err := e.subs.WatchAll(context.Background())
	if err != nil {
		return err
	}
	current := map[string]Subscription{}
	var rev uint64
	for { // current entries, then a nil marker
		select {
		case entry := <-w.Updates():
			if entry == nil {
				b.subCache.replace(current, rev)
				go b.followSubscriptions(w, e.closed)
				return nil
			}
			rev = max(rev, entry.Revision())
			var s Subscription
			if json.Unmarshal(entry.Value(), &s) == nil {
				current[entry.Key()] = s
			}
		case <-ctx.Done():
			w.Stop()
			return ctx.Err()
		}
	}
}

func (b *Broker) followSubscriptions(w jetstream.KeyWatcher, lost <-chan struct{}) {
	defer w.Stop()
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e != nil {
				b.subCache.apply(e)
			}
		case <-lost:
			return
		case <-b.quit:
			return
		}
	}
}
