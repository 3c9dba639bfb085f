package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/console"
	"github.com/amqpemu/amqpemu/downlink"
	"github.com/amqpemu/amqpemu/logservice"
	"github.com/amqpemu/amqpemu/metrics"
	"github.com/amqpemu/amqpemu/openapi"
	"github.com/amqpemu/amqpemu/openapi/alikafka"
	"github.com/amqpemu/amqpemu/openapi/iot"
)

// newHTTPServer builds the REST API, the vendor's RPC OpenAPI, /metrics and
// /healthz over b (and the alert rules over al, the device registry over
// devs); the OpenAPI Pub goes through pub, which records into downlinks.
func newHTTPServer(f *serveFlags, b *broker.Broker, m *observability, al console.Alerts, devs console.Devices, lns map[string]net.Listener, exposed bool, ready func() bool, downlinks *downlink.Recorder, pub iot.Downlink, hist console.History, logs *logservice.Server, log zerolog.Logger, kafkaMembers alikafka.Members) (*http.Server, error) {
	if err := metrics.RegisterCollectors(m.reg, b, log); err != nil {
		return nil, err
	}
	reg := m.reg
	addrs := make(map[string]string, len(lns))
	for name, ln := range lns {
		addrs[name] = ln.Addr().String()
	}
	queues, err := newQueueService(f, b, m, log)
	if err != nil {
		return nil, err
	}
	rpc := openapi.New(openapi.Config{AccessKeys: map[string]string{f.accessKeyID: f.accessKeySecret}, Logger: log})
	rpc.Register(iot.Version, iot.Product(b, pub))
	rpc.Register(alikafka.Version, alikafka.Product(b, kafkaMembers))
	api := console.New(console.Config{
		Broker:          b,
		Logger:          log,
		Version:         versionString(),
		Listeners:       func() map[string]string { return addrs },
		Nodes:           b.Nodes,
		Ready:           ready,
		Registry:        reg,
		Alerts:          al,
		MaxMessageSize:  b.MaxMessageSize(),
		AccessKeyID:     f.accessKeyID,
		AccessKeySecret: f.accessKeySecret,
		RequireAuth:     exposed,
		// the start-up log prints the dev secret; the console shows it as well
		ShowAccessKeySecret: f.accessKeySecret == defaultAccessKeySecret,
		MetricsPublic:       f.metricsPublic,
		HostCheck:           !exposed, // beyond loopback the key guards the API, and clients use any name
		ExtraHosts:          splitList(f.tlsHosts),
		RPC:                 rpc,
		LogService:          logs,
		QueueService:        queues,
		Logs:                logs,
		Downlink:            downlinks,
		Sender:              pub,
		Devices:             devs,
		History:             hist,
	})
	return &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}, nil
}

// observability is the metrics registry and the counters the broker and the
// AMQP server update through their Observer.
type observability struct {
	reg      *prometheus.Registry
	counters *metrics.Counters
	observer metrics.Observer
}

func newObservability() (*observability, error) {
	reg := prometheus.NewRegistry()
	counters, err := metrics.NewCounters(reg)
	if err != nil {
		return nil, err
	}
	return &observability{reg: reg, counters: counters, observer: metrics.NewObserver(counters)}, nil
}

// newLogService is the log service over b, its groups and forwarding rules
// on m's registry, with the stored forwarding rules running again; Close
// it before the broker.
func newLogService(ctx context.Context, f *serveFlags, b *broker.Broker, m *observability, log zerolog.Logger) (*logservice.Server, error) {
	log = log.With().Str("component", "logservice").Logger()
	logs, err := logservice.New(logservice.Config{Broker: b, AccessKeyID: f.accessKeyID, AccessKeySecret: f.accessKeySecret, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := m.reg.Register(metrics.NewLogCollector(logs, log)); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := logs.StartForwards(ctx); err != nil {
		logs.Close()
		return nil, fmt.Errorf("log service data forwarding: %w", err)
	}
	return logs, nil
}
