package broker

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// stateBucketPrefix names the buckets of StateBucket, beside groupsBucket
// and subsBucket.
const stateBucketPrefix = "amqpemu_state_"

// Limits of StateBucket names and keys: a name becomes part of a bucket
// (stream) name, a key part of a subject.
const (
	maxStateName = 64
	maxStateKey  = 255
)

// StateBucket is a JetStream KV bucket holding another package's state
// (alert rules, ...), so that it lives in --data (or the external cluster)
// with the groups and survives restarts. It holds no handle of its own:
// every call goes through the broker's current engine, which supervise may
// have replaced since the last one.
type StateBucket struct {
	b    *Broker
	name string // the bucket's full name
	err  error  // of the name, reported by every call
}

// StateBucket returns the bucket for name: letters, digits, '_' and '-'
// (NATS bucket names allow no '.'). The bucket is created, with file
// storage, on first use.
func (b *Broker) StateBucket(name string) *StateBucket {
	s := &StateBucket{b: b, name: stateBucketPrefix + name}
	if reason := badChars(name, maxStateName, isIDChar); reason != "" {
		s.err = fmt.Errorf("%w: state bucket name %s %s; use letters, digits, '_' or '-'", ErrInvalidName, quote(name), reason)
	}
	return s
}

// checkStateKey allows letters, digits, '_', '-' and '.', the dots
// separating non-empty parts (a key is a subject's tail).
func checkStateKey(key string) error {
	reason := badChars(key, maxStateKey, func(r rune) bool { return isIDChar(r) || r == '.' })
	if reason == "" && (strings.HasPrefix(key, ".") || strings.HasSuffix(key, ".") || strings.Contains(key, "..")) {
		reason = "has an empty part between dots"
	}
	if reason != "" {
		return fmt.Errorf("%w: state key %s %s; use letters, digits, '_', '-' or '.'", ErrInvalidName, quote(key), reason)
	}
	return nil
}

// kv is the bucket on the current engine, created if need be.
func (s *StateBucket) kv(ctx context.Context) (jetstream.KeyValue, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.b.isClosed() {
		return nil, ErrClosed
	}
	e := s.b.e()
	kv, err := e.stateKV(ctx, s.name)
	if err != nil {
		return nil, s.b.unavailable(fmt.Errorf("opening bucket %s: %w", s.name, err))
	}
	return kv, nil
}

// stateKV returns the engine's handle on bucket name, making it on first
// use. The lock is held while the bucket is created: the first callers of
// a name wait for one creation rather than race several.
func (e *engine) stateKV(ctx context.Context, name string) (jetstream.KeyValue, error) {
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	if kv, ok := e.state[name]; ok {
		return kv, nil
	}
	kv, err := e.ensureKV(ctx, name, e.replicas)
	if err != nil {
		return nil, err
	}
	if e.state == nil {
		e.state = make(map[string]jetstream.KeyValue)
	}
	e.state[name] = kv
	return kv, nil
}

// Get returns the value of key, or an error wrapping ErrStateNotFound.
func (s *StateBucket) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkStateKey(key); err != nil {
		return nil, err
	}
	kv, err := s.kv(ctx)
	if err != nil {
		return nil, err
	}
	entry, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s in %s", ErrStateNotFound, key, s.name)
	}
	if err != nil {
		return nil, s.b.unavailable(fmt.Errorf("reading %s from %s: %w", key, s.name, err))
	}
	return entry.Value(), nil
}

// Put stores value under key.
func (s *StateBucket) Put(ctx context.Context, key string, value []byte) error {
	if err := checkStateKey(key); err != nil {
		return err
	}
	kv, err := s.kv(ctx)
	if err != nil {
		return err
	}
	if _, err := kv.Put(ctx, key, value); err != nil {
		return s.b.unavailable(fmt.Errorf("storing %s in %s: %w", key, s.name, err))
	}
	return nil
}

// Delete removes key; removing an absent key is not an error.
func (s *StateBucket) Delete(ctx context.Context, key string) error {
	if err := checkStateKey(key); err != nil {
		return err
	}
	kv, err := s.kv(ctx)
	if err != nil {
		return err
	}
	if err := kv.Delete(ctx, key); err != nil {
		return s.b.unavailable(fmt.Errorf("deleting %s from %s: %w", key, s.name, err))
	}
	return nil
}

// Keys lists the bucket's keys, sorted; none is an empty list.
func (s *StateBucket) Keys(ctx context.Context) ([]string, error) {
	kv, err := s.kv(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return []string{}, nil
	}
	if err != nil {
		return nil, s.b.unavailable(fmt.Errorf("listing %s: %w", s.name, err))
	}
	return keys, nil
}
