package queueservice

import (
	"context"
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
)

// Engine is what the queue service needs of the broker; *broker.Broker
// has it.
type Engine interface {
	StateBucket(name string) *broker.StateBucket
	CreateQueueStream(ctx context.Context, queue string, retention time.Duration) error
	DeleteQueueStream(ctx context.Context, queue string) error
	AppendQueue(ctx context.Context, queue string, data []byte) (uint64, error)
	CreateQueueReader(ctx context.Context, q broker.QueueReader, ackWait time.Duration) error
	DeleteQueueReader(ctx context.Context, q broker.QueueReader) error
	ReadQueue(ctx context.Context, q broker.QueueReader, max int, wait time.Duration) ([]broker.QueueDelivery, error)
	SettleQueue(ctx context.Context, q broker.QueueReader, token string, ok bool) error
	ExtendQueue(ctx context.Context, q broker.QueueReader, token string, d time.Duration) error
	QueueReaderStats(ctx context.Context, q broker.QueueReader) (broker.QueueReaderStats, error)
	QueueStreamState(ctx context.Context, queue string) (broker.QueueStreamState, error)
}

// Config sets up a Server.
type Config struct {
	Broker          Engine // required
	AccessKeyID     string // required: the key pair requests are signed with
	AccessKeySecret string
	Logger          zerolog.Logger

	// AckWait is how long a consumed message stays with its consumer
	// before it is delivered again (0: the vendor's default, 30 s).
	AckWait time.Duration
	// MaxGroupsPerQueue bounds a queue's consumer groups (0: 100).
	MaxGroupsPerQueue int
	// MaxQueues bounds a project's queues (0: 1000).
	MaxQueues int
	// Now is the clock signatures are checked against (nil: time.Now).
	Now func() time.Time
}

// Vendor limits of the API.
const (
	defaultAckWait     = 30 * time.Second
	maxGroupsPerCreate = 3
	maxSendMessages    = 10
	maxSendBytes       = 512 << 10
	maxConsumeMessages = 10
	defaultConsume     = 10
	maxTimeWait        = 60 // seconds
	defaultTimeWait    = 3
	defaultRetention   = 72 // hours
)

// Server is the queue service: its data methods, and ServeHTTP (server.go).
type Server struct {
	cfg  Config
	b    Engine
	meta *store
}

// New makes a Server over cfg.Broker.
func New(cfg Config) (*Server, error) {
	if cfg.Broker == nil {
		return nil, errors.New("queueservice: Config.Broker is required")
	}
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" {
		return nil, errors.New("queueservice: an access key id and secret are required")
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = defaultAckWait
	}
	if cfg.MaxGroupsPerQueue <= 0 {
		cfg.MaxGroupsPerQueue = 100
	}
	if cfg.MaxQueues <= 0 {
		cfg.MaxQueues = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, b: cfg.Broker, meta: &store{bucket: cfg.Broker.StateBucket(bucketName)}}, nil
}

// QueueSpec is what a new queue is made of (CreateQueue's body).
type QueueSpec struct {
	Name            string `json:"name"`
	Description     string `json:"description,omitempty"`
	QueueMode       string `json:"queue_mode,omitempty"`     // NORMAL (default), FIFO, KAFKA_HA, KAFKA_HT
	RedrivePolicy   string `json:"redrive_policy,omitempty"` // enable or disable (default)
	MaxConsumeCount int    `json:"max_consume_count,omitempty"`
	RetentionHours  int    `json:"retention_hours,omitempty"` // 1–72, default 72
}

// Queue is a queue as the API shows it.
type Queue struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Description      string `json:"description"`
	QueueMode        string `json:"queue_mode"`
	Reservation      int    `json:"reservation"` // retention, minutes
	MaxMsgSizeByte   int    `json:"max_msg_size_byte"`
	ProducedMessages uint64 `json:"produced_messages"`
	RedrivePolicy    string `json:"redrive_policy"`
	MaxConsumeCount  int    `json:"max_consume_count"`
	GroupCount       int    `json:"group_count"`
	Created          int64  `json:"created"`
}

