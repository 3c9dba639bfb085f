package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/devicesign"
)

// Issue 11's MQTT ingest figures: D devices, each a paho client signed in
// as on the platform, publish b.N messages in all at QoS 1, round-robin,
// to /pk/dn/user/bench; one consumer receives them. Against amqpemu (the
// binary in its own process) the consumer is one go-amqp receiver on
// DEFAULT_GROUP; against a local mosquitto, which only relays MQTT to
// MQTT, it is one paho subscriber on /pk/+/user/bench. The payload starts
// with the send time (UnixNano, big-endian), so the consumer times each
// message end to end.

const (
	mqttDevicesEnv     = "AMQPEMU_BENCH_MQTT_DEVICES" // D; default mqttDefaultDevices
	mqttDefaultDevices = 1000
	mqttProduct        = "pkbench"
	mqttCredit         = 500  // the AMQP receiver's credit, and mosquitto's max_inflight_messages to its subscriber
	mqttWindow         = 1000 // QoS 1 publishes awaiting their PUBACK, all devices together
	mosquittoBin       = "/usr/sbin/mosquitto"
)

// mqttRate is AMQPEMU_BENCH_MQTT_RATE, messages a second in all; 0 (the
// default) publishes flat out, which measures throughput, while a rate the
// consumer keeps up with measures latency.
func mqttRate(tb testing.TB) float64 {
	s := os.Getenv("AMQPEMU_BENCH_MQTT_RATE")
	if s == "" {
		return 0
	}
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r < 0 {
		tb.Fatalf("AMQPEMU_BENCH_MQTT_RATE=%q: want a number of messages a second", s)
	}
	return r
}

// mqttDeviceCount is D: AMQPEMU_BENCH_MQTT_DEVICES, or 1000.
func mqttDeviceCount(tb testing.TB) int {
	tb.Helper()
	s := os.Getenv(mqttDevicesEnv)
	if s == "" {
		return mqttDefaultDevices
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		tb.Fatalf("%s=%q: want a positive number", mqttDevicesEnv, s)
	}
	return n
}

// mqttCred is one device's sign-in; secret is empty for mosquitto, which
// takes the same client id and user name and checks nothing.
type mqttCred struct {
	dn, secret string
}

func mqttDeviceName(i int) string { return fmt.Sprintf("dev%05d", i) }

// registerDevices registers n devices of mqttProduct through the REST API.
func registerDevices(tb testing.TB, httpAddr string, n int) []mqttCred {
	tb.Helper()
	creds := make([]mqttCred, n)
	for i := range creds {
		var d struct{ DeviceSecret string }
		dn := mqttDeviceName(i)
		apiCall(tb, httpAddr, http.MethodPost, "/api/v1/products/"+mqttProduct+"/devices",
			map[string]string{"deviceName": dn}, http.StatusCreated, &d)
		creds[i] = mqttCred{dn: dn, secret: d.DeviceSecret}
	}
	return creds
}

// anonymousDevices are n devices for mosquitto.
func anonymousDevices(n int) []mqttCred {
	creds := make([]mqttCred, n)
	for i := range creds {
		creds[i] = mqttCred{dn: mqttDeviceName(i)}
	}
	return creds
}

// mqttOptions are one device's client options, signed in the platform's
// way (hmacsha1, securemode=3) when it has a secret.
func mqttOptions(addr string, c mqttCred) (*mqtt.ClientOptions, error) {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	id := mqttProduct + "." + c.dn
	password := ""
	if c.secret != "" {
		var err error
		if password, err = devicesign.Sign("hmacsha1", c.secret, devicesign.Content(id, c.dn, mqttProduct, ts)); err != nil {
			return nil, err
		}
	}
	return mqtt.NewClientOptions().AddBroker("tcp://" + addr).
		SetClientID(id + "|securemode=3,signmethod=hmacsha1,timestamp=" + ts + "|").
		SetUsername(c.dn + "&" + mqttProduct).SetPassword(password).
		SetKeepAlive(60 * time.Second).SetConnectTimeout(10 * time.Second).
		SetAutoReconnect(false).SetCleanSession(true), nil
}

