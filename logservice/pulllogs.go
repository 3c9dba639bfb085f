package logservice

import (
	"net/http"
	"strconv"
)

// PullLogs bounds: the vendor's count is 1..1000 log groups; the answer
// is also cut at maxPullBytes of groups (at least one is returned).
const (
	maxPullCount = 1000
	maxPullBytes = 16 << 20
)

// PullLogs: GET /logstores/{ls}/shards/{id}?type=logs&cursor=C&count=N[&end_cursor=E].
// The answer is a protobuf LogGroupList of the groups from C on (before E
// if given), compressed as Accept-Encoding asks, with the headers the SDK
// requires: x-log-cursor (the next cursor; equal to C when nothing was
// there, which the consumer library takes as "caught up"), x-log-count,
// x-log-bodyrawsize, x-log-compresstype, and x-log-read-last-cursor (the
// last group's position in decimal, from which the SDK numbers the groups).
func (s *Server) pullLogs(w http.ResponseWriter, r *request, logstore, seg string) error {
	sh, err := s.shardOf(r, logstore, seg)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	from, err := decodeCursor(q.Get("cursor"))
	if err != nil {
		return err
	}
	count, err := strconv.Atoi(q.Get("count"))
	if err != nil || count < 1 || count > maxPullCount {
		return errorf(errParameterInvalid, "count %s is not in 1..%d", quote(q.Get("count")), maxPullCount)
	}
	ctx := r.Context()
	rng, err := s.cfg.Broker.LogRange(ctx, sh)
	if err != nil {
		return err
	}
	if from > rng.Next {
		return errorf(errInvalidCursor, "cursor %s is beyond the shard's end", quote(q.Get("cursor")))
	}
	// Groups past their ttl are gone: read from the oldest kept.
	from = max(from, rng.First)
	end := rng.Next
	if e := q.Get("end_cursor"); e != "" {
		if end, err = decodeCursor(e); err != nil {
			return err
		}
		end = min(end, rng.Next)
	}
	var groups [][]byte
	next := from
	if end > from {
		recs, err := s.cfg.Broker.ReadLogs(ctx, sh, from, int(min(uint64(count), end-from)), maxPullBytes)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if rec.Seq >= end {
				break
			}
			groups = append(groups, rec.Data)
			next = rec.Seq + 1
		}
	}
	return writeLogGroups(w, r, groups, next)
}

func writeLogGroups(w http.ResponseWriter, r *request, groups [][]byte, next uint64) error {
	raw := appendLogGroupList(nil, groups)
	typ, body, err := compress(acceptedCompression(r.Header.Get("Accept-Encoding")), raw)
	if err != nil {
		return err
	}
	if len(raw) == 0 {
		body = nil // the SDK reads no body when x-log-bodyrawsize is 0
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-protobuf")
	h.Set("x-log-cursor", encodeCursor(next))
	h.Set("x-log-count", strconv.Itoa(len(groups)))
	h.Set("x-log-bodyrawsize", strconv.Itoa(len(raw)))
	h.Set("x-log-compresstype", typ)
	if len(groups) > 0 {
		h.Set("x-log-read-last-cursor", strconv.FormatUint(next-1, 10))
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
	return nil
}
