package logservice

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// The vendor's bounds for logstores.
const (
	defaultShardCount = 2
	maxShardCount     = 100 // at creation; the broker allows more
	defaultTTL        = 30  // days, when the body gives none
	foreverTTL        = 3650
	maxLogstores      = 200 // per project
)

// CreateLogStore: POST /logstores with {"logstoreName","ttl","shardCount",…}.
func (s *Server) createLogstore(w http.ResponseWriter, r *request) error {
	m := logstoreMeta{}
	if err := decodeJSON(r, &m); err != nil {
		return err
	}
	if err := s.addLogstore(r.Context(), r.project, &m); err != nil {
		return err
	}
	return ok(w)
}

// LogstoreSpec is what the REST API sets of a new logstore; zero values
// take the defaults (2 shards, 30 days).
type LogstoreSpec struct {
	Name       string `json:"name"`
	ShardCount int    `json:"shardCount"`
	TTL        int    `json:"ttl"` // days; 3650 keeps for ever
}

// CreateLogstore makes a logstore in project with its shards (the REST
// API's door) and answers it with the defaults filled in. An existing one
// is ErrLogstoreExists.
func (s *Server) CreateLogstore(ctx context.Context, project string, spec LogstoreSpec) (LogstoreSpec, error) {
	if err := checkProjectName(project); err != nil {
		return LogstoreSpec{}, err
	}
	m := logstoreMeta{Name: spec.Name, ShardCount: spec.ShardCount, TTL: spec.TTL}
	if err := s.addLogstore(ctx, project, &m); err != nil {
		return LogstoreSpec{}, err
	}
	return LogstoreSpec{Name: m.Name, ShardCount: m.ShardCount, TTL: m.TTL}, nil
}

// addLogstore checks m (filling in its defaults), makes its shards and
// stores it.
func (s *Server) addLogstore(ctx context.Context, project string, m *logstoreMeta) error {
	if err := m.normalise(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.meta.project(ctx, project); err != nil {
		return err
	}
	if err := s.canCreate(ctx, project, m.Name); err != nil {
		return err
	}
	m.CreateTime = time.Now().Unix()
	if err := s.makeShards(ctx, project, m); err != nil {
		return err
	}
	if err := s.meta.put(ctx, logstoreKey(project, m.Name), *m); err != nil {
		s.dropShards(ctx, project, m)
		return err
	}
	return nil
}

// normalise checks a logstore from a create body, filling in defaults:
// shardCount 2 (the vendor's console default), ttl 30 days.
func (m *logstoreMeta) normalise() error {
	if err := checkLogstoreName(m.Name); err != nil {
		return err
	}
	if m.ShardCount == 0 {
		m.ShardCount = defaultShardCount
	}
	if m.ShardCount < 1 || m.ShardCount > maxShardCount {
		return errorf(errParameterInvalid, "shardCount %d is not in 1..%d", m.ShardCount, maxShardCount)
	}
	if m.TTL == 0 {
		m.TTL = defaultTTL
	}
	if m.TTL < 1 || m.TTL > foreverTTL {
		return errorf(errParameterInvalid, "ttl %d is not in 1..%d days", m.TTL, foreverTTL)
	}
	if m.MaxSplitShard < 0 || m.MaxSplitShard > 256 {
		return errorf(errParameterInvalid, "maxSplitShard %d is not in 0..256", m.MaxSplitShard)
	}
	return nil
}

// canCreate: the project exists, the name is free and the quota not reached.
func (s *Server) canCreate(ctx context.Context, project, name string) error {
	if _, err := s.meta.logstore(ctx, project, name); err == nil {
		return errorf(errLogStoreAlreadyExist, "logstore %s already exists", name)
	} else if toError(err).Code != errLogStoreNotExist.code {
		return err
	}
	names, err := s.meta.logstores(ctx, project)
	if err != nil {
		return err
	}
	if len(names) >= maxLogstores {
		return errorf(errParameterInvalid, "project %s has the maximum of %d logstores", project, maxLogstores)
	}
	return nil
}

// retention is the ttl as the streams' MaxAge (0 keeps for ever).
func (m *logstoreMeta) retention() time.Duration {
	if m.TTL >= foreverTTL {
		return 0
	}
	return time.Duration(m.TTL) * 24 * time.Hour
}

func (s *Server) makeShards(ctx context.Context, project string, m *logstoreMeta) error {
	for id := range m.ShardCount {
		if err := s.cfg.Broker.CreateLogShard(ctx, m.shard(project, id), m.retention()); err != nil {
			s.dropShards(ctx, project, m)
			return err
		}
	}
	return nil
}

// dropShards removes what makeShards made, on a failure already being
// reported (so its own errors are only logged).
func (s *Server) dropShards(ctx context.Context, project string, m *logstoreMeta) {
	for id := range m.ShardCount {
		if err := s.cfg.Broker.DeleteLogShard(ctx, m.shard(project, id)); err != nil {
			s.cfg.Logger.Warn().Err(err).Str("project", project).Str("logstore", m.Name).Msg("removing a shard after a failed create")
		}
	}
}

// GetLogStore: GET /logstores/{logstore}.
func (s *Server) getLogstore(w http.ResponseWriter, r *request, name string) error {
	m, err := s.meta.logstore(r.Context(), r.project, name)
	if err != nil {
		return err
	}
	return writeJSON(w, struct {
		*logstoreMeta
		LastModifyTime int64 `json:"lastModifyTime"`
	}{m, m.CreateTime})
}

// ListLogStore: GET /logstores[?offset=&size=] → {"count","total","logstores"}.
func (s *Server) listLogstores(w http.ResponseWriter, r *request) error {
	names, err := s.meta.logstores(r.Context(), r.project)
	if err != nil {
		return err
	}
	offset, size, err := page(r, len(names))
	if err != nil {
		return err
	}
	names = names[min(offset, len(names)):min(offset+size, len(names))]
	return writeJSON(w, map[string]any{"count": len(names), "total": offset + len(names), "logstores": names})
}

// page reads offset (default 0) and size (default all, at most 500).
func page(r *request, all int) (offset, size int, err error) {
	q := r.URL.Query()
	size = max(all, 1)
	for _, p := range []struct {
		name string
		v    *int
	}{{"offset", &offset}, {"size", &size}} {
		if s := q.Get(p.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return 0, 0, errorf(errParameterInvalid, "%s %s is not a count", p.name, quote(s))
			}
			*p.v = n
		}
	}
	return offset, min(size, 500), nil
}

// DeleteLogStore: DELETE /logstores/{logstore}, with its data.
func (s *Server) deleteLogstore(w http.ResponseWriter, r *request, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.removeLogstore(r.Context(), r.project, name); err != nil {
		return err
	}
	return ok(w)
}

// removeLogstore deletes the metadata first, so that a failure half-way
// leaves no logstore that looks whole; the caller holds s.mu.
func (s *Server) removeLogstore(ctx context.Context, project, name string) error {
	m, err := s.meta.logstore(ctx, project, name)
	if err != nil {
		return err
	}
	if err := s.meta.bucket.Delete(ctx, logstoreKey(project, name)); err != nil {
		return err
	}
	if err := s.removeGroups(ctx, project, name, ""); err != nil {
		return err
	}
	if err := s.removeForwardsTo(ctx, project, name); err != nil {
		return err
	}
	s.rr.forget(project + "/" + name)
	for id := range m.ShardCount {
		if err := s.cfg.Broker.DeleteLogShard(ctx, m.shard(project, id)); err != nil {
			return err
		}
	}
	return nil
}