// connectDevices signs every device in, 16 at a time; they disconnect at
// the end of the test.
func connectDevices(tb testing.TB, addr string, creds []mqttCred) []mqtt.Client {
	tb.Helper()
	clients := make([]mqtt.Client, len(creds))
	errs := make(chan error, 1)
	slots := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, c := range creds {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			opts, err := mqttOptions(addr, c)
			if err != nil {
				fail(errs, err)
				return
			}
			cl := mqtt.NewClient(opts)
			if tok := cl.Connect(); !tok.WaitTimeout(15 * time.Second) {
				fail(errs, fmt.Errorf("device %s: no CONNACK within 15 s", c.dn))
				return
			} else if tok.Error() != nil {
				fail(errs, fmt.Errorf("device %s: %w", c.dn, tok.Error()))
				return
			}
			clients[i] = cl
		})
	}
	wg.Wait()
	tb.Cleanup(func() {
		for _, cl := range clients {
			if cl != nil {
				cl.Disconnect(0)
			}
		}
	})
	select {
	case err := <-errs:
		tb.Fatal(err)
	default:
	}
	return clients
}

// latencies collects the consumer's end-to-end times; done is closed at
// the n-th bench message.
type latencies struct {
	mu   sync.Mutex
	ns   []int64
	n    int
	last time.Time
	done chan struct{}
}

func newLatencies(n int) *latencies {
	return &latencies{ns: make([]int64, 0, n), n: n, done: make(chan struct{})}
}

// add records one bench message; it reports false when more than n came.
func (l *latencies) add(payload []byte) bool {
	now := time.Now()
	sent := int64(binary.BigEndian.Uint64(payload))
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ns) == l.n {
		return false
	}
	l.ns = append(l.ns, now.UnixNano()-sent)
	if len(l.ns) == l.n {
		l.last = now
		close(l.done)
	}
	return true
}

func (l *latencies) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ns)
}

// quantileMs is the q-quantile of what was recorded, in ms.
func (l *latencies) quantileMs(q float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := slices.Clone(l.ns)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return float64(s[min(len(s)-1, int(q*float64(len(s))))]) / 1e6
}

// ingestResult is one run of the load.
type ingestResult struct {
	elapsed  time.Duration // first publish to the n-th message received
	cpu      float64       // the server's CPU seconds over that time
	p50, p99 float64       // ms
}

// publishIngest publishes n messages at QoS 1, round-robin over clients,
// at most mqttWindow of them awaiting their PUBACK, and waits until the
// consumer has all n (up to 5 minutes). The server's CPU is read from srv
// at the first publish and at the n-th reception.
func publishIngest(tb testing.TB, srv proc, clients []mqtt.Client, lat *latencies, consumerErr <-chan error) ingestResult {
	tb.Helper()
	n := lat.n
	window := make([]mqtt.Token, mqttWindow)
	rate := mqttRate(tb)
	cpuBefore := srv.cpuSeconds(tb)
	start := time.Now()
	for i := range n {
		if rate > 0 { // paced: message i leaves at start + i/rate
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
		}
		if tok := window[i%mqttWindow]; tok != nil {
			if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
				tb.Fatalf("publish %d: no PUBACK within 30 s (%v)", i-mqttWindow, tok.Error())
			}
		}
		cl := clients[i%len(clients)]
		dn := mqttDeviceName(i % len(clients))
		payload := make([]byte, payloadSize) // paho keeps it until the packet is written
		binary.BigEndian.PutUint64(payload, uint64(time.Now().UnixNano()))
		window[i%mqttWindow] = cl.Publish("/"+mqttProduct+"/"+dn+"/user/bench", 1, false, payload)
	}
	select {
	case <-lat.done:
	case err := <-consumerErr:
		tb.Fatalf("consumer: %v (%d of %d received)", err, lat.count(), n)
	case <-time.After(5 * time.Minute):
		tb.Fatalf("the consumer had %d of %d messages after 5 minutes", lat.count(), n)
	}
	r := ingestResult{elapsed: lat.last.Sub(start), cpu: srv.cpuSeconds(tb) - cpuBefore}
	for _, tok := range window {
		if tok != nil && (!tok.WaitTimeout(30*time.Second) || tok.Error() != nil) {
			tb.Fatalf("a publish got no PUBACK (%v)", tok.Error())
		}
	}
	r.p50, r.p99 = lat.quantileMs(0.50), lat.quantileMs(0.99)
	return r
}

