// Package periodic runs a step on a ticker until its context ends or the
// broker closes, logging a failing step once when the failure starts and
// once when it ends (not every tick): the alert evaluator and the history
// sampler share it.
package periodic

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
)

// Run calls step(ctx, now()) every interval. failing is the log message of
// a failure, recovered that of the first success after one.
func Run(ctx context.Context, interval time.Duration, now func() time.Time, step func(context.Context, time.Time) error,
	log zerolog.Logger, failing, recovered string) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last string // the failure being reported, empty when none
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := step(ctx, now())
		switch {
		case errors.Is(err, broker.ErrClosed) || ctx.Err() != nil:
			return
		case err != nil && err.Error() != last:
			last = err.Error()
			log.Warn().Err(err).Msg(failing)
		case err == nil && last != "":
			last = ""
			log.Info().Msg(recovered)
		}
	}
}
