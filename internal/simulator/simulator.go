// Package simulator is `amqpemu simulate`: N devices of one product that
// sign in over MQTT as the platform's devices do and publish property posts
// or custom-topic messages at a total rate, for load tests of consumers and
// for demos.
package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/amqpemu/amqpemu/devicesign"
)

// Config is one run.
type Config struct {
	Broker   string // tcp://host:port of the MQTT listener
	Product  string
	Devices  []Credentials
	Rate     float64       // messages a second, all devices together
	Duration time.Duration // 0: until Count or the context ends
	Count    int           // 0: no limit
	Topic    string        // a custom topic suffix (user/update); empty: property posts
	QoS      byte          // 0 or 1
	Payload  *Payload
	Progress io.Writer // a progress line every second; nil: none
}

// Credentials are one device's triple.
type Credentials struct {
	ProductKey, DeviceName, DeviceSecret string
}

// Result is what a run did.
type Result struct {
	Connected, ConnectFailed int
	Published, Failed        int64
	Elapsed                  time.Duration
}

// Rate is the messages a second the run achieved.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Published) / r.Elapsed.Seconds()
}

// device is one connected simulated device.
type device struct {
	cred   Credentials
	client mqtt.Client
	seq    int
}

// Run connects the devices, publishes until Duration, Count or ctx ends,
// and disconnects them.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Rate <= 0 || len(cfg.Devices) == 0 || cfg.Payload == nil {
		return Result{}, errors.New("simulator: a rate, devices and a payload are needed")
	}
	devs, failed, err := connectAll(ctx, cfg)
	res := Result{Connected: len(devs), ConnectFailed: failed}
	defer disconnectAll(devs)
	if err != nil {
		return res, err
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	start := time.Now()
	published, failedPub := publishLoop(ctx, cfg, devs)
	res.Published, res.Failed, res.Elapsed = published, failedPub, time.Since(start)
	return res, nil
}

// connectAll signs every device in, a few at a time; it fails when none
// could connect.
func connectAll(ctx context.Context, cfg Config) ([]*device, int, error) {
	const parallel = 16
	var (
		mu      sync.Mutex
		devs    []*device
		lastErr error
		failed  int
		wg      sync.WaitGroup
		slots   = make(chan struct{}, parallel)
	)
	for _, c := range cfg.Devices {
		if ctx.Err() != nil {
			break
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			d, err := connect(cfg.Broker, c)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				lastErr = err
				return
			}
			devs = append(devs, d)
		}()
	}
	wg.Wait()
	if len(devs) == 0 {
		return nil, failed, fmt.Errorf("no device could connect to %s: %w", cfg.Broker, lastErr)
	}
	return devs, failed, ctx.Err()
}

// connect signs one device in the platform's way (hmacsha1 over the sorted
// parameters, client id pk.dn).
func connect(broker string, c Credentials) (*device, error) {
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	id := c.ProductKey + "." + c.DeviceName
	password, err := devicesign.Sign("hmacsha1", c.DeviceSecret, devicesign.Content(id, c.DeviceName, c.ProductKey, ts))
	if err != nil {
		return nil, err
	}
	opts := mqtt.NewClientOptions().AddBroker(broker).
		SetClientID(id + "|securemode=3,signmethod=hmacsha1,timestamp=" + ts + ",_v=amqpemu-simulate|").
		SetUsername(c.DeviceName + "&" + c.ProductKey).
		SetPassword(password).
		SetKeepAlive(60 * time.Second).SetConnectTimeout(10 * time.Second).
		SetAutoReconnect(false).SetCleanSession(true)
	client := mqtt.NewClient(opts)
	tok := client.Connect()
	if !tok.WaitTimeout(15 * time.Second) {
		return nil, fmt.Errorf("device %s: no CONNACK within 15 s", c.DeviceName)
	}
	if err := tok.Error(); err != nil {
		return nil, fmt.Errorf("device %s: %w", c.DeviceName, err)
	}
	return &device{cred: c, client: client}, nil
}

func disconnectAll(devs []*device) {
	for _, d := range devs {
		d.client.Disconnect(250)
	}
}

// publishLoop sends at cfg.Rate in total, the devices taking turns, and
// waits for the QoS 1 acknowledgements of what it sent.
func publishLoop(ctx context.Context, cfg Config, devs []*device) (int64, int64) {
	var published, failed atomic.Int64
	var pending sync.WaitGroup
	interval := time.Duration(float64(time.Second) / cfg.Rate)
	tick := time.NewTicker(max(interval, time.Millisecond))
	defer tick.Stop()
	perTick := max(1, int(float64(time.Millisecond)/float64(interval))) // above 1000/s, several per tick
	progress := time.NewTicker(time.Second)
	defer progress.Stop()
	total := 0
	start := time.Now()
	for next := 0; cfg.Count == 0 || total < cfg.Count; {
		select {
		case <-ctx.Done():
			pending.Wait()
			return published.Load(), failed.Load()
		case <-progress.C:
			if cfg.Progress != nil {
				el := time.Since(start).Seconds()
				fmt.Fprintf(cfg.Progress, "\r%d devices, %d published (%.0f/s), %d failed ", len(devs), published.Load(), float64(published.Load())/el, failed.Load())
			}
		case <-tick.C:
			for i := 0; i < perTick && (cfg.Count == 0 || total < cfg.Count); i++ {
				d := devs[next%len(devs)]
				next++
				total++
				d.seq++
				if err := send(cfg, d, total, &pending, &published, &failed); err != nil {
					failed.Add(1)
				}
			}
		}
	}
	pending.Wait()
	return published.Load(), failed.Load()
}

// send publishes one message of d; the outcome is counted when the broker
// acknowledges it (QoS 1) or when it is written (QoS 0).
func send(cfg Config, d *device, total int, pending *sync.WaitGroup, published, failed *atomic.Int64) error {
	body, err := cfg.Payload.Make(Fields{Device: d.cred.DeviceName, Seq: d.seq, Total: total})
	if err != nil {
		return err
	}
	topic := "/" + d.cred.ProductKey + "/" + d.cred.DeviceName + "/" + cfg.Topic
	if cfg.Topic == "" {
		topic = "/sys/" + d.cred.ProductKey + "/" + d.cred.DeviceName + "/thing/event/property/post"
		body = []byte(`{"id":"` + strconv.Itoa(d.seq) + `","version":"1.0","sys":{"ack":0},"params":` + string(body) + `,"method":"thing.event.property.post"}`)
	}
	tok := d.client.Publish(topic, cfg.QoS, false, body)
	pending.Add(1)
	go func() {
		defer pending.Done()
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			failed.Add(1)
			return
		}
		published.Add(1)
	}()
	return nil
}