func (r ingestResult) report(b *testing.B, srv proc) {
	b.ReportMetric(float64(b.N)/r.elapsed.Seconds(), "msgs/s")
	b.ReportMetric(r.p50, "p50-ms")
	b.ReportMetric(r.p99, "p99-ms")
	b.ReportMetric(r.cpu*1e6/float64(b.N), "srv-cpu-µs/msg")
	b.ReportMetric(srv.rssKB(b)/1024, "srv-rss-MiB")
}

// amqpIngestConsumer receives on DEFAULT_GROUP with credit mqttCredit,
// accepts everything and records the bench messages (the devices'
// lifecycle and status messages arrive there too). It stops when ctx
// ends; its first error goes to the returned channel.
func amqpIngestConsumer(tb testing.TB, ctx context.Context, amqpAddr string, lat *latencies) <-chan error {
	tb.Helper()
	rcv := attachReceiver(tb, ctx, amqpAddr, broker.DefaultGroupID, mqttCredit)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	tb.Cleanup(wg.Wait)
	wg.Go(func() {
		for {
			m, err := rcv.Receive(ctx, nil)
			if err != nil {
				if ctx.Err() == nil {
					fail(errs, err)
				}
				return
			}
			if err := rcv.AcceptMessage(ctx, m); err != nil {
				if ctx.Err() == nil {
					fail(errs, err)
				}
				return
			}
			if topic, _ := m.ApplicationProperties["topic"].(string); strings.HasSuffix(topic, "/user/bench") {
				if len(m.GetData()) < 8 || !lat.add(m.GetData()) {
					fail(errs, fmt.Errorf("unexpected message on %s (%d bytes)", topic, len(m.GetData())))
					return
				}
			}
		}
	})
	return errs
}

// mqttIngestEnv is amqpemu with D registered, connected devices and the
// AMQP consumer, the backlog of their lifecycle and status messages
// consumed.
type mqttIngestEnv struct {
	srv     *serverProc
	clients []mqtt.Client
	lat     *latencies
	errs    <-chan error
}

func setupMQTTIngest(tb testing.TB, devices, n int) *mqttIngestEnv {
	tb.Helper()
	p := startAmqpemuProc(tb, "--mqtt", "127.0.0.1:0", "--max-clients", strconv.Itoa(devices+10))
	if p.addrs["mqtt"] == "" {
		tb.Fatalf("no mqtt listener in the start-up log: %v", p.addrs)
	}
	creds := registerDevices(tb, p.addrs["http"], devices)
	ctx, cancel := context.WithCancel(context.Background())
	lat := newLatencies(n)
	errs := amqpIngestConsumer(tb, ctx, p.addrs["amqp"], lat)
	tb.Cleanup(cancel) // runs before the consumer's wg.Wait
	clients := connectDevices(tb, p.addrs["mqtt"], creds)
	checkAccumulation(tb, p.addrs["http"], 0, broker.DefaultGroupID)
	return &mqttIngestEnv{srv: p, clients: clients, lat: lat, errs: errs}
}

// BenchmarkMQTTIngest: D devices publish b.N messages over MQTT into
// amqpemu (its own process), one AMQP receiver on DEFAULT_GROUP takes
// them. amqpemu stores each message in JetStream before the PUBACK and
// delivers it over AMQP.
func BenchmarkMQTTIngest(b *testing.B) {
	b.StopTimer()
	e := setupMQTTIngest(b, mqttDeviceCount(b), b.N)
	b.StartTimer()
	r := publishIngest(b, e.srv.proc, e.clients, e.lat, e.errs)
	b.StopTimer()
	r.report(b, e.srv.proc)
	checkAccumulation(b, e.srv.addrs["http"], 0, broker.DefaultGroupID)
}

