package logservice

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Consumer groups of a logstore (CreateConsumerGroup, ListConsumerGroup,
// UpdateConsumerGroup, DeleteConsumerGroup), kept beside the logstores:
//
//	group.<project>.<logstore>.<group>              groupMeta
//	checkpoint.<project>.<logstore>.<group>.<shard> checkpointMeta
//
// A group name holds no '.', so keys cannot collide.

const (
	maxGroups    = 30    // per logstore, as the vendor allows
	maxGroupName = 128   // the vendor's page gives no bound; this one keeps keys short
	maxTimeout   = 86400 // seconds
)

type groupMeta struct {
	Name    string `json:"name"`
	Timeout int    `json:"timeout"` // seconds without a heartbeat before a consumer is dropped
	Order   bool   `json:"order"`
}

func groupKey(p, l, g string) string { return "group." + p + "." + l + "." + g }

// checkGroupName: letters, digits, '_' and '-'; the documented answer for a
// bad one is ParameterInvalid "consumerGroup or timeout is of error format".
func checkGroupName(name string) error {
	ok := name != "" && len(name) <= maxGroupName
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	if !ok {
		return errorf(errParameterInvalid, "consumerGroup %s is of error format: 1 to %d letters, digits, '_' or '-'", quote(name), maxGroupName)
	}
	return nil
}

func checkTimeout(t int) error {
	if t < 1 || t > maxTimeout {
		return errorf(errParameterInvalid, "timeout %d is of error format: 1 to %d seconds", t, maxTimeout)
	}
	return nil
}

// group returns a group of an existing logstore, or the NotExist answers.
func (st *store) group(ctx context.Context, project, logstore, name string) (*logstoreMeta, *groupMeta, error) {
	ls, err := st.logstore(ctx, project, logstore)
	if err != nil {
		return nil, nil, err
	}
	if checkGroupName(name) != nil {
		return nil, nil, errorf(errGroupNotExist, "consumer group %s does not exist", quote(name))
	}
	g := &groupMeta{}
	found, err := st.get(ctx, groupKey(project, logstore, name), g)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, errorf(errGroupNotExist, "consumer group %s does not exist", name)
	}
	return ls, g, nil
}

// groups lists a logstore's groups, sorted by name.
func (st *store) groups(ctx context.Context, project, logstore string) ([]groupMeta, error) {
	if _, err := st.logstore(ctx, project, logstore); err != nil {
		return nil, err
	}
	names, err := st.keysUnder(ctx, groupKey(project, logstore, ""))
	if err != nil {
		return nil, err
	}
	out := []groupMeta{}
	for _, name := range names {
		g := groupMeta{}
		if found, err := st.get(ctx, groupKey(project, logstore, name), &g); err != nil {
			return nil, err
		} else if found {
			out = append(out, g)
		}
	}
	return out, nil
}

// keysUnder lists the key tails after prefix, sorted.
func (st *store) keysUnder(ctx context.Context, prefix string) ([]string, error) {
	keys, err := st.bucket.Keys(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range keys {
		if tail, ok := strings.CutPrefix(k, prefix); ok {
			out = append(out, tail)
		}
	}
	slices.Sort(out)
	return out, nil
}

// deleteUnder removes every key beginning with prefix.
func (st *store) deleteUnder(ctx context.Context, prefix string) error {
	tails, err := st.keysUnder(ctx, prefix)
	if err != nil {
		return err
	}
	for _, t := range tails {
		if err := st.bucket.Delete(ctx, prefix+t); err != nil {
			return err
		}
	}
	return nil
}

// CreateConsumerGroup: POST /logstores/{ls}/consumergroups with
// {"consumerGroup","timeout","order"} → 200, empty body.
func (s *Server) createGroup(w http.ResponseWriter, r *request, logstore string) error {
	var body struct {
		Name    string `json:"consumerGroup"`
		Timeout int    `json:"timeout"`
		Order   bool   `json:"order"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if err := checkGroupName(body.Name); err != nil {
		return err
	}
	if err := checkTimeout(body.Timeout); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := r.Context()
	groups, err := s.meta.groups(ctx, r.project, logstore)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if g.Name == body.Name {
			return errorf(errGroupAlreadyExist, "consumer group already exist.")
		}
	}
	if len(groups) >= maxGroups {
		return errorf(errGroupQuotaExceed, "logstore %s has the maximum of %d consumer groups", logstore, maxGroups)
	}
	if err := s.meta.put(ctx, groupKey(r.project, logstore, body.Name), groupMeta{body.Name, body.Timeout, body.Order}); err != nil {
		return err
	}
	return ok(w)
}

// ListConsumerGroup: GET /logstores/{ls}/consumergroups →
// [{"name","timeout","order"}].
func (s *Server) listGroups(w http.ResponseWriter, r *request, logstore string) error {
	groups, err := s.meta.groups(r.Context(), r.project, logstore)
	if err != nil {
		return err
	}
	return writeJSON(w, groups)
}

// UpdateConsumerGroup: PUT /logstores/{ls}/consumergroups/{cg} with
// {"order"} and, when it changes, "timeout".
func (s *Server) updateGroup(w http.ResponseWriter, r *request, logstore, name string) error {
	var body struct {
		Timeout *int  `json:"timeout"`
		Order   *bool `json:"order"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Timeout != nil {
		if err := checkTimeout(*body.Timeout); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, g, err := s.meta.group(r.Context(), r.project, logstore, name)
	if err != nil {
		return err
	}
	if body.Timeout != nil {
		g.Timeout = *body.Timeout
	}
	if body.Order != nil {
		g.Order = *body.Order
	}
	if err := s.meta.put(r.Context(), groupKey(r.project, logstore, name), g); err != nil {
		return err
	}
	return ok(w)
}

// DeleteConsumerGroup: DELETE /logstores/{ls}/consumergroups/{cg}, with
// its checkpoints and its consumers' sessions.
func (s *Server) deleteGroup(w http.ResponseWriter, r *request, logstore, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, _, err := s.meta.group(r.Context(), r.project, logstore, name); err != nil {
		return err
	}
	if err := s.removeGroups(r.Context(), r.project, logstore, name); err != nil {
		return err
	}
	return ok(w)
}

// removeGroups deletes group name of a logstore, or every group when name
// is "" (the logstore is going); the caller holds s.mu.
func (s *Server) removeGroups(ctx context.Context, project, logstore, name string) error {
	prefix := groupKey(project, logstore, name)
	if name != "" {
		if err := s.meta.bucket.Delete(ctx, prefix); err != nil {
			return err
		}
		prefix += "."
	} else if err := s.meta.deleteUnder(ctx, prefix); err != nil {
		return err
	}
	s.sessions.forget(prefix)
	return s.meta.deleteUnder(ctx, "checkpoint."+strings.TrimPrefix(prefix, "group."))
}

// Consumers lists the live consumers of a consumer group and the shards
// each runs: the snapshot the status API and the console will render.
func (s *Server) Consumers(ctx context.Context, project, logstore, group string) ([]Consumer, error) {
	_, g, err := s.meta.group(ctx, project, logstore, group)
	if err != nil {
		return nil, err
	}
	return s.sessions.consumers(groupKey(project, logstore, group), g.timeout(), time.Now()), nil
}