var queueModes = map[string]bool{"NORMAL": true, "FIFO": true, "KAFKA_HA": true, "KAFKA_HT": true}

func (spec *QueueSpec) check() error {
	if err := checkQueueName(spec.Name); err != nil {
		return err
	}
	if err := checkDescription(spec.Description); err != nil {
		return err
	}
	if spec.QueueMode == "" {
		spec.QueueMode = "NORMAL"
	}
	if !queueModes[spec.QueueMode] {
		return errorf(errInvalidParam, "queue_mode %s is not NORMAL, FIFO, KAFKA_HA or KAFKA_HT", quote(spec.QueueMode))
	}
	if spec.RedrivePolicy == "" {
		spec.RedrivePolicy = "disable"
	}
	if spec.RedrivePolicy != "enable" && spec.RedrivePolicy != "disable" {
		return errorf(errInvalidParam, "redrive_policy %s is not enable or disable", quote(spec.RedrivePolicy))
	}
	if spec.MaxConsumeCount == 0 {
		spec.MaxConsumeCount = 3
	}
	if spec.MaxConsumeCount < 1 || spec.MaxConsumeCount > 100 {
		return errorf(errInvalidParam, "max_consume_count %d is not in 1..100", spec.MaxConsumeCount)
	}
	if spec.RetentionHours == 0 {
		spec.RetentionHours = defaultRetention
	}
	if spec.RetentionHours < 1 || spec.RetentionHours > defaultRetention {
		return errorf(errInvalidParam, "retention_hours %d is not in 1..%d", spec.RetentionHours, defaultRetention)
	}
	return nil
}

// CreateQueue makes a queue in project; names are unique in a project.
func (s *Server) CreateQueue(ctx context.Context, project string, spec QueueSpec) (Queue, error) {
	if err := checkProject(project); err != nil {
		return Queue{}, err
	}
	if err := spec.check(); err != nil {
		return Queue{}, err
	}
	have, err := s.meta.queues(ctx, project)
	if err != nil {
		return Queue{}, err
	}
	if len(have) >= s.cfg.MaxQueues {
		return Queue{}, errorf(errQueueQuota, "project %s has %d queues, the most it may have", quote(project), len(have))
	}
	for _, q := range have {
		if q.Name == spec.Name {
			return Queue{}, errorf(errQueueExists, "a queue named %s exists in project %s", quote(spec.Name), quote(project))
		}
	}
	rec := queueRecord{ID: newUUID(), Name: spec.Name, Description: spec.Description, Mode: spec.QueueMode,
		RedrivePolicy: spec.RedrivePolicy, MaxConsumeCount: spec.MaxConsumeCount, RetentionHours: spec.RetentionHours,
		Created: s.cfg.Now().UnixMilli()}
	if err := s.b.CreateQueueStream(ctx, rec.ID, time.Duration(rec.RetentionHours)*time.Hour); err != nil {
		return Queue{}, err
	}
	if err := s.meta.put(ctx, queueKey(project, rec.ID), rec); err != nil {
		if derr := s.b.DeleteQueueStream(ctx, rec.ID); derr != nil {
			s.cfg.Logger.Warn().Err(derr).Str("queue", rec.ID).Msg("queue stream left behind")
		}
		return Queue{}, err
	}
	return s.render(ctx, project, rec)
}

// render is a record as the API shows it, with its counters.
func (s *Server) render(ctx context.Context, project string, rec queueRecord) (Queue, error) {
	groups, err := s.meta.groups(ctx, project, rec.ID)
	if err != nil {
		return Queue{}, err
	}
	q := Queue{ID: rec.ID, Name: rec.Name, Description: rec.Description, QueueMode: rec.Mode,
		Reservation: rec.RetentionHours * 60, MaxMsgSizeByte: maxSendBytes, RedrivePolicy: rec.RedrivePolicy,
		MaxConsumeCount: rec.MaxConsumeCount, GroupCount: len(groups), Created: rec.Created}
	st, err := s.b.QueueStreamState(ctx, rec.ID)
	if err != nil && !errors.Is(err, broker.ErrQueueStreamNotFound) { // absent: being deleted
		return Queue{}, err
	}
	q.ProducedMessages = int32Max(st.Last)
	return q, nil
}

