package main

import (
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/console"
	"github.com/amqpemu/amqpemu/metrics"
)

// newHTTPServer builds the REST API, /metrics and /healthz over b.
func newHTTPServer(f *serveFlags, b *broker.Broker, lns map[string]net.Listener, exposed bool, ready func() bool, log zerolog.Logger) (*http.Server, error) {
	reg, counters, err := metrics.NewRegistry(b, log)
	if err != nil {
		return nil, err
	}
	addrs := make(map[string]string, len(lns))
	for name, ln := range lns {
		addrs[name] = ln.Addr().String()
	}
	api := console.New(console.Config{
		Broker:          b,
		Logger:          log,
		Version:         version,
		Listeners:       func() map[string]string { return addrs },
		Ready:           ready,
		Registry:        reg,
		Ingested:        counters.MessagesIngested,
		AccessKeyID:     f.accessKeyID,
		AccessKeySecret: f.accessKeySecret,
		RequireAuth:     exposed,
	})
	return &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}, nil
}
