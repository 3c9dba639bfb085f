package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/console"
	"github.com/amqpemu/amqpemu/internal/testlog"
	"github.com/amqpemu/amqpemu/metrics"
)

// env is a console on a real broker in t.TempDir(), served by httptest.
type env struct {
	t   *testing.T
	b   *broker.Broker
	srv *httptest.Server
	log *testlog.Buffer // the console's log, at debug level
}

func newEnv(t *testing.T, mod ...func(*console.Config)) *env {
	t.Helper()
	return newEnvBroker(t, nil, mod...)
}

// newEnvBroker is newEnv with the broker's Config changed by bmod first.
func newEnvBroker(t *testing.T, bmod func(*broker.Config), mod ...func(*console.Config)) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bcfg := broker.Config{DataDir: t.TempDir(), Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)}
	if bmod != nil {
		bmod(&bcfg)
	}
	b, err := broker.Open(ctx, bcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	logs := &testlog.Buffer{}
	log := zerolog.New(logs).Level(zerolog.DebugLevel)
	reg, _, err := metrics.NewRegistry(b, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := console.Config{
		Broker:    b,
		Logger:    log,
		Version:   "test-version",
		Listeners: func() map[string]string { return map[string]string{"amqp": "127.0.0.1:5672", "http": "127.0.0.1:8080"} },
		Registry:  reg,
	}
	for _, m := range mod {
		m(&cfg)
	}
	srv := httptest.NewServer(console.New(cfg).Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, b: b, srv: srv, log: logs}
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return string(r.body) }

// do sends a request; body is sent as is when it is a string or []byte,
// else as JSON.
func (e *env) do(method, path string, body any, hdr ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" { // net/http sends req.Host, not a Host header
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// want checks the status and decodes the JSON body into v (if not nil).
func (e *env) want(r response, status int, v any) {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d; body %s", r.status, status, r)
	}
	if v == nil {
		return
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		e.t.Fatalf("Content-Type %q", ct)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		e.t.Fatalf("decoding %s: %v", r, err)
	}
}

// wantError checks an error answer: status, JSON code and a message.
func (e *env) wantError(r response, status int, code string) {
	e.t.Helper()
	var body struct{ Code, Message string }
	e.want(r, status, &body)
	if body.Code != code || body.Message == "" {
		e.t.Fatalf("error %s, want code %s and a message", r, code)
	}
}

type statusBody struct {
	Accumulation   int        `json:"accumulation"`
	RealtimeRate   int        `json:"realtimeRate"`
	BacklogRate    int        `json:"backlogRate"`
	LastConsumedAt *time.Time `json:"lastConsumedAt"`
	Clients        []struct {
		ClientID     string     `json:"clientId"`
		Address      string     `json:"address"`
		OnlineSince  *time.Time `json:"onlineSince"`
		RealtimeRate int        `json:"realtimeRate"`
		BacklogRate  int        `json:"backlogRate"`
	} `json:"clients"`
}

func (e *env) status(id string) statusBody {
	e.t.Helper()
	var st statusBody
	e.want(e.do("GET", "/api/v1/groups/"+id+"/status", nil), http.StatusOK, &st)
	return st
}

// waitAccumulation polls a group's status until its accumulation is n:
// JetStream updates a consumer's pending count just after the store.
func (e *env) waitAccumulation(id string, n int) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := e.status(id)
		if st.Accumulation == n {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("group %s: accumulation %d, want %d", id, st.Accumulation, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) createGroup(name string) string {
	e.t.Helper()
	var g struct{ ID string }
	e.want(e.do("POST", "/api/v1/groups", map[string]string{"name": name}), http.StatusCreated, &g)
	return g.ID
}

func (e *env) publish(body any) []string {
	e.t.Helper()
	var out struct {
		MessageIDs []string `json:"messageIds"`
	}
	e.want(e.do("POST", "/api/v1/messages", body), http.StatusAccepted, &out)
	return out.MessageIDs
}
