package main

import (
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/metrics"
	"github.com/amqpemu/amqpemu/queueservice"
)

// newQueueService is the queue service (/v1.0/{project_id}/queues… and
// /v2/…) over b, signed with the emulator's key pair, its group backlogs
// on m's registry.
func newQueueService(f *serveFlags, b *broker.Broker, m *observability, log zerolog.Logger) (*queueservice.Server, error) {
	log = log.With().Str("component", "queueservice").Logger()
	qs, err := queueservice.New(queueservice.Config{Broker: b, AccessKeyID: f.accessKeyID, AccessKeySecret: f.accessKeySecret, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := m.reg.Register(metrics.NewQueueCollector(qs, log)); err != nil {
		return nil, err
	}
	return qs, nil
}
