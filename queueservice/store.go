package queueservice

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/amqpemu/amqpemu/broker"
)

// bucketName is the state bucket of the queue service's records.
const bucketName = "queueservice"

// queueRecord is what the API tells of a queue beyond its stream.
type queueRecord struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Description     string `json:"description,omitempty"`
	Mode            string `json:"queue_mode"`
	RedrivePolicy   string `json:"redrive_policy"`
	MaxConsumeCount int    `json:"max_consume_count"`
	RetentionHours  int    `json:"retention_hours"`
	Created         int64  `json:"created"` // epoch ms
}

// groupRecord is a consumer group of a queue.
type groupRecord struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Created int64  `json:"created"` // epoch ms
}

// store keeps the records in a state bucket under
//
//	p.<project>.q.<queue>          a queueRecord
//	p.<project>.g.<queue>.<group>  a groupRecord
//
// Every part is a checked id (letters, digits, '-', '_'), so the dots
// separate them unambiguously.
type store struct {
	bucket *broker.StateBucket
}

func queueKey(project, queue string) string { return "p." + project + ".q." + queue }
func groupKey(project, queue, group string) string {
	return "p." + project + ".g." + queue + "." + group
}

func (s *store) queue(ctx context.Context, project, id string) (queueRecord, error) {
	var q queueRecord
	raw, err := s.bucket.Get(ctx, queueKey(project, id))
	if errors.Is(err, broker.ErrStateNotFound) {
		return q, errorf(errQueueNotFound, "queue %s does not exist in project %s", quote(id), quote(project))
	}
	if err != nil {
		return q, err
	}
	if err := json.Unmarshal(raw, &q); err != nil {
		return q, fmt.Errorf("queue record %s: %w", id, err)
	}
	return q, nil
}

func (s *store) put(ctx context.Context, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.bucket.Put(ctx, key, raw)
}

// queues lists a project's queues, in key order.
func (s *store) queues(ctx context.Context, project string) ([]queueRecord, error) {
	keys, err := s.bucket.Keys(ctx)
	if err != nil {
		return nil, err
	}
	prefix := "p." + project + ".q."
	var out []queueRecord
	for _, k := range keys {
		id, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		q, err := s.queue(ctx, project, id)
		var e *Error
		if errors.As(err, &e) && e.Code == errQueueNotFound.code {
			continue // deleted since the listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// groups lists a queue's groups, in key order.
func (s *store) groups(ctx context.Context, project, queue string) ([]groupRecord, error) {
	keys, err := s.bucket.Keys(ctx)
	if err != nil {
		return nil, err
	}
	prefix := "p." + project + ".g." + queue + "."
	var out []groupRecord
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		raw, err := s.bucket.Get(ctx, k)
		if errors.Is(err, broker.ErrStateNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var g groupRecord
		if err := json.Unmarshal(raw, &g); err != nil {
			return nil, fmt.Errorf("group record %s: %w", k, err)
		}
		out = append(out, g)
	}
	return out, nil
}

func (s *store) group(ctx context.Context, project, queue, id string) (groupRecord, error) {
	var g groupRecord
	raw, err := s.bucket.Get(ctx, groupKey(project, queue, id))
	if errors.Is(err, broker.ErrStateNotFound) {
		return g, errorf(errGroupNotFound, "consumer group %s does not exist on queue %s", quote(id), quote(queue))
	}
	if err != nil {
		return g, err
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return g, fmt.Errorf("group record %s: %w", id, err)
	}
	return g, nil
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
