package bench

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/amqpemu/amqpemu/broker"
)

// smokeN keeps `go test ./bench` quick: it checks that each benchmark's
// set-up and drain work, on a few messages, without timing anything.
// fanoutSmokeN is the fan-out's, per group (10 deliveries each).
const (
	smokeN       = 1000
	fanoutSmokeN = 200
)

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

// TestRabbitMQProcessSmoke: BenchmarkRabbitMQDrain's server-process
// figures and BenchmarkRabbitMQIdleConnectionMemory's set-up work. Skipped
// unless AMQPEMU_RABBITMQ_URL and AMQPEMU_RABBITMQ_PID are set.
func TestRabbitMQProcessSmoke(t *testing.T) {
	url := rabbitURL(t)
	node := rabbitNode(t)
	if node == nil {
		t.Skipf("%s is not set (bench/rabbitmq.sh start prints it)", rabbitPIDEnv)
	}
	t.Run("drain", func(t *testing.T) {
		e := setupRabbit(t, url, fanoutSmokeN)
		before := node.cpuSeconds(t)
		if err := e.drain(fanoutSmokeN); err != nil {
			t.Fatal(err)
		}
		if after := node.cpuSeconds(t); before <= 0 || after < before || node.rssKB(t) <= 0 {
			t.Fatalf("beam.smp: cpu %v → %v s, rss %v KB", before, after, node.rssKB(t))
		}
		e.checkDrained(t)
	})
	t.Run("idle", func(t *testing.T) {
		const n = 20
		admin, queue := rabbitQueue(t, url, "amqpemu-bench-idle-", false)
		rabbitIdle(t, url, queue, n)
		checkConsumers(t, admin, queue, n)
	})
}

// TestFanoutSmoke: BenchmarkFanoutDrain's set-up (10 groups, the
// subscription, the restart), drain and checks work.
func TestFanoutSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs amqpemu")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	e := setupFanout(t, ctx, fanoutSmokeN)
	if err := drainEach(e.receivers, fanoutSmokeN); err != nil {
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
	checkAccumulation(t, p.addrs["http"], 0, broker.DefaultGroupID)
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

// TestMQTTIngestSmoke: BenchmarkMQTTIngest's set-up (registered devices
// signed in over MQTT, the AMQP consumer), load and checks, with 10
// devices and 100 messages. It needs no mosquitto.
func TestMQTTIngestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs amqpemu")
	}
	const devices, n = 10, 100
	e := setupMQTTIngest(t, devices, n)
	r := publishIngest(t, e.srv.proc, e.clients, e.lat, e.errs)
	if r.elapsed <= 0 || r.p99 < r.p50 || r.p50 <= 0 {
		t.Fatalf("implausible figures: %+v", r)
	}
	checkAccumulation(t, e.srv.addrs["http"], 0, broker.DefaultGroupID)
}
