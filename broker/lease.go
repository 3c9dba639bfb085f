package broker

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Leases: a task that must run once per cluster, not once per node (alert
// evaluation), runs on the node holding its lease: a key of the members
// bucket taken with an atomic create, renewed with the slots, and freed by
// the bucket's TTL when its holder dies, for another node to take.

// leases are the tasks this node competes for, by task.
type leases struct {
	mu    sync.Mutex
	tasks map[string]*lease
}

type lease struct {
	rev  uint64
	held bool
}

func leaseKey(task string) string { return "lease." + task }

// Leads reports whether this node is the one to do task now. A node alone
// on its engine always is. The first call enters the node for the task;
// from then on it takes the lease whenever it is free.
func (b *Broker) Leads(task string) bool {
	if !b.shared() {
		return true
	}
	b.leases.mu.Lock()
	l := b.leases.tasks[task]
	if l == nil {
		l = &lease{}
		b.leases.tasks[task] = l
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		b.renewLease(ctx, task, l)
		cancel()
	}
	held := l.held
	b.leases.mu.Unlock()
	return held && b.inQuorum()
}

// renewLeases renews the leases held and tries for the others.
func (b *Broker) renewLeases(ctx context.Context) {
	b.leases.mu.Lock()
	defer b.leases.mu.Unlock()
	for task, l := range b.leases.tasks {
		b.renewLease(ctx, task, l)
	}
}

// renewLease renews or tries for one lease; b.leases.mu is held.
func (b *Broker) renewLease(ctx context.Context, task string, l *lease) {
	kv := b.e().members
	was := l.held
	var rev uint64
	var err error
	if l.held {
		rev, err = kv.Update(ctx, leaseKey(task), []byte(b.node), l.rev)
	} else {
		rev, err = kv.Create(ctx, leaseKey(task), []byte(b.node))
	}
	switch {
	case err == nil:
		l.rev, l.held = rev, true
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		l.held = false // another node has it
	default:
		// Unknown: keep what we think; inQuorum stops Leads meanwhile.
		b.log.Debug().Err(err).Str("task", task).Msg("lease not renewed")
	}
	if was != l.held {
		b.log.Info().Str("task", task).Bool("leads", l.held).Msg("cluster lease changed hands")
	}
}

// releaseLeases gives up the leases held, so another node takes them at
// once rather than after the TTL.
func (b *Broker) releaseLeases(ctx context.Context) {
	b.leases.mu.Lock()
	defer b.leases.mu.Unlock()
	for task, l := range b.leases.tasks {
		if l.held {
			if err := b.e().members.Delete(ctx, leaseKey(task), jetstream.LastRevision(l.rev)); err != nil {
				b.log.Warn().Err(err).Str("task", task).Msg("lease not released; another node takes it within the member TTL")
			}
			l.held = false
		}
	}
}
