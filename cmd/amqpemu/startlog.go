package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
)

// logRestored says where the data directory is and what state the broker
// found in it: the groups and their total backlog (messages stored and not
// yet acknowledged by each group, summed). It reads only through the
// broker's API, and a failure to read is logged, never fatal.
func logRestored(ctx context.Context, log zerolog.Logger, b *broker.Broker, f *serveFlags) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ev := log.Info().Str("data_dir", f.dataDir)
	if f.natsURL != "" {
		ev = ev.Str("nats_url", f.natsURL)
	}
	groups, err := b.Groups(ctx)
	if err != nil {
		ev.Err(err).Msg("could not read the restored state")
		return
	}
	total, unread := 0, 0
	busiest, busiestN := "", 0
	for _, g := range groups {
		n, err := b.Backlog(ctx, g.ID)
		if err != nil {
			unread++
			continue
		}
		total += n
		if n > busiestN {
			busiest, busiestN = g.ID, n
		}
	}
	ev = ev.Int("groups", len(groups)).Int("backlog", total)
	if subs, err := b.Subscriptions(ctx); err == nil {
		ev = ev.Int("subscribed_products", len(subs))
	}
	if queues, err := b.Queues(ctx); err == nil {
		queued := 0
		for _, q := range queues {
			queued += q.Accumulation
		}
		ev = ev.Int("generic_queues", len(queues)).Int("queued", queued)
	}
	if busiest != "" {
		ev = ev.Str("largest_backlog_group", busiest).Int("largest_backlog", busiestN)
	}
	if unread > 0 {
		ev = ev.Int("groups_backlog_unknown", unread)
	}
	ev.Msg("state restored")
}

// warnDevKey warns when something listens beyond loopback while the
// access key is the published development pair: anyone on the network can
// then sign in, call the API and read every group.
func warnDevKey(log zerolog.Logger, f *serveFlags, exposed bool) {
	if !exposed || f.accessKeySecret != defaultAccessKeySecret {
		return
	}
	log.Warn().Str("access_key_id", f.accessKeyID).
		Msg("listening beyond loopback with the well-known development access key: anyone on the network can sign in and use the API with it; set --access-key-id and --access-key-secret (AMQPEMU_ACCESS_KEY_ID, AMQPEMU_ACCESS_KEY_SECRET)")
}
