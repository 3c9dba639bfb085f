package logservice

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

type checkpointMeta struct {
	Shard      int    `json:"shard"`
	Checkpoint string `json:"checkpoint"`
	UpdateTime int64  `json:"updateTime"` // unix microseconds
	Consumer   string `json:"consumer"`
}

func checkpointKey(p, l, g string, shard int) string {
	return "checkpoint." + p + "." + l + "." + g + "." + strconv.Itoa(shard)
}

// routeGroup answers POST …/consumergroups/{cg}?type=heartbeat|checkpoint.
func (s *Server) routeGroup(w http.ResponseWriter, r *request, logstore, name string) error {
	switch typ := r.URL.Query().Get("type"); typ {
	case "heartbeat":
		return s.heartbeat(w, r, logstore, name)
	case "checkpoint":
		return s.updateCheckpoint(w, r, logstore, name)
	default:
		return errorf(errParameterInvalid, "type %s is not heartbeat or checkpoint", quote(typ))
	}
}

// consumerParam is the consumer query parameter, which must be there.
func consumerParam(r *request) (string, error) {
	c := r.URL.Query().Get("consumer")
	if c == "" || len(c) > 512 {
		return "", errorf(errParameterInvalid, "consumer %s is of error format", quote(c))
	}
	return c, nil
}

// HeartBeat: POST …?type=heartbeat&consumer=C with the shards C runs
// ([0,1], or [] at first) → the shards it is to run (see sessions).
func (s *Server) heartbeat(w http.ResponseWriter, r *request, logstore, name string) error {
	consumer, err := consumerParam(r)
	if err != nil {
		return err
	}
	var held []int
	if err := json.Unmarshal(r.body, &held); err != nil {
		return errorf(errParameterInvalid, "the heartbeat body is not a JSON array of shard ids: %v", err)
	}
	ls, g, err := s.meta.group(r.Context(), r.project, logstore, name)
	if err != nil {
		return err
	}
	key := groupKey(r.project, logstore, name)
	return writeJSON(w, s.sessions.heartbeat(key, consumer, held, ls.ShardCount, g.timeout(), time.Now()))
}

func (g *groupMeta) timeout() time.Duration { return time.Duration(g.Timeout) * time.Second }

// UpdateCheckpoint: POST …?type=checkpoint&consumer=C&forceSuccess=B with
// {"shard","checkpoint"}. Without forceSuccess the consumer must be live
// and hold the shard.
func (s *Server) updateCheckpoint(w http.ResponseWriter, r *request, logstore, name string) error {
	consumer, err := consumerParam(r)
	if err != nil {
		return err
	}
	var body struct {
		Shard      *int   `json:"shard"`
		Checkpoint string `json:"checkpoint"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Shard == nil {
		return errorf(errParameterInvalid, "the checkpoint body names no shard")
	}
	if _, err := decodeCursor(body.Checkpoint); err != nil {
		return err
	}
	ls, g, err := s.meta.group(r.Context(), r.project, logstore, name)
	if err != nil {
		return err
	}
	if *body.Shard < 0 || *body.Shard >= ls.ShardCount {
		return errorf(errShardNotExsit, "shard %d does not exist", *body.Shard)
	}
	if r.URL.Query().Get("forceSuccess") != "true" {
		live, assigned := s.sessions.owns(groupKey(r.project, logstore, name), consumer, *body.Shard, g.timeout(), time.Now())
		if !live {
			return errorf(errConsumerNotExist, "consumer %s does not exist in the group", quote(consumer))
		}
		if !assigned {
			return errorf(errConsumerNotMatch, "shard %d is not assigned to consumer %s", *body.Shard, quote(consumer))
		}
	}
	cp := checkpointMeta{Shard: *body.Shard, Checkpoint: body.Checkpoint, UpdateTime: time.Now().UnixMicro(), Consumer: consumer}
	if err := s.meta.put(r.Context(), checkpointKey(r.project, logstore, name, *body.Shard), cp); err != nil {
		return err
	}
	return ok(w)
}

// GetCheckpoint: GET /logstores/{ls}/consumergroups/{cg} → the group's
// checkpoints, [{"shard","checkpoint","updateTime","consumer"}], shards
// without one left out.
func (s *Server) getCheckpoints(w http.ResponseWriter, r *request, logstore, name string) error {
	ctx := r.Context()
	ls, _, err := s.meta.group(ctx, r.project, logstore, name)
	if err != nil {
		return err
	}
	out := []checkpointMeta{}
	for shard := range ls.ShardCount {
		cp := checkpointMeta{}
		found, err := s.meta.get(ctx, checkpointKey(r.project, logstore, name, shard), &cp)
		if err != nil {
			return err
		}
		if found {
			out = append(out, cp)
		}
	}
	return writeJSON(w, out)
}
