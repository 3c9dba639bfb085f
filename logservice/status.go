package logservice

import (
	"context"
	"errors"
	"strings"
	"time"
)

// GroupStatus is a consumer group's state: its live consumers and, per
// shard, where its checkpoint stands. It is the snapshot the status API,
// /metrics and the console render (handlers only render it).
type GroupStatus struct {
	Name      string        `json:"name"`
	Timeout   int           `json:"timeout"`
	Order     bool          `json:"order"`
	Consumers []Consumer    `json:"consumers"`
	Shards    []ShardStatus `json:"shards"`
}

// ShardStatus is one shard of a group's logstore.
type ShardStatus struct {
	Shard int `json:"shard"`
	// Backlog counts the log groups after the checkpoint (all the kept
	// ones when there is none yet).
	Backlog    uint64 `json:"backlog"`
	Checkpoint string `json:"checkpoint,omitempty"` // the cursor saved; empty when none
	Consumer   string `json:"consumer,omitempty"`   // who saved it
	Owner      string `json:"owner,omitempty"`      // the live consumer running it now, if any
}

// GroupStatus reports group of project/logstore.
func (s *Server) GroupStatus(ctx context.Context, project, logstore, group string) (GroupStatus, error) {
	ls, g, err := s.meta.group(ctx, project, logstore, group)
	if err != nil {
		return GroupStatus{}, err
	}
	st := GroupStatus{Name: g.Name, Timeout: g.Timeout, Order: g.Order,
		Consumers: s.sessions.consumers(groupKey(project, logstore, group), g.timeout(), time.Now())}
	for id := range ls.ShardCount {
		sh, err := s.shardStatus(ctx, project, ls, group, id)
		if err != nil {
			return GroupStatus{}, err
		}
		st.Shards = append(st.Shards, sh)
	}
	for _, c := range st.Consumers {
		for _, id := range c.Held {
			if id >= 0 && id < len(st.Shards) {
				st.Shards[id].Owner = c.Name
			}
		}
	}
	return st, nil
}

func (s *Server) shardStatus(ctx context.Context, project string, ls *logstoreMeta, group string, id int) (ShardStatus, error) {
	rng, err := s.cfg.Broker.LogRange(ctx, ls.shard(project, id))
	if err != nil {
		return ShardStatus{}, err
	}
	out := ShardStatus{Shard: id, Backlog: rng.Next - rng.First}
	cp := checkpointMeta{}
	found, err := s.meta.get(ctx, checkpointKey(project, ls.Name, group, id), &cp)
	if err != nil || !found {
		return out, err
	}
	out.Checkpoint, out.Consumer = cp.Checkpoint, cp.Consumer
	if seq, err := decodeCursor(cp.Checkpoint); err == nil {
		out.Backlog = rng.Next - min(max(seq, rng.First), rng.Next)
	}
	return out, nil
}

// GroupOverview is a consumer group of some logstore with its status and
// the backlog summed over its shards.
type GroupOverview struct {
	Project  string `json:"project"`
	Logstore string `json:"logstore"`
	GroupStatus
	Backlog uint64 `json:"backlog"`
}

// Groups reports every consumer group of every logstore, sorted by
// project, logstore and name; a group deleted while they are read is left
// out.
func (s *Server) Groups(ctx context.Context) ([]GroupOverview, error) {
	tails, err := s.meta.keysUnder(ctx, "group.")
	if err != nil {
		return nil, err
	}
	out := []GroupOverview{}
	for _, tail := range tails { // <project>.<logstore>.<group>: none holds '.'
		parts := strings.Split(tail, ".")
		if len(parts) != 3 {
			continue
		}
		st, err := s.GroupStatus(ctx, parts[0], parts[1], parts[2])
		if errors.Is(err, ErrProjectNotFound) || errors.Is(err, ErrLogstoreNotFound) || errors.Is(err, ErrGroupNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		o := GroupOverview{Project: parts[0], Logstore: parts[1], GroupStatus: st}
		for _, sh := range st.Shards {
			o.Backlog += sh.Backlog
		}
		out = append(out, o)
	}
	return out, nil
}
