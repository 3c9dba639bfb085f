package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// readyWait bounds how long dial waits for JetStream to answer when the
// caller's context allows longer: a cluster starting together elects its
// meta leader within seconds once a majority of its nodes are routed.
const readyWait = 60 * time.Second

// attemptWait bounds one JetStream API call inside a retry loop: during an
// election a request can go unanswered rather than fail.
const attemptWait = 5 * time.Second

// waitReady polls JetStream until it answers an account info request
// (in a cluster, that is once the meta group has a leader) or ctx ends.
func (e *engine) waitReady(ctx context.Context, cluster bool) error {
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	start := time.Now()
	err := retry(ctx, time.Second, func(ctx context.Context) error {
		_, err := e.js.AccountInfo(ctx)
		return err
	}, func(error) bool { return true })
	if err == nil {
		return nil
	}
	hint := "is JetStream enabled on the server?"
	if cluster {
		hint = "no meta leader: a cluster needs a majority of its JetStream servers up and routed to each other"
	}
	return fmt.Errorf("JetStream not ready after %v (%s): %w", time.Since(start).Round(time.Millisecond), hint, err)
}

// retry runs op until it succeeds, fails with an error that again does not
// accept, or ctx ends; each attempt has at most attemptWait. It returns
// the last error.
func retry(ctx context.Context, attempt time.Duration, op func(context.Context) error, again func(error) bool) error {
	wait := 25 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, attempt)
		err := op(actx)
		cancel()
		if err == nil || !again(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// electionWait bounds how long an operator's call waits out an election:
// right after a cluster forms, or a node leaves, a stream or bucket may be
// without a leader for a few seconds, and its requests go unanswered.
const electionWait = 15 * time.Second

// settle runs op, again while the engine is away (up to electionWait), and
// marks what still fails as the engine's absence: an operator then hears
// "try again" rather than a timeout. op must be safe to repeat.
func (b *Broker) settle(ctx context.Context, op func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, electionWait)
	defer cancel()
	// With the connection down, the wait is the reconnect's, not an election's.
	again := func(err error) bool { return engineAway(err) && b.connected() }
	return b.unavailable(retry(ctx, attemptWait, op, again))
}

// settled is settle for a call with a result.
func settled[T any](b *Broker, ctx context.Context, op func(context.Context) (T, error)) (T, error) {
	var v T
	err := b.settle(ctx, func(ctx context.Context) (err error) {
		v, err = op(ctx)
		return err
	})
	return v, err
}

// Error codes of the JetStream API that pass when the cluster settles:
// several nodes creating the same asset at once, a meta leader not yet
// elected, or fewer peers known than the replicas asked for.
const (
	codeClusterNotAvailable   jetstream.ErrorCode = 10008 // JetStream system temporarily unavailable
	codeNoSuitablePeers       jetstream.ErrorCode = 10005 // no suitable peers for placement
	codeInsufficientResources jetstream.ErrorCode = 10023
	codeReplicasNotSupported  jetstream.ErrorCode = 10074 // replicas > 1 not supported in non-clustered mode
)

// transient reports whether err may pass if the same call is made again:
// a race with another node creating the same asset, or a cluster still
// electing its leaders.
func transient(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case codeClusterNotAvailable, codeNoSuitablePeers, codeInsufficientResources,
			jetstream.JSErrCodeStreamNameInUse, jetstream.JSErrCodeConsumerNameExists,
			jetstream.JSErrCodeConsumerExists:
			return true
		}
		return false
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, jetstream.ErrStreamNameAlreadyInUse)
}

// engineAway reports whether err says that JetStream did not answer in
// time or is electing its leaders: the engine is away for now, whatever
// the connection says, and the caller may try again.
func engineAway(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == codeClusterNotAvailable
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse)
}

// catchUpWait bounds how long a clustered node waits, at start, for its
// copies of the streams to catch up.
const catchUpWait = 60 * time.Second

// waitCaughtUp waits until the embedded clustered server's copies of the
// streams and consumers are current (nats-server's own health check), so
// that a node restarted in a rolling restart says it is ready only once
// the next may be stopped. It gives up, saying so, when ctx ends.
func (b *Broker) waitCaughtUp(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, catchUpWait)
	defer cancel()
	start, told := time.Now(), false
	for b.jetStreamBehind() {
		if !told && time.Since(start) > time.Second {
			b.log.Info().Msg("waiting for this node's copies of the streams to catch up with the cluster")
			told = true
		}
		select {
		case <-ctx.Done():
			b.log.Warn().Dur("waited", time.Since(start)).Msg("starting before this node's copies of the streams caught up")
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	if told {
		b.log.Info().Dur("after", time.Since(start).Round(time.Millisecond)).Msg("caught up with the cluster")
	}
}

// jetStreamBehind reports whether the embedded server is a cluster node
// whose JetStream is not current (catching up, or without a leader).
func (b *Broker) jetStreamBehind() bool {
	if b.ns == nil || !b.clustered() {
		return false
	}
	hs := b.ns.Healthz(nil)
	return hs.Status != "ok" || hs.Error != ""
}

// explainReplicas adds what to do to an error refusing cfg's replica count.
func explainReplicas(err error, replicas int) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case codeReplicasNotSupported:
			return fmt.Errorf("%w: %d replicas need a JetStream cluster, this server is standalone: %w", ErrConfig, replicas, err)
		case codeInsufficientResources, codeNoSuitablePeers:
			return fmt.Errorf("%d replicas need at least %d JetStream servers in the cluster with room for them: %w", replicas, replicas, err)
		}
	}
	return err
}
