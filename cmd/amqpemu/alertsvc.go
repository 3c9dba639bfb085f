package main

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/alerts"
	"github.com/amqpemu/amqpemu/broker"
)

// startAlerts loads the alert rules from b's state, registers their metrics
// and evaluates them every second until stop, which also waits for the
// webhook deliveries under way (10 s at most).
//
// The callbacks' userId is the access key id and their signature is keyed
// with the access key secret.
func startAlerts(ctx context.Context, f *serveFlags, b *broker.Broker, obs *observability, log zerolog.Logger) (*alerts.Evaluator, func(), error) {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg := alerts.Config{
		Source: b, Store: b.StateBucket("alerts"), Logger: log, Registerer: obs.reg,
		UserID: f.accessKeyID, Secret: f.accessKeySecret,
	}
	if b.Shared() { // one node of the cluster evaluates, so each alert fires once
		cfg.Leads = func() bool { return b.Leads("alerts") }
	}
	ev, err := alerts.New(lctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	run, stopRun := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		ev.Run(run)
	}()
	stop := func() {
		stopRun()
		<-done
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ev.Close(sctx); err != nil {
			log.Warn().Err(err).Msg("alert notifications still under way abandoned")
		}
	}
	return ev, stop, nil
}
