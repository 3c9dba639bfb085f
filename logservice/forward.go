package logservice

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/amqpemu/amqpemu/broker"
)

// Data forwarding from the IoT platform into a logstore: a rule per
// product sends its device messages of some kinds (data by default) to a
// project's logstore, each message one LogGroup of one log:
//
//	Topic   the message's topic           Source  the device name
//	Log.Time (and Time_ns) the message's generateTime
//	Contents  messageId, productKey, deviceName, kind, topic,
//	          generateTime (epoch ms, decimal), and payload (the
//	          payload as text when it is UTF-8) or payloadBase64
//
// The messages come through a durable consumer of the device stream
// (broker.StartForward), acked once AppendLog has stored their batch, so a
// message is forwarded at least once: across restarts, and while the
// engine is away. A device's messages go to one shard (a hash of product
// and device), in order. Rules are kept beside the logstores:
//
//	forward.<productKey>   forwardMeta
//
// Deleting a logstore (or its project) deletes the rules that feed it.

// ErrForwardNotFound answers for a product without a forwarding rule.
var ErrForwardNotFound = errors.New("log forwarding rule not found")

// ForwardRule sends a product's device messages of Kinds to
// Project/Logstore.
type ForwardRule struct {
	ProductKey string    `json:"productKey"`
	Project    string    `json:"project"`
	Logstore   string    `json:"logstore"`
	Kinds      []string  `json:"kinds"`
	CreatedAt  time.Time `json:"createdAt"`
	// Backlog counts the messages not yet stored in the logstore (the
	// rule's consumer's pending and unacknowledged ones); answered, not kept.
	Backlog int `json:"backlog"`
}

type forwardMeta struct {
	ForwardRule
	ID string `json:"id"` // names the broker's forward: product keys may hold '.'
}

func forwardKey(pk string) string { return "forward." + pk }

// forwards are the rules' running forwards, by product key.
type forwards struct {
	mu      sync.Mutex // guards running; taken after Server.mu
	running map[string]*broker.Forward
	closed  bool
}

// checkRule refuses a rule whose names cannot be right, before anything
// is looked up.
func checkRule(r *ForwardRule) error {
	if err := broker.ValidateProductKey(r.ProductKey); err != nil {
		return err
	}
	if err := checkProjectName(r.Project); err != nil {
		return fmt.Errorf("%w: %s", broker.ErrInvalidName, err.(*Error).Message)
	}
	if err := checkLogstoreName(r.Logstore); err != nil {
		return fmt.Errorf("%w: %s", broker.ErrInvalidName, err.(*Error).Message)
	}
	if len(r.Kinds) == 0 {
		r.Kinds = []string{broker.KindData}
	}
	seen := map[string]bool{}
	for _, k := range r.Kinds {
		if !slices.Contains(broker.Kinds, k) {
			return fmt.Errorf("%w: unknown message kind %s (known: %v)", broker.ErrInvalidArgument, quote(k), broker.Kinds)
		}
		if seen[k] {
			return fmt.Errorf("%w: message kind %s given twice", broker.ErrInvalidArgument, quote(k))
		}
		seen[k] = true
	}
	return nil
}

