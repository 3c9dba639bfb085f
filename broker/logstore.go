package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Log service shards (the log service facade's storage).
//
// Each shard of a logstore is a JetStream stream of its own, one stored
// message per LogGroup, and a cursor is the message's stream sequence. One
// stream per shard rather than one stream per logstore with a subject per
// shard because the vendor's SDK does arithmetic on cursors: it numbers the
// log groups of a PullLogs answer backwards from x-log-read-last-cursor
// (one step per group) and GetPrevCursorTime asks for cursor-1. A shard's
// positions must therefore be consecutive integers, which a stream's
// sequences are and a subject's positions inside a shared stream are not.
// Retention (the logstore's ttl) is the stream's MaxAge; restarts keep
// everything, as the streams live in --data.

// Bounds of log shard identifiers: the project and logstore names become
// part of a stream name and of a subject.
const (
	maxLogName   = 63  // the vendor's limit for both names
	MaxLogShards = 256 // shard ids are 0..MaxLogShards-1
)

// ErrLogShardNotFound is the answer for a shard whose stream does not exist.
var ErrLogShardNotFound = errors.New("log shard not found")

// LogShard names one shard of a logstore.
type LogShard struct {
	Project  string // lower-case letters, digits and '-'
	Logstore string // lower-case letters, digits, '-' and '_'
	ID       int    // 0..MaxLogShards-1
}

// LogRecord is one stored LogGroup.
type LogRecord struct {
	Seq  uint64    // its cursor
	Time time.Time // when the engine stored it (the vendor's receive time)
	Data []byte    // exactly as appended
}

// LogRange is where a shard's data lies: records First..Next-1 are kept;
// First == Next when the shard holds none (then both are where the next
// record goes).
type LogRange struct {
	First, Next uint64
}

// check refuses what cannot name a stream: a project holds no '_', so
// "SLS_<project>_<logstore>_<id>" is unambiguous.
func (s LogShard) check() error {
	project := func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' }
	logstore := func(r rune) bool { return project(r) || r == '_' }
	if reason := badChars(s.Project, maxLogName, project); reason != "" {
		return fmt.Errorf("%w: project %s %s", ErrInvalidName, quote(s.Project), reason)
	}
	if reason := badChars(s.Logstore, maxLogName, logstore); reason != "" {
		return fmt.Errorf("%w: logstore %s %s", ErrInvalidName, quote(s.Logstore), reason)
	}
	if s.ID < 0 || s.ID >= MaxLogShards {
		return fmt.Errorf("%w: shard %d is not in 0..%d", ErrInvalidName, s.ID, MaxLogShards-1)
	}
	return nil
}

func (s LogShard) stream() string {
	return "SLS_" + s.Project + "_" + s.Logstore + "_" + strconv.Itoa(s.ID)
}

// subject does not overlap the device stream's subjects (dev., devs., queue.).
func (s LogShard) subject() string {
	return "sls." + s.Project + "." + s.Logstore + "." + strconv.Itoa(s.ID)
}

func (s LogShard) String() string {
	return s.Project + "/" + s.Logstore + "/" + strconv.Itoa(s.ID)
}

// CreateLogShard makes the shard's stream, keeping records for retention
// (0: for ever). Making one that exists updates its retention.
func (b *Broker) CreateLogShard(ctx context.Context, s LogShard, retention time.Duration) error {
	if err := s.check(); err != nil {
		return err
	}
	if b.isClosed() {
		return ErrClosed
	}
	_, err := b.e().js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        s.stream(),
		Subjects:    []string{s.subject()},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardOld,
		MaxAge:      retention,
		Replicas:    b.cfg.Replicas,
		AllowDirect: true, // ReadLogs' batched gets (a lagging replica answers fewer: the reader asks again)
		// Cursors are sequences: no record may vanish from the middle.
		DenyDelete: true,
		DenyPurge:  true,
	})
	if err != nil {
		return b.unavailable(fmt.Errorf("creating log shard %s: %w", s, err))
	}
	return nil
}

