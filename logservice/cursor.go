package logservice

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/amqpemu/amqpemu/broker"
)

// A cursor is base64 of a shard record's sequence in decimal: the SDK
// decodes it so (and numbers the groups of a PullLogs answer from it), so
// it must be exactly that, not any opaque token.

func encodeCursor(seq uint64) string {
	return base64.StdEncoding.EncodeToString(strconv.AppendUint(nil, seq, 10))
}

// decodeCursor refuses anything encodeCursor cannot have made: base64 is
// lenient about padding bits ("OB==" decodes as "OA==" does) and decimal
// about leading zeros, so the value must encode back to c.
func decodeCursor(c string) (uint64, error) {
	raw, err := base64.StdEncoding.DecodeString(c)
	if err == nil && len(raw) > 0 && len(raw) <= 20 {
		if seq, err := strconv.ParseUint(string(raw), 10, 64); err == nil && encodeCursor(seq) == c {
			return seq, nil
		}
	}
	return 0, errorf(errInvalidCursor, "cursor %s is invalid", quote(c))
}

// shardOf finds the logstore and shard a request names.
func (s *Server) shardOf(r *request, logstore, seg string) (broker.LogShard, error) {
	m, err := s.meta.logstore(r.Context(), r.project, logstore)
	if err != nil {
		return broker.LogShard{}, err
	}
	id, err := shardID(m, seg)
	if err != nil {
		return broker.LogShard{}, err
	}
	return m.shard(r.project, id), nil
}

// GetCursor: GET /logstores/{ls}/shards/{id}?type=cursor&from=begin|end|<unix seconds>.
// A time gives the first group received at or after it; before the first
// kept group, the first; after the last, end.
func (s *Server) getCursor(w http.ResponseWriter, r *request, logstore, seg string) error {
	sh, err := s.shardOf(r, logstore, seg)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var seq uint64
	switch from := r.URL.Query().Get("from"); from {
	case "begin", "end":
		rng, err := s.cfg.Broker.LogRange(ctx, sh)
		if err != nil {
			return err
		}
		seq = rng.First
		if from == "end" {
			seq = rng.Next
		}
	default:
		sec, err := strconv.ParseInt(from, 10, 64)
		if err != nil || sec < 0 {
			return errorf(errParameterInvalid, "Parameter From %s is not valid: use begin, end or a unix time in seconds", quote(from))
		}
		if seq, err = s.cfg.Broker.LogSeqAt(ctx, sh, time.Unix(sec, 0)); err != nil {
			return err
		}
	}
	return writeJSON(w, map[string]string{"cursor": encodeCursor(seq)})
}

// GetCursorTime: GET …?type=cursor_time&cursor=C → {"cursor_time": unix
// seconds the group at C was received}; at the end cursor, now.
func (s *Server) getCursorTime(w http.ResponseWriter, r *request, logstore, seg string) error {
	sh, err := s.shardOf(r, logstore, seg)
	if err != nil {
		return err
	}
	seq, err := decodeCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	recs, err := s.cfg.Broker.ReadLogs(r.Context(), sh, seq, 1, 1)
	if err != nil {
		return err
	}
	t := time.Now()
	if len(recs) == 1 {
		t = recs[0].Time
	}
	return writeJSON(w, map[string]int64{"cursor_time": t.Unix()})
}
