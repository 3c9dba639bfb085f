package broker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// The nodes of a shared engine: each amqpemu keeps a record of itself in
// the members bucket next to its slots, and answers the others' requests
// for its part of a group's status over core NATS, so that whichever node
// is asked answers for the cluster.

// nodeInfo is a live node's record.
type nodeInfo struct {
	Name  string    `json:"name"`
	Since time.Time `json:"since"`
}

func nodeKey(name string) string { return "node." + name }

// statsSubject, followed by a consumer name, asks every node for its
// part of that consumer's status.
const statsSubject = "amqpemu.stats."

// statsWait bounds how long a status waits for the other nodes' parts.
const statsWait = time.Second

// nodeName is the name of this node among others: the server name if
// set, else the host name and a random suffix. Only characters a KV key
// and a subject take are kept.
func nodeName(serverName string) string {
	name := serverName
	if name == "" {
		host, _ := os.Hostname()
		name = cmp.Or(host, "amqpemu") + "-" + strconv.FormatUint(newIDBase()%(36*36*36*36), 36)
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, name)
}

// cluster is this node's view of the others, kept by keep.
type cluster struct {
	peers    atomic.Pointer[[]string] // the other live nodes, as of the last round
	behind   atomic.Bool              // the embedded cluster node's JetStream is not current
	lastBeat atomic.Int64             // unix nanoseconds of the last round that reached the engine
	since    time.Time
}

// keep renews this node's record, slots and leases every MemberTTL/3 while
// the broker is open.
func (b *Broker) keep() {
	defer close(b.keepDone)
	t := time.NewTicker(b.cfg.MemberTTL / 3)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-t.C:
		case <-b.quit:
			return
		}
		err := b.keepRound()
		switch {
		case err != nil && !failing:
			b.log.Warn().Err(err).Msg("cannot renew this node's member slots; the cluster frees them if this lasts")
		case err == nil && failing:
			b.log.Info().Msg("member slots renewed again")
		}
		failing = err != nil
	}
}

// keepRound is one renewal: the node record, the slots, the leases, and
// the list of the other nodes.
func (b *Broker) keepRound() error {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.MemberTTL/3)
	defer cancel()
	val, err := json.Marshal(nodeInfo{Name: b.node, Since: b.cluster.since})
	if err != nil {
		return err
	}
	if _, err := b.e().members.Put(ctx, nodeKey(b.node), val); err != nil {
		return err
	}
	if err := b.renewSlots(ctx); err != nil {
		return err
	}
	b.renewLeases(ctx)
	b.cluster.behind.Store(b.jetStreamBehind())
	var peers []string
	err = b.readKeys(ctx, nodeKey("*"), func(key string, _ []byte) {
		if name := strings.TrimPrefix(key, nodeKey("")); name != b.node {
			peers = append(peers, name)
		}
	})
	if err != nil {
		return err
	}
	b.cluster.peers.Store(&peers)
	b.cluster.lastBeat.Store(time.Now().UnixNano())
	return nil
}

// inQuorum reports whether the last renewal reached the engine recently:
// on a shared engine, a node whose JetStream has lost its quorum cannot
// write, and its slots are about to be freed.
func (b *Broker) inQuorum() bool {
	if !b.shared() {
		return true
	}
	return time.Since(time.Unix(0, b.cluster.lastBeat.Load())) < b.cfg.MemberTTL
}

// Nodes names the amqpemu nodes sharing the engine, this one first; alone, just this one.
func (b *Broker) Nodes() []string {
	out := []string{b.node}
	if p := b.cluster.peers.Load(); p != nil {
		out = append(out, *p...)
	}
	return out
}

// Node is this node's name among those sharing the engine.
func (b *Broker) Node() string { return b.node }

// leaveCluster removes this node's record, so the others stop waiting for
// its answers, and gives up its leases. Its slots went with its members.
func (b *Broker) leaveCluster() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv := b.e().members
	if err := kv.Delete(ctx, nodeKey(b.node)); err != nil {
		b.log.Warn().Err(err).Msg("node record not removed; the others drop it within the member TTL")
	}
	b.releaseLeases(ctx)
}

// nodeStats is one node's part of a consumer's status.
type nodeStats struct {
	Node         string        `json:"node"`
	RealtimeRate int           `json:"realtimeRate"`
	BacklogRate  int           `json:"backlogRate"`
	LastConsumed time.Time     `json:"lastConsumed"`
	Clients      []ClientStats `json:"clients"`
}

// serveStats answers the other nodes' status requests on e's connection.
func (b *Broker) serveStats(e *engine) error {
	_, err := e.nc.Subscribe(statsSubject+"*", func(m *nats.Msg) {
		if string(m.Data) == b.node || m.Reply == "" {
			return // this node's own request
		}
		st := b.localStats(strings.TrimPrefix(m.Subject, statsSubject))
		data, err := json.Marshal(st)
		if err == nil {
			err = m.Respond(data)
		}
		if err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			b.log.Warn().Err(err).Msg("answering a status request")
		}
	})
	return err
}

// localStats is this node's part of a consumer's status.
func (b *Broker) localStats(consumer string) nodeStats {
	st := nodeStats{Node: b.node}
	g := b.live(consumer)
	if g == nil {
		return st
	}
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	st.RealtimeRate = g.consumed.realtime.perMinute(now)
	st.BacklogRate = g.consumed.backlog.perMinute(now)
	st.LastConsumed = g.consumed.last
	for _, m := range g.members {
		st.Clients = append(st.Clients, ClientStats{
			ClientID: m.Info.ClientID, Address: m.Info.Address, OnlineSince: m.Since, Node: b.node,
			RealtimeRate: m.consumed.realtime.perMinute(now), BacklogRate: m.consumed.backlog.perMinute(now),
		})
	}
	return st
}

// gatherStats asks the other live nodes for their parts of a consumer's
// status and returns those that answer within statsWait.
func (b *Broker) gatherStats(ctx context.Context, consumer string) []nodeStats {
	peers := b.cluster.peers.Load()
	if peers == nil || len(*peers) == 0 {
		return nil
	}
	nc := b.e().nc
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil
	}
	defer sub.Unsubscribe()
	if err := nc.PublishRequest(statsSubject+consumer, inbox, []byte(b.node)); err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, statsWait)
	defer cancel()
	var out []nodeStats
	for len(out) < len(*peers) {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			b.log.Debug().Int("answered", len(out)).Int("nodes", len(*peers)).Msg("status: not every node answered in time")
			break
		}
		var st nodeStats
		if json.Unmarshal(m.Data, &st) == nil {
			out = append(out, st)
		}
	}
	return out
}