// DeleteLogShard removes the shard and its records; an absent one is no error.
func (b *Broker) DeleteLogShard(ctx context.Context, s LogShard) error {
	if err := s.check(); err != nil {
		return err
	}
	if b.isClosed() {
		return ErrClosed
	}
	err := b.e().js.DeleteStream(ctx, s.stream())
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return b.unavailable(fmt.Errorf("deleting log shard %s: %w", s, err))
	}
	return nil
}

// MaxLogRecord is the largest record AppendLog takes: what one engine
// message holds, less room for its subject and headers.
func (b *Broker) MaxLogRecord() int {
	return int(b.e().nc.MaxPayload()) - headroom
}

// AppendLog stores data as the shard's next record once JetStream has
// acknowledged it, and returns its sequence.
func (b *Broker) AppendLog(ctx context.Context, s LogShard, data []byte) (uint64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if b.isClosed() {
		return 0, ErrClosed
	}
	if max := b.MaxLogRecord(); len(data) > max {
		return 0, fmt.Errorf("%w: a log group of %d bytes is over the %d bytes one record holds", ErrMessageTooLarge, len(data), max)
	}
	ack, err := b.e().js.Publish(ctx, s.subject(), data, jetstream.WithExpectStream(s.stream()))
	if errors.Is(err, jetstream.ErrNoStreamResponse) {
		return 0, fmt.Errorf("%w: %s", ErrLogShardNotFound, s)
	}
	if err != nil {
		return 0, b.unavailable(fmt.Errorf("appending to log shard %s: %w", s, err))
	}
	return ack.Sequence, nil
}

// shardStream is the shard's stream handle, fresh from the engine.
func (b *Broker) shardStream(ctx context.Context, s LogShard) (jetstream.Stream, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if b.isClosed() {
		return nil, ErrClosed
	}
	st, err := b.e().js.Stream(ctx, s.stream())
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrLogShardNotFound, s)
	}
	if err != nil {
		return nil, b.unavailable(fmt.Errorf("opening log shard %s: %w", s, err))
	}
	return st, nil
}

// LogRange says which records the shard keeps.
func (b *Broker) LogRange(ctx context.Context, s LogShard) (LogRange, error) {
	st, err := b.shardStream(ctx, s)
	if err != nil {
		return LogRange{}, err
	}
	return rangeOf(st.CachedInfo().State), nil
}

func rangeOf(state jetstream.StreamState) LogRange {
	next := state.LastSeq + 1
	if state.Msgs == 0 {
		return LogRange{First: next, Next: next}
	}
	return LogRange{First: state.FirstSeq, Next: next}
}

// ReadLogs returns up to count records from sequence from on (a sequence
// below the shard's first reads from the first), stopping before the one
// that would take the data past maxBytes (at least one record is returned
// when any is there).
//
// The records come in one batched direct get ($JS.API.DIRECT.GET with
// batch and max_bytes, answered by one message per record and an EOB
// status), not one request per record: a PullLogs of the consumer
// library's 1000 groups cost 1000 round trips that way.
func (b *Broker) ReadLogs(ctx context.Context, s LogShard, from uint64, count, maxBytes int) ([]LogRecord, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if b.isClosed() {
		return nil, ErrClosed
	}
	if count < 1 {
		return nil, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	nc := b.e().nc
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, b.unavailable(fmt.Errorf("reading log shard %s: %w", s, err))
	}
	defer sub.Unsubscribe()
	req, err := json.Marshal(struct {
		Seq      uint64 `json:"seq"`
		NextFor  string `json:"next_by_subj"`
		Batch    int    `json:"batch"`
		MaxBytes int    `json:"max_bytes"`
	}{max(from, 1), s.subject(), count, maxBytes})
	if err != nil {
		return nil, err
	}
	if err := nc.PublishRequest("$JS.API.DIRECT.GET."+s.stream(), inbox, req); err != nil {
		return nil, b.unavailable(fmt.Errorf("reading log shard %s: %w", s, err))
	}
	return b.readBatch(ctx, s, sub, count, maxBytes)
}

