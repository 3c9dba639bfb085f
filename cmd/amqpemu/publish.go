package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// publishFlags are the flags of `amqpemu publish`.
type publishFlags struct {
	server, product, device, topic, kind string
	count, batch                         int
	accessKeyID, accessKeySecret         string
	payload                              []byte
}

func parsePublishFlags(args []string, stdout, stderr io.Writer) (*publishFlags, error) {
	f := &publishFlags{}
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.StringVar(&f.server, "server", serverDefault(), "the emulator's HTTP address (env AMQPEMU_SERVER)")
	fs.StringVar(&f.product, "product", "", "product key (required)")
	fs.StringVar(&f.device, "device", "", "device name (required)")
	fs.StringVar(&f.topic, "topic", "", "topic (default /<product>/<device>/user/update)")
	fs.StringVar(&f.kind, "kind", "", "message kind: data (default), status, lifecycle, ...")
	fs.IntVar(&f.count, "count", 1, "how many copies to publish")
	fs.IntVar(&f.batch, "batch", 500, "messages per request")
	fs.StringVar(&f.accessKeyID, "access-key-id", os.Getenv("AMQPEMU_ACCESS_KEY_ID"), "HTTP Basic user when the API requires the access key")
	fs.StringVar(&f.accessKeySecret, "access-key-secret", os.Getenv("AMQPEMU_ACCESS_KEY_SECRET"), "HTTP Basic password")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: amqpemu publish --product PK --device DN [flags] PAYLOAD|@file|-\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return nil, err
	}
	if f.product == "" || f.device == "" || fs.NArg() != 1 {
		fs.Usage()
		return nil, errUsage
	}
	if f.count < 1 || f.batch < 1 {
		return nil, fmt.Errorf("--count and --batch must be at least 1")
	}
	payload, err := readPayload(fs.Arg(0))
	if err != nil {
		return nil, err
	}
	f.payload = payload
	return f, nil
}

// readPayload takes the payload literally, from a file (@path) or stdin (-).
func readPayload(arg string) ([]byte, error) {
	switch {
	case arg == "-":
		return io.ReadAll(os.Stdin)
	case strings.HasPrefix(arg, "@"):
		return os.ReadFile(arg[1:])
	}
	return []byte(arg), nil
}

// apiMessage is one element of POST /api/v1/messages.
type apiMessage struct {
	ProductKey    string `json:"productKey"`
	DeviceName    string `json:"deviceName"`
	Topic         string `json:"topic,omitempty"`
	Kind          string `json:"kind,omitempty"`
	Payload       string `json:"payload,omitempty"`
	PayloadBase64 string `json:"payloadBase64,omitempty"`
}

// publish sends the messages in batches and prints their ids.
func publish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parsePublishFlags(args, stdout, stderr)
	if err != nil {
		return err
	}
	m := apiMessage{ProductKey: f.product, DeviceName: f.device, Topic: f.topic, Kind: f.kind}
	if utf8.Valid(f.payload) {
		m.Payload = string(f.payload)
	} else {
		m.PayloadBase64 = base64.StdEncoding.EncodeToString(f.payload)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for sent := 0; sent < f.count; {
		n := min(f.batch, f.count-sent)
		batch := make([]apiMessage, n)
		for i := range batch {
			batch[i] = m
		}
		ids, err := postMessages(ctx, client, f, batch)
		if err != nil {
			return fmt.Errorf("after %d of %d messages: %w", sent, f.count, err)
		}
		for _, id := range ids {
			fmt.Fprintln(stdout, id)
		}
		sent += n
	}
	return nil
}

// postMessages sends one batch and returns the message ids.
func postMessages(ctx context.Context, client *http.Client, f *publishFlags, batch []apiMessage) ([]string, error) {
	body, _ := json.Marshal(batch)
	url := strings.TrimSuffix(f.server, "/") + "/api/v1/messages"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if f.accessKeyID != "" {
		req.SetBasicAuth(f.accessKeyID, f.accessKeySecret)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("is the emulator running at %s? %w", f.server, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusAccepted {
		var e struct{ Code, Message string }
		if json.Unmarshal(data, &e) == nil && e.Code != "" {
			return nil, fmt.Errorf("%s: %s (%s)", resp.Status, e.Message, e.Code)
		}
		return nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(data)))
	}
	var ok struct {
		MessageIDs []string `json:"messageIds"`
	}
	if err := json.Unmarshal(data, &ok); err != nil {
		return nil, fmt.Errorf("unexpected answer %q: %w", data, err)
	}
	return ok.MessageIDs, nil
}