// startMosquitto runs mosquitto on a free 127.0.0.1 port with anonymous
// clients allowed, no connection limit, mqttCredit QoS 1 messages in
// flight to each client and no limit on its queue; it skips without
// mosquitto.
func startMosquitto(tb testing.TB) (proc, string) {
	tb.Helper()
	if _, err := os.Stat(mosquittoBin); err != nil {
		tb.Skipf("%s is not installed", mosquittoBin)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	dir := tb.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`listener %s 127.0.0.1
allow_anonymous true
max_connections -1
max_inflight_messages %d
max_queued_messages 0
persistence false
log_dest stderr
log_type error
`, port, mqttCredit)), 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(mosquittoBin, "-c", conf)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return proc{pid: cmd.Process.Pid}, addr
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mosquitto did not listen on %s within 10 s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mosquittoSubscriber subscribes one paho client to /pk/+/user/bench at
// QoS 1 and records what it gets.
func mosquittoSubscriber(tb testing.TB, addr string, lat *latencies) <-chan error {
	tb.Helper()
	errs := make(chan error, 1)
	var extra atomic.Int64
	opts := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("bench-consumer").
		SetKeepAlive(60 * time.Second).SetAutoReconnect(false).SetCleanSession(true).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { fail(errs, err) })
	cl := mqtt.NewClient(opts)
	if tok := cl.Connect(); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		tb.Fatalf("subscriber: connect: %v", tok.Error())
	}
	tb.Cleanup(func() { cl.Disconnect(0) })
	tok := cl.Subscribe("/"+mqttProduct+"/+/user/bench", 1, func(_ mqtt.Client, m mqtt.Message) {
		if len(m.Payload()) < 8 || !lat.add(m.Payload()) {
			if extra.Add(1) == 1 {
				fail(errs, fmt.Errorf("unexpected message on %s", m.Topic()))
			}
		}
	})
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		tb.Fatalf("subscribe: %v", tok.Error())
	}
	return errs
}

// BenchmarkMosquittoIngest is BenchmarkMQTTIngest's load (the same D paho
// publishers, QoS 1, payload) into a local mosquitto, consumed by one paho
// subscriber at QoS 1. mosquitto keeps nothing (persistence off) and
// relays MQTT to MQTT.
func BenchmarkMosquittoIngest(b *testing.B) {
	b.StopTimer()
	p, addr := startMosquitto(b)
	lat := newLatencies(b.N)
	errs := mosquittoSubscriber(b, addr, lat)
	clients := connectDevices(b, addr, anonymousDevices(mqttDeviceCount(b)))
	b.StartTimer()
	r := publishIngest(b, p, clients, lat, errs)
	b.StopTimer()
	r.report(b, p)
}

// BenchmarkMQTTConnectedDeviceMemory: the growth of the server's resident
// memory per device once D devices are signed in and idle (2 s after the
// last), for amqpemu (devices registered before the baseline) and, when
// installed, mosquitto. It does its work once, whatever b.N.
func BenchmarkMQTTConnectedDeviceMemory(b *testing.B) {
	d := mqttDeviceCount(b)
	b.Run("amqpemu", func(b *testing.B) {
		p := startAmqpemuProc(b, "--mqtt", "127.0.0.1:0")
		creds := registerDevices(b, p.addrs["http"], d)
		connectedMemory(b, p.proc, p.addrs["mqtt"], creds)
	})
	b.Run("mosquitto", func(b *testing.B) {
		p, addr := startMosquitto(b)
		connectedMemory(b, p, addr, anonymousDevices(d))
	})
}

func connectedMemory(b *testing.B, p proc, addr string, creds []mqttCred) {
	time.Sleep(time.Second) // let start-up (and registration) garbage settle before the baseline
	base := p.rssKB(b)
	connectDevices(b, addr, creds)
	time.Sleep(2 * time.Second) // the server's buffers and GC settle while the devices idle
	rss := p.rssKB(b)
	b.ReportMetric((rss-base)/float64(len(creds)), "srv-KB/device")
	b.ReportMetric(rss/1024, "srv-rss-MiB")
}
