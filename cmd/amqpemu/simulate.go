package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/amqpemu/amqpemu/internal/simulator"
)

const simulateUsage = `Usage: amqpemu simulate --product PK [flags]

Simulated devices of one product sign in over MQTT as the platform's devices
do and publish property posts (or, with --topic, custom-topic messages) at
--rate messages a second in total, with a progress line and a summary. The
devices (PREFIX1 … PREFIXN) are registered through the REST API first when
they do not exist.

Example: amqpemu simulate --product pk1 --devices 100 --rate 500 --duration 1m
Example: amqpemu simulate --product pk1 --devices 5 --rate 10 --topic user/update --payload '{"t": {{rand 20 30}}, "n": {{.Seq}}}'

Flags:
`

type simulateFlags struct {
	product, prefix, mqttAddr, topic, payload string
	devices, count, qos                       int
	rate                                      float64
	duration                                  time.Duration
}

// simulate registers the devices, runs them and prints the summary.
func simulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := &simulateFlags{}
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.StringVar(&f.product, "product", "", "the product key of the devices (required)")
	fs.IntVar(&f.devices, "devices", 10, "how many devices")
	fs.StringVar(&f.prefix, "device-prefix", "sim", "device names are PREFIX1 … PREFIXN")
	fs.Float64Var(&f.rate, "rate", 10, "messages a second, all devices together")
	fs.DurationVar(&f.duration, "duration", 0, "how long to publish (0: until --count or Ctrl-C)")
	fs.IntVar(&f.count, "count", 0, "how many messages in all (0: no limit)")
	fs.StringVar(&f.topic, "topic", "", "publish to /PK/DN/`TOPIC` (e.g. user/update) instead of property posts")
	fs.IntVar(&f.qos, "qos", 1, "MQTT QoS, 0 or 1")
	fs.StringVar(&f.payload, "payload", "", "a text/template for each payload, or @file (default: a temperature and a humidity)")
	fs.StringVar(&f.mqttAddr, "mqtt", "", "the MQTT listener, host:port (default: the one the emulator reports)")
	c := &client{cmd: "simulate", std: osStdio(stdout, stderr)}
	c.addFlags(fs)
	fs.Usage = func() { fmt.Fprint(fs.Output(), simulateUsage); fs.PrintDefaults() }
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	switch {
	case f.product == "":
		return c.usageError("--product is required")
	case f.devices < 1 || f.rate <= 0 || f.count < 0 || (f.qos != 0 && f.qos != 1):
		return c.usageError("--devices must be at least 1, --rate positive, --count not negative, --qos 0 or 1")
	case fs.NArg() > 0:
		return c.usageError("unexpected argument %q", fs.Arg(0))
	}
	if err := c.init(); err != nil {
		return err
	}
	payload, err := simulatePayload(f)
	if err != nil {
		return c.usageError("%v", err)
	}
	if err := runSimulation(ctx, c, f, payload, stdout, stderr); err != nil {
		return &cmdError{cmd: "simulate", err: err}
	}
	return nil
}

func simulatePayload(f *simulateFlags) (*simulator.Payload, error) {
	text := f.payload
	switch {
	case strings.HasPrefix(text, "@"):
		data, err := os.ReadFile(text[1:])
		if err != nil {
			return nil, err
		}
		text = string(data)
	case text == "" && f.topic == "":
		text = simulator.DefaultPropertyPayload
	case text == "":
		text = simulator.DefaultTopicPayload
	}
	return simulator.ParsePayload(text)
}

func runSimulation(ctx context.Context, c *client, f *simulateFlags, payload *simulator.Payload, stdout, stderr io.Writer) error {
	broker := f.mqttAddr
	if broker == "" {
		var err error
		if broker, err = mqttListener(ctx, c); err != nil {
			return err
		}
	}
	creds, err := provisionDevices(ctx, c, f)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d devices of %s connecting to %s\n", len(creds), f.product, broker)
	res, err := simulator.Run(ctx, simulator.Config{
		Broker: "tcp://" + broker, Product: f.product, Devices: creds, Rate: f.rate, Duration: f.duration,
		Count: f.count, Topic: f.topic, QoS: byte(f.qos), Payload: payload, Progress: stderr,
	})
	fmt.Fprintln(stderr)
	fmt.Fprintf(stdout, "devices connected: %d (failed %d)\npublished: %d in %s (%.1f/s)\nfailed: %d\n",
		res.Connected, res.ConnectFailed, res.Published, res.Elapsed.Round(time.Millisecond), res.Rate(), res.Failed)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if res.Failed > 0 || res.ConnectFailed > 0 {
		return fmt.Errorf("%d publishes and %d connections failed", res.Failed, res.ConnectFailed)
	}
	return nil
}

// mqttListener asks the emulator where its MQTT listener is.
func mqttListener(ctx context.Context, c *client) (string, error) {
	var info struct {
		Listeners map[string]string `json:"listeners"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/api/v1/info", nil, nil, &info); err != nil {
		return "", err
	}
	addr := info.Listeners["mqtt"]
	if addr == "" {
		return "", errors.New("the emulator has no MQTT listener (start it with --mqtt ADDR, or give --mqtt here)")
	}
	return addr, nil
}

// provisionDevices registers PREFIX1…PREFIXN, or reads them when they exist.
func provisionDevices(ctx context.Context, c *client, f *simulateFlags) ([]simulator.Credentials, error) {
	base := "/api/v1/products/" + url.PathEscape(f.product) + "/devices"
	out := make([]simulator.Credentials, 0, f.devices)
	for i := 1; i <= f.devices; i++ {
		name := fmt.Sprintf("%s%d", f.prefix, i)
		var d struct {
			ProductKey   string `json:"productKey"`
			DeviceName   string `json:"deviceName"`
			DeviceSecret string `json:"deviceSecret"`
		}
		_, err := c.do(ctx, http.MethodPost, base, nil, map[string]string{"deviceName": name}, &d)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			_, err = c.do(ctx, http.MethodGet, base+"/"+url.PathEscape(name), nil, nil, &d)
		}
		if err != nil {
			return nil, fmt.Errorf("registering device %s: %w", name, err)
		}
		out = append(out, simulator.Credentials{ProductKey: d.ProductKey, DeviceName: d.DeviceName, DeviceSecret: d.DeviceSecret})
	}
	return out, nil
}
