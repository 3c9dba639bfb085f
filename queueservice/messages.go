package queueservice

import (
	"context"
	"encoding/json"
	"math"
	"time"

	"github.com/amqpemu/amqpemu/broker"
)

// Bounds of a message (the SDK's model comments): up to three tags of 1–64
// letters, digits, '-' and '_'; a delay of up to 7 days, in milliseconds.
const (
	maxTags      = 3
	maxTag       = 64
	maxDelayTime = 604800000
)

// Message is one message as produced and consumed.
type Message struct {
	Body       json.RawMessage `json:"body"`
	Attributes json.RawMessage `json:"attributes,omitempty"`
	Tags       []string        `json:"tags,omitempty"`
	// DelayTime (ms, sending only) holds the message back from consumers.
	DelayTime json.Number `json:"delay_time,omitempty"`
}

// stored is a message as the queue stream keeps it.
type stored struct {
	Body       json.RawMessage `json:"body"`
	Attributes json.RawMessage `json:"attributes,omitempty"`
	Tags       []string        `json:"tags,omitempty"`
	Due        int64           `json:"due,omitempty"` // epoch ms before which no consumer gets it
}

// SendResult is one message's outcome in SendMessages' answer.
type SendResult struct {
	State     int    `json:"state"` // 0 stored, 1 not
	ID        string `json:"id,omitempty"`
	Error     string `json:"error,omitempty"`
	ErrorCode int    `json:"error_code,omitempty"` // a number: the SDK's model reads an int32 (here the HTTP status of the failure)
}

// checkMessage validates message i of a send to a queue of mode, and
// returns it as stored.
func checkMessage(i int, m Message, mode string, now time.Time) (stored, error) {
	if len(m.Body) == 0 || string(m.Body) == "null" {
		return stored{}, errorf(errInvalidBody, "message %d has no body", i)
	}
	if len(m.Attributes) > 0 && string(m.Attributes) != "null" && m.Attributes[0] != '{' {
		return stored{}, errorf(errInvalidBody, "message %d: attributes are not a JSON object", i)
	}
	if len(m.Tags) > maxTags {
		return stored{}, errorf(errInvalidBody, "message %d has %d tags; at most %d", i, len(m.Tags), maxTags)
	}
	for _, tag := range m.Tags {
		if reason := badName(tag, maxTag); reason != "" {
			return stored{}, errorf(errInvalidBody, "message %d: tag %s %s", i, quote(tag), reason)
		}
	}
	st := stored{Body: m.Body, Attributes: m.Attributes, Tags: m.Tags}
	if m.DelayTime == "" {
		return st, nil
	}
	d, err := m.DelayTime.Float64()
	if err != nil || d < 0 || d > maxDelayTime || math.IsNaN(d) {
		return stored{}, errorf(errInvalidBody, "message %d: delay_time %s is not a number of milliseconds in 0..%d", i, quote(string(m.DelayTime)), maxDelayTime)
	}
	if d >= 1 && (mode == "KAFKA_HA" || mode == "KAFKA_HT") {
		return stored{}, errorf(errKafkaDelay, "Invalid request format: kafka queue message could not have delayTime.")
	}
	if ms := int64(d); ms > 0 { // the vendor drops the fraction
		st.Due = now.Add(time.Duration(ms) * time.Millisecond).UnixMilli()
	}
	return st, nil
}

