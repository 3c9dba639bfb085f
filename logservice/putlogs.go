package logservice

import (
	"net/http"
	"strconv"
)

// PutLogs: POST /logstores/{ls} (a shard in turn) or POST
// /logstores/{ls}/shards/route?key=<hash> (the shard whose range holds
// the key). The body is one protobuf LogGroup, compressed as
// x-log-compresstype says (lz4 block, zstd, or none when absent), of
// x-log-bodyrawsize bytes uncompressed. The group is stored exactly as
// sent, and PullLogs gives back those bytes.
func (s *Server) putLogs(w http.ResponseWriter, r *request, logstore, hashKey string) error {
	m, err := s.meta.logstore(r.Context(), r.project, logstore)
	if err != nil {
		return err
	}
	raw, err := s.logGroupBody(r)
	if err != nil {
		return err
	}
	id := 0
	if r.URL.Query().Has("key") {
		if id, err = shardForKey(hashKey, m.ShardCount); err != nil {
			return err
		}
	} else {
		id = s.rr.pick(r.project+"/"+m.Name, m.ShardCount)
	}
	if _, err := s.cfg.Broker.AppendLog(r.Context(), m.shard(r.project, id), raw); err != nil {
		return err
	}
	return ok(w)
}

// logGroupBody checks the headers, decompresses the body and checks that
// it is a LogGroup holding logs.
func (s *Server) logGroupBody(r *request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		return nil, errorf(errInvalidContentType, "Content-Type %s is unsupported: PutLogs takes application/x-protobuf", quote(ct))
	}
	typ := r.Header.Get("x-log-compresstype")
	if typ != compressNone && typ != compressLZ4 && typ != compressZSTD {
		return nil, errorf(errInvalidCompressType, "x-log-compresstype %s is unsupported", quote(typ))
	}
	rawSize, err := s.bodyRawSize(r, typ)
	if err != nil {
		return nil, err
	}
	raw, err := decompress(typ, r.body, rawSize)
	if err != nil {
		return nil, errorf(errPostBodyUncompress, "%v", err)
	}
	g, err := DecodeLogGroup(raw)
	if err != nil {
		return nil, errorf(errPostBodyInvalid, "the body is not a LogGroup: %v", err)
	}
	// The SDK never sends an empty group; one would take a cursor step
	// and give readers nothing.
	if len(g.Logs) == 0 {
		return nil, errorf(errPostBodyInvalid, "the LogGroup holds no log")
	}
	return raw, nil
}

// bodyRawSize reads x-log-bodyrawsize, required with compression and
// bounded by what one shard record holds.
func (s *Server) bodyRawSize(r *request, typ string) (int, error) {
	h := r.Header.Get("x-log-bodyrawsize")
	if h == "" {
		if typ != compressNone {
			return 0, errorf(errMissingBodyRawSize, "x-log-bodyrawsize does not exist in header when it is necessary")
		}
		return len(r.body), nil
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 {
		return 0, errorf(errInvalidBodyRawSize, "x-log-bodyrawsize %s is invalid", quote(h))
	}
	if max := s.cfg.Broker.MaxLogRecord(); n > max {
		return 0, errorf(errPostBodyTooLarge, "a LogGroup of %d bytes is over the %d bytes allowed", n, max)
	}
	return n, nil
}