// SetForward makes or replaces productKey's rule. The logstore must exist
// (ErrProjectNotFound, ErrLogstoreNotFound). A replaced rule keeps its
// place in the device stream: what it had not yet forwarded goes to the
// new logstore.
func (s *Server) SetForward(ctx context.Context, rule ForwardRule) (ForwardRule, error) {
	if err := checkRule(&rule); err != nil {
		return ForwardRule{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.meta.logstore(ctx, rule.Project, rule.Logstore); err != nil {
		return ForwardRule{}, err
	}
	m := forwardMeta{}
	found, err := s.meta.get(ctx, forwardKey(rule.ProductKey), &m)
	if err != nil {
		return ForwardRule{}, err
	}
	if !found {
		m.ID, m.CreatedAt = newForwardID(), time.Now().UTC().Truncate(time.Millisecond)
	}
	m.ProductKey, m.Project, m.Logstore, m.Kinds = rule.ProductKey, rule.Project, rule.Logstore, rule.Kinds
	if err := s.meta.put(ctx, forwardKey(rule.ProductKey), m); err != nil {
		return ForwardRule{}, err
	}
	if err := s.startForward(ctx, m); err != nil {
		return ForwardRule{}, err
	}
	return m.ForwardRule, nil
}

func newForwardID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Forward returns productKey's rule, or ErrForwardNotFound.
func (s *Server) Forward(ctx context.Context, productKey string) (ForwardRule, error) {
	if err := broker.ValidateProductKey(productKey); err != nil {
		return ForwardRule{}, err
	}
	m := forwardMeta{}
	found, err := s.meta.get(ctx, forwardKey(productKey), &m)
	if err != nil {
		return ForwardRule{}, err
	}
	if !found {
		return ForwardRule{}, fmt.Errorf("%w: product %s has none", ErrForwardNotFound, quote(productKey))
	}
	return s.withBacklog(ctx, m), nil
}

func (s *Server) withBacklog(ctx context.Context, m forwardMeta) ForwardRule {
	if n, err := s.cfg.Broker.ForwardBacklog(ctx, forwardName(m.ID)); err == nil {
		m.Backlog = n
	}
	return m.ForwardRule
}

// Forwards lists every rule, by product key.
func (s *Server) Forwards(ctx context.Context) ([]ForwardRule, error) {
	metas, err := s.forwardMetas(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ForwardRule, 0, len(metas))
	for _, m := range metas {
		out = append(out, s.withBacklog(ctx, m))
	}
	return out, nil
}

func (s *Server) forwardMetas(ctx context.Context) ([]forwardMeta, error) {
	pks, err := s.meta.keysUnder(ctx, forwardKey(""))
	if err != nil {
		return nil, err
	}
	var out []forwardMeta
	for _, pk := range pks {
		m := forwardMeta{}
		if found, err := s.meta.get(ctx, forwardKey(pk), &m); err != nil {
			return nil, err
		} else if found {
			out = append(out, m)
		}
	}
	return out, nil
}

// DeleteForward removes productKey's rule: nothing more is forwarded, and
// what it had not forwarded yet is dropped.
func (s *Server) DeleteForward(ctx context.Context, productKey string) error {
	if err := broker.ValidateProductKey(productKey); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := forwardMeta{}
	found, err := s.meta.get(ctx, forwardKey(productKey), &m)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%w: product %s has none", ErrForwardNotFound, quote(productKey))
	}
	return s.removeForward(ctx, m)
}

// removeForward stops and deletes a rule; the caller holds s.mu.
func (s *Server) removeForward(ctx context.Context, m forwardMeta) error {
	s.fwd.mu.Lock()
	f := s.fwd.running[m.ProductKey]
	delete(s.fwd.running, m.ProductKey)
	s.fwd.mu.Unlock()
	if f != nil {
		f.Stop()
	}
	if err := s.meta.bucket.Delete(ctx, forwardKey(m.ProductKey)); err != nil {
		return err
	}
	return s.cfg.Broker.DeleteForward(ctx, forwardName(m.ID))
}

// removeForwardsTo deletes the rules feeding project/logstore (every
// logstore of project when logstore is ""); the caller holds s.mu.
func (s *Server) removeForwardsTo(ctx context.Context, project, logstore string) error {
	metas, err := s.forwardMetas(ctx)
	if err != nil {
		return err
	}
	for _, m := range metas {
		if m.Project == project && (logstore == "" || m.Logstore == logstore) {
			if err := s.removeForward(ctx, m); err != nil {
				return err
			}
		}
	}
	return nil
}

func forwardName(id string) string { return "ls_" + id }

// StartForwards starts the stored rules' forwards (at start-up); Close
// stops them.
func (s *Server) StartForwards(ctx context.Context) error {
	metas, err := s.forwardMetas(ctx)
	if err != nil {
		return err
	}
	for _, m := range metas {
		if err := s.startForward(ctx, m); err != nil {
			return fmt.Errorf("forwarding %s to %s/%s: %w", m.ProductKey, m.Project, m.Logstore, err)
		}
	}
	return nil
}

// startForward (re)starts m's forward with its current target and kinds.
func (s *Server) startForward(ctx context.Context, m forwardMeta) error {
	s.fwd.mu.Lock()
	old := s.fwd.running[m.ProductKey]
	delete(s.fwd.running, m.ProductKey)
	closed := s.fwd.closed
	s.fwd.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	if closed {
		return broker.ErrClosed
	}
	f, err := s.cfg.Broker.StartForward(ctx, forwardName(m.ID), m.ProductKey, m.Kinds, s.forwardInto(m.Project, m.Logstore))
	if err != nil {
		return err
	}
	s.fwd.mu.Lock()
	defer s.fwd.mu.Unlock()
	if s.fwd.running == nil {
		s.fwd.running = map[string]*broker.Forward{}
	}
	s.fwd.running[m.ProductKey] = f
	return nil
}

// Close stops every forward; it is idempotent.
func (s *Server) Close() {
	s.fwd.mu.Lock()
	running := s.fwd.running
	s.fwd.running, s.fwd.closed = nil, true
	s.fwd.mu.Unlock()
	for _, f := range running {
		f.Stop()
	}
}

// forwardInto stores a batch of device messages into project/logstore.
// An error makes the batch come again, so a message stored before the
// failure can be stored twice (at least once).
func (s *Server) forwardInto(project, logstore string) broker.ForwardFunc {
	return func(ctx context.Context, msgs []broker.DeviceMessage) error {
		ls, err := s.meta.logstore(ctx, project, logstore)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			raw := AppendLogGroup(nil, ForwardedLogGroup(m))
			if max := s.cfg.Broker.MaxLogRecord(); len(raw) > max {
				s.cfg.Logger.Warn().Str("messageId", m.MessageID).Int("bytes", len(raw)).Int("max", max).
					Msg("a forwarded message's log group is over what a shard record holds; skipped")
				continue
			}
			if _, err := s.cfg.Broker.AppendLog(ctx, ls.shard(project, deviceShard(m, ls.ShardCount)), raw); err != nil {
				return err
			}
		}
		return nil
	}
}