// Queues lists a project's queues.
func (s *Server) Queues(ctx context.Context, project string) ([]Queue, error) {
	if err := checkProject(project); err != nil {
		return nil, err
	}
	recs, err := s.meta.queues(ctx, project)
	if err != nil {
		return nil, err
	}
	out := make([]Queue, 0, len(recs))
	for _, rec := range recs {
		q, err := s.render(ctx, project, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// Queue is one queue of project.
func (s *Server) Queue(ctx context.Context, project, id string) (Queue, error) {
	rec, err := s.queueRecord(ctx, project, id)
	if err != nil {
		return Queue{}, err
	}
	return s.render(ctx, project, rec)
}

func (s *Server) queueRecord(ctx context.Context, project, id string) (queueRecord, error) {
	if err := checkProject(project); err != nil {
		return queueRecord{}, err
	}
	if err := checkQueueID(id); err != nil {
		return queueRecord{}, err
	}
	return s.meta.queue(ctx, project, id)
}

// DeleteQueue removes a queue with its groups and messages.
func (s *Server) DeleteQueue(ctx context.Context, project, id string) error {
	if _, err := s.queueRecord(ctx, project, id); err != nil {
		return err
	}
	groups, err := s.meta.groups(ctx, project, id)
	if err != nil {
		return err
	}
	if err := s.b.DeleteQueueStream(ctx, id); err != nil {
		return err
	}
	for _, g := range groups {
		if err := s.meta.bucket.Delete(ctx, groupKey(project, id, g.ID)); err != nil {
			return err
		}
	}
	return s.meta.bucket.Delete(ctx, queueKey(project, id))
}

// Group is a consumer group as the API shows it.
type Group struct {
	ID                   string `json:"id"`
	Name                 string `json:"name"`
	ProducedMessages     uint64 `json:"produced_messages"`
	ConsumedMessages     uint64 `json:"consumed_messages"`
	AvailableMessages    uint64 `json:"available_messages"`
	ProducedDeadletters  uint64 `json:"produced_deadletters"`
	AvailableDeadletters uint64 `json:"available_deadletters"`
}

// GroupList is ListConsumerGroups' answer.
type GroupList struct {
	QueueID       string  `json:"queue_id"`
	QueueName     string  `json:"queue_name"`
	Groups        []Group `json:"groups"`
	RedrivePolicy string  `json:"redrive_policy"`
	Total         int     `json:"total"`
}

// CreatedGroup is one group of CreateGroups' answer.
type CreatedGroup struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CreateGroups makes up to three consumer groups on a queue, all or none:
// a bad or taken name, a duplicate in the request, more than three, or the
// queue's limit reached fails the whole request before anything is made.
func (s *Server) CreateGroups(ctx context.Context, project, queue string, names []string) ([]CreatedGroup, error) {
	if _, err := s.queueRecord(ctx, project, queue); err != nil {
		return nil, err
	}
	switch {
	case len(names) == 0:
		return nil, errorf(errInvalidBody, "groups is empty: name one to %d consumer groups", maxGroupsPerCreate)
	case len(names) > maxGroupsPerCreate:
		return nil, errorf(errTooManyInBatch, "%d consumer groups in one request; at most %d may be created at a time", len(names), maxGroupsPerCreate)
	}
	have, err := s.meta.groups(ctx, project, queue)
	if err != nil {
		return nil, err
	}
	if len(have)+len(names) > s.cfg.MaxGroupsPerQueue {
		return nil, errorf(errGroupQuota, "queue %s has %d consumer groups; %d more would pass its limit of %d", quote(queue), len(have), len(names), s.cfg.MaxGroupsPerQueue)
	}
	taken := map[string]bool{}
	for _, g := range have {
		taken[g.Name] = true
	}
	for _, name := range names {
		if err := checkGroupName(name); err != nil {
			return nil, err
		}
		if taken[name] {
			return nil, errorf(errGroupExists, "consumer group %s already exists on queue %s", quote(name), quote(queue))
		}
		taken[name] = true
	}
	out := make([]CreatedGroup, 0, len(names))
	for _, name := range names {
		rec := groupRecord{ID: "g-" + newUUID(), Name: name, Created: s.cfg.Now().UnixMilli()}
		if err := s.createGroup(ctx, project, queue, rec); err != nil {
			s.undo(ctx, project, queue, out)
			return nil, err
		}
		out = append(out, CreatedGroup{ID: rec.ID, Name: rec.Name})
	}
	return out, nil
}

func (s *Server) createGroup(ctx context.Context, project, queue string, rec groupRecord) error {
	r := broker.QueueReader{Queue: queue, Group: rec.ID}
	if err := s.b.CreateQueueReader(ctx, r, s.cfg.AckWait); err != nil {
		return err
	}
	if err := s.meta.put(ctx, groupKey(project, queue, rec.ID), rec); err != nil {
		if derr := s.b.DeleteQueueReader(ctx, r); derr != nil {
			s.cfg.Logger.Warn().Err(derr).Str("queue", queue).Str("group", rec.ID).Msg("queue reader left behind")
		}
		return err
	}
	return nil
}

// undo removes the groups a failed CreateGroups made.
func (s *Server) undo(ctx context.Context, project, queue string, made []CreatedGroup) {
	for _, g := range made {
		if err := s.removeGroup(ctx, project, queue, g.ID); err != nil {
			s.cfg.Logger.Warn().Err(err).Str("queue", queue).Str("group", g.ID).Msg("undoing a group creation failed")
		}
	}
}

// Groups lists a queue's consumer groups with their counters.
func (s *Server) Groups(ctx context.Context, project, queue string) (GroupList, error) {
	rec, err := s.queueRecord(ctx, project, queue)
	if err != nil {
		return GroupList{}, err
	}
	recs, err := s.meta.groups(ctx, project, queue)
	if err != nil {
		return GroupList{}, err
	}
	out := GroupList{QueueID: rec.ID, QueueName: rec.Name, RedrivePolicy: rec.RedrivePolicy, Groups: make([]Group, 0, len(recs))}
	for _, g := range recs {
		st, err := s.b.QueueReaderStats(ctx, broker.QueueReader{Queue: queue, Group: g.ID})
		if errors.Is(err, broker.ErrQueueStreamNotFound) {
			continue // being deleted
		}
		if err != nil {
			return GroupList{}, err
		}
		out.Groups = append(out.Groups, groupOf(g, st))
	}
	out.Total = len(out.Groups)
	return out, nil
}

func groupOf(g groupRecord, st broker.QueueReaderStats) Group {
	avail := st.Pending + uint64(st.AckPending)
	consumed := uint64(0)
	if st.Last > avail {
		consumed = st.Last - avail
	}
	return Group{ID: g.ID, Name: g.Name, ProducedMessages: int32Max(st.Last), ConsumedMessages: int32Max(consumed), AvailableMessages: int32Max(avail)}
}

// int32Max caps a counter where the SDK's models read an int32.
func int32Max(n uint64) uint64 { return min(n, math.MaxInt32) }

// DeleteGroup removes a consumer group and its position.
func (s *Server) DeleteGroup(ctx context.Context, project, queue, group string) error {
	if _, err := s.groupRecord(ctx, project, queue, group); err != nil {
		return err
	}
	return s.removeGroup(ctx, project, queue, group)
}

func (s *Server) removeGroup(ctx context.Context, project, queue, group string) error {
	if err := s.b.DeleteQueueReader(ctx, broker.QueueReader{Queue: queue, Group: group}); err != nil {
		return err
	}
	return s.meta.bucket.Delete(ctx, groupKey(project, queue, group))
}

func (s *Server) groupRecord(ctx context.Context, project, queue, group string) (groupRecord, error) {
	if _, err := s.queueRecord(ctx, project, queue); err != nil {
		return groupRecord{}, err
	}
	if err := checkGroupID(group); err != nil {
		return groupRecord{}, err
	}
	return s.meta.group(ctx, project, queue, group)
}

// Ack is one acknowledgement: a handler and success or fail.
type Ack struct {
	Handler string `json:"handler"`
	Status  string `json:"status"`
}

// AckResult counts the acknowledgements that took effect and those that
// did not.
type AckResult struct {
	Success int `json:"success"`
	Fail    int `json:"fail"`
}

// Acknowledge settles deliveries of group in order: success acknowledges
// (the message is never delivered to the group again), fail gives it back
// for delivery at once. The first that cannot be settled (a handler not of
// this group, expired, or malformed) fails with all after it.
func (s *Server) Acknowledge(ctx context.Context, project, queue, group string, acks []Ack) (AckResult, error) {
	if _, err := s.groupRecord(ctx, project, queue, group); err != nil {
		return AckResult{}, err
	}
	if len(acks) == 0 {
		return AckResult{}, errorf(errInvalidBody, "message is empty: name the handlers to acknowledge")
	}
	for i, a := range acks {
		if a.Status != "success" && a.Status != "fail" {
			return AckResult{}, errorf(errInvalidBody, "message %d: status %s is not success or fail", i, quote(a.Status))
		}
		if a.Handler == "" {
			return AckResult{}, errorf(errInvalidBody, "message %d has no handler", i)
		}
	}
	r := broker.QueueReader{Queue: queue, Group: group}
	var res AckResult
	for i, a := range acks {
		token, err := decodeHandler(a.Handler)
		if err == nil {
			err = s.b.SettleQueue(ctx, r, token, a.Status == "success")
		}
		if err != nil {
			if e := toError(err); e.Status >= 500 {
				s.cfg.Logger.Warn().Err(err).Str("queue", queue).Str("group", group).Msg("acknowledgement failed")
			}
			res.Fail = len(acks) - i
			return res, nil
		}
		res.Success++
	}
	return res, nil
}

// Backlog is one group's messages not yet acknowledged, for metrics.
type Backlog struct {
	Project, Queue, QueueName, Group, GroupName string
	Pending, AckPending                         uint64
}

// Backlogs reads every group's backlog.
func (s *Server) Backlogs(ctx context.Context) ([]Backlog, error) {
	keys, err := s.meta.bucket.Keys(ctx)
	if err != nil {
		return nil, err
	}
	var out []Backlog
	names := map[string]string{}
	for _, k := range keys {
		parts := strings.Split(k, ".")
		if len(parts) != 5 || parts[0] != "p" || parts[2] != "g" {
			continue // a queue's record
		}
		project, queue, group := parts[1], parts[3], parts[4]
		g, err := s.meta.group(ctx, project, queue, group)
		if err != nil {
			continue // deleted since the listing
		}
		qname, ok := names[queue]
		if !ok {
			if q, err := s.meta.queue(ctx, project, queue); err == nil {
				qname = q.Name
			}
			names[queue] = qname
		}
		st, err := s.b.QueueReaderStats(ctx, broker.QueueReader{Queue: queue, Group: group})
		if err != nil {
			continue
		}
		out = append(out, Backlog{Project: project, Queue: queue, QueueName: qname, Group: group, GroupName: g.Name,
			Pending: st.Pending, AckPending: uint64(st.AckPending)})
	}
	return out, nil
}

// A handler is the delivery's engine reply subject, base64url: opaque to
// the client, and enough for any node to settle it.
func encodeHandler(token string) string { return base64.RawURLEncoding.EncodeToString([]byte(token)) }

func decodeHandler(h string) (string, error) {
	if len(h) > 1024 {
		return "", errors.New("handler too long")
	}
	token, err := base64.RawURLEncoding.DecodeString(h)
	return string(token), err
}