// Send stores messages in the queue, in order: at most ten, of at most
// 512 KB together, each with a body. Each is stored once the engine
// acknowledges it; one that fails is reported with state 1.
func (s *Server) Send(ctx context.Context, project, queue string, msgs []Message) ([]SendResult, error) {
	rec, err := s.queueRecord(ctx, project, queue)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 || len(msgs) > maxSendMessages {
		return nil, errorf(errInvalidBody, "%d messages; send 1 to %d at a time", len(msgs), maxSendMessages)
	}
	raws := make([][]byte, len(msgs))
	size := 0
	now := s.cfg.Now()
	for i, m := range msgs {
		st, err := checkMessage(i, m, rec.Mode, now)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(st)
		if err != nil {
			return nil, errorf(errInvalidBody, "message %d: %v", i, err)
		}
		raws[i] = raw
		size += len(m.Body) + len(m.Attributes)
	}
	if size > maxSendBytes {
		return nil, errorf(errTooLarge, "the messages hold %d bytes together; at most %d may be sent at a time", size, maxSendBytes)
	}
	out := make([]SendResult, len(msgs))
	for i, raw := range raws {
		if _, err := s.b.AppendQueue(ctx, queue, raw); err != nil {
			if i == 0 {
				return nil, err // nothing stored: the request failed as a whole
			}
			e := toError(err)
			out[i] = SendResult{State: 1, Error: e.Message, ErrorCode: e.Status}
			continue
		}
		out[i] = SendResult{State: 0, ID: newUUID()}
	}
	return out, nil
}

// Consumed is one message handed to a consumer, with the handler that
// acknowledges it.
type Consumed struct {
	Message Message `json:"message"`
	Handler string  `json:"handler"`
}

// ConsumeOptions are ConsumeMessages' parameters.
type ConsumeOptions struct {
	MaxMsgs  int           // 1–10
	TimeWait time.Duration // how long to wait for a first message, 1–60 s
	AckWait  time.Duration // how long the consumer has to acknowledge; 0: the group's (Config.AckWait)
}

// Consume hands up to opts.MaxMsgs messages of the queue to one consumer
// of group: at once what is waiting, or else the first to arrive within
// opts.TimeWait; none is an empty list. A message not acknowledged within
// opts.AckWait (else the group's) goes to a consumer again. A delayed
// message that comes before its time is given back to the engine until
// then, unseen.
func (s *Server) Consume(ctx context.Context, project, queue, group string, opts ConsumeOptions) ([]Consumed, error) {
	if _, err := s.groupRecord(ctx, project, queue, group); err != nil {
		return nil, err
	}
	r := broker.QueueReader{Queue: queue, Group: group}
	deadline := time.Now().Add(opts.TimeWait)
	for {
		got, err := s.b.ReadQueue(ctx, r, opts.MaxMsgs, time.Until(deadline))
		if err != nil {
			return nil, err
		}
		out := s.handOut(ctx, r, got, opts.AckWait)
		if len(out) > 0 || len(got) == 0 || !time.Now().Before(deadline) {
			return out, nil
		}
		// Only messages before their time came: wait on for the rest.
	}
}

// handOut turns deliveries into what the consumer gets, holding back the
// ones not yet due and applying ackWait.
func (s *Server) handOut(ctx context.Context, r broker.QueueReader, got []broker.QueueDelivery, ackWait time.Duration) []Consumed {
	out := make([]Consumed, 0, len(got))
	now := s.cfg.Now()
	for _, d := range got {
		var st stored
		if err := json.Unmarshal(d.Data, &st); err != nil {
			st = stored{Body: mustJSON(string(d.Data))} // not stored by Send: its bytes as a string
		}
		if wait := time.UnixMilli(st.Due).Sub(now); st.Due > 0 && wait > 0 {
			if err := s.b.ExtendQueue(ctx, r, d.Token, wait); err != nil {
				s.cfg.Logger.Warn().Err(err).Str("queue", r.Queue).Str("group", r.Group).Msg("delayed message not held back: it comes again after the ack wait")
			}
			continue
		}
		if ackWait > 0 && ackWait != s.cfg.AckWait {
			// Before the handler is out, so that no ack can come first.
			if err := s.b.ExtendQueue(ctx, r, d.Token, ackWait); err != nil {
				s.cfg.Logger.Warn().Err(err).Str("queue", r.Queue).Str("group", r.Group).Msg("ack_wait not applied: the group's ack wait holds")
			}
		}
		out = append(out, Consumed{Message: Message{Body: st.Body, Attributes: st.Attributes, Tags: st.Tags},
			Handler: encodeHandler(d.Token)})
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	raw, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`null`)
	}
	return raw
}
