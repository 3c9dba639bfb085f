package bench

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// smokeN keeps `go test ./bench` quick: it checks that each benchmark's
// set-up and drain work, on a few messages, without timing anything.
const smokeN = 1000

func TestJetStreamDrainSmoke(t *testing.T) {
	for _, tc := range []struct {
		name         string
		brokerShaped bool
		drain        drainFunc
	}{
		{"fetch-8conns", false, drainFetchN},
		{"fanout-1conn", false, drainFanout},
		{"fanout-1conn-brokermsg", true, drainFanout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setupJetStream(t, smokeN, tc.brokerShaped)
			if err := tc.drain(t, e.s, smokeN, tc.brokerShaped); err != nil {
				t.Fatal(err)
			}
			checkDrained(t, e.str, smokeN)
		})
	}
}

func TestAmqpemuDrainSmoke(t *testing.T) {
	e := setupAmqpemu(t, smokeN)
	if err := e.drain(smokeN); err != nil {
		t.Fatal(err)
	}
	e.checkDrained(t)
}

// TestRabbitMQDrainSmoke is skipped unless AMQPEMU_RABBITMQ_URL is set.
func TestRabbitMQDrainSmoke(t *testing.T) {
	e := setupRabbit(t, rabbitURL(t), smokeN)
	if err := e.drain(smokeN); err != nil {
		t.Fatal(err)
	}
	e.checkDrained(t)
}

// TestProcessSmoke: the server-process benchmarks' set-up, drains and
// /proc readings work (both servers built and run as processes).
func TestProcessSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs amqpemu and nats-server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := startAmqpemuProc(t)
	preloadHTTP(t, p.addrs["http"], smokeN)
	e := &amqpemuEnv{receivers: attachReceivers(t, ctx, p.addrs["amqp"], "")}
	if err := e.drain(smokeN); err != nil {
		t.Fatal(err)
	}
	if p.cpuSeconds(t) <= 0 || p.rssKB(t) <= 0 {
		t.Fatalf("amqpemu process: cpu %v s, rss %v KB", p.cpuSeconds(t), p.rssKB(t))
	}

	n, url := startNATSProc(t)
	connect := func() *nats.Conn {
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	str := setupStream(t, connect(), smokeN, false)
	if err := fetchDrain(smokeN, connect); err != nil {
		t.Fatal(err)
	}
	checkDrained(t, str, smokeN)
	if n.cpuSeconds(t) <= 0 {
		t.Fatal("no CPU time read for nats-server")
	}
}