// deviceShard keeps a device's messages on one shard.
func deviceShard(m broker.DeviceMessage, shards int) int {
	h := fnv.New32a()
	h.Write([]byte(m.ProductKey))
	h.Write([]byte{0})
	h.Write([]byte(m.DeviceName))
	return int(h.Sum32() % uint32(shards))
}

// ForwardedLogGroup is the LogGroup a device message is forwarded as.
func ForwardedLogGroup(m broker.DeviceMessage) *LogGroup {
	contents := []Pair{
		{"messageId", m.MessageID},
		{"productKey", m.ProductKey},
		{"deviceName", m.DeviceName},
		{"kind", m.Kind},
		{"topic", m.Topic},
		{"generateTime", strconv.FormatInt(m.GenerateTime.UnixMilli(), 10)},
	}
	if utf8.Valid(m.Payload) {
		contents = append(contents, Pair{"payload", string(m.Payload)})
	} else {
		contents = append(contents, Pair{"payloadBase64", base64.StdEncoding.EncodeToString(m.Payload)})
	}
	t := m.GenerateTime
	return &LogGroup{
		Topic:  m.Topic,
		Source: m.DeviceName,
		Logs:   []Log{{Time: uint32(t.Unix()), TimeNs: uint32(t.Nanosecond()), HasNs: true, Contents: contents}},
	}
}