// readBatch collects a batched direct get's answers up to its end. The
// server stops after the record that reaches max_bytes; that record is
// dropped here unless it is the only one.
func (b *Broker) readBatch(ctx context.Context, s LogShard, sub *nats.Subscription, count, maxBytes int) ([]LogRecord, error) {
	var out []LogRecord
	size := 0
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if errors.Is(err, nats.ErrNoResponders) { // no stream serves the subject
			return nil, fmt.Errorf("%w: %s", ErrLogShardNotFound, s)
		}
		if err != nil {
			return nil, b.unavailable(fmt.Errorf("reading log shard %s: %w", s, err))
		}
		switch m.Header.Get("Status") {
		case "":
		case "204", "404": // end of batch; nothing at or after from
			return out, nil
		default:
			return nil, fmt.Errorf("reading log shard %s: %s %s", s, m.Header.Get("Status"), m.Header.Get("Description"))
		}
		rec, err := batchRecord(m)
		if err != nil {
			return nil, fmt.Errorf("reading log shard %s: %w", s, err)
		}
		if len(out) < count && (len(out) == 0 || size+len(rec.Data) <= maxBytes) {
			out = append(out, rec)
			size += len(rec.Data)
		}
	}
}

// batchRecord reads a record from a direct get answer's headers.
func batchRecord(m *nats.Msg) (LogRecord, error) {
	seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil {
		return LogRecord{}, fmt.Errorf("direct get answer without a sequence: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, m.Header.Get(jetstream.TimeStampHeaer))
	if err != nil {
		return LogRecord{}, fmt.Errorf("direct get answer without a time: %w", err)
	}
	return LogRecord{Seq: seq, Time: t, Data: m.Data}, nil
}

// LogSeqAt is the sequence of the shard's first record stored at or after
// t, or the shard's Next when there is none.
func (b *Broker) LogSeqAt(ctx context.Context, s LogShard, t time.Time) (uint64, error) {
	st, err := b.shardStream(ctx, s)
	if err != nil {
		return 0, err
	}
	seq, found, err := b.seqFromTime(ctx, s, t)
	if err != nil {
		return 0, err
	}
	if !found {
		return rangeOf(st.CachedInfo().State).Next, nil
	}
	return seq, nil
}

// seqFromTime asks the engine for the first message at or after t. The
// jetstream client has no option for a get by start_time, so the request
// is made by hand on the API subject it would use.
func (b *Broker) seqFromTime(ctx context.Context, s LogShard, t time.Time) (uint64, bool, error) {
	req, err := json.Marshal(struct {
		StartTime time.Time `json:"start_time"`
		NextFor   string    `json:"next_by_subj"`
	}{t.UTC(), s.subject()})
	if err != nil {
		return 0, false, err
	}
	msg, err := b.e().nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+s.stream(), req)
	if err != nil {
		return 0, false, b.unavailable(fmt.Errorf("seeking log shard %s by time: %w", s, err))
	}
	var resp struct {
		Message *struct {
			Seq uint64 `json:"seq"`
		} `json:"message"`
		Error *struct {
			Code        int    `json:"code"`
			ErrCode     uint16 `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return 0, false, fmt.Errorf("seeking log shard %s by time: %w", s, err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrCode == uint16(jetstream.JSErrCodeMessageNotFound):
		return 0, false, nil
	case resp.Error != nil && resp.Error.ErrCode == uint16(jetstream.JSErrCodeStreamNotFound):
		return 0, false, fmt.Errorf("%w: %s", ErrLogShardNotFound, s)
	case resp.Error != nil:
		return 0, false, fmt.Errorf("seeking log shard %s by time: %s (%d)", s, resp.Error.Description, resp.Error.ErrCode)
	case resp.Message == nil:
		return 0, false, fmt.Errorf("seeking log shard %s by time: empty answer", s)
	}
	return resp.Message.Seq, true, nil
}
