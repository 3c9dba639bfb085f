package queueservice

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	hwrequest "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
)

const (
	testAK      = "HWTESTACCESSKEY0001"
	testSecret  = "test-secret-0123456789"
	testProject = "0123456789abcdef0123456789abcdef"
)

// startServer serves the queue service over b on a loopback port, with
// mod applied to its Config.
func startServer(t *testing.T, b *broker.Broker, mod ...func(*Config)) (*httptest.Server, *Server) {
	t.Helper()
	cfg := Config{Broker: b, AccessKeyID: testAK, AccessKeySecret: testSecret, Logger: zerolog.New(zerolog.NewTestWriter(t))}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return hs, s
}

// client signs requests the way the vendor's SDK does, with its own
// signer (core/auth/signer, SDK-HMAC-SHA256) and request type.
type client struct {
	t          *testing.T
	endpoint   string
	ak, secret string
	project    string
	date       string // X-Sdk-Date to sign with; "" for now
	mediaType  string // Content-Type; "" for JSON
}

func newClient(t *testing.T, hs *httptest.Server) *client {
	return &client{t: t, endpoint: hs.URL, ak: testAK, secret: testSecret, project: testProject}
}

// answer is a response: status, body, and the error body if any.
type answer struct {
	status int
	body   []byte
	err    Error
}

// request is method path?query with body (JSON, nil for none), signed.
func (c *client) request(method, path string, query map[string]string, body any) *http.Request {
	c.t.Helper()
	mediaType := c.mediaType
	if mediaType == "" {
		mediaType = "application/json;charset=UTF-8"
	}
	b := hwrequest.NewHttpRequestBuilder().WithEndpoint(c.endpoint).WithPath(path).WithMethod(method).
		AddHeaderParam("Content-Type", mediaType).
		AddHeaderParam("User-Agent", "huaweicloud-usdk-go/3.0").
		AddHeaderParam("X-Project-Id", c.project)
	for k, v := range query {
		b = b.AddQueryParam(k, reflect.ValueOf(v))
	}
	if c.date != "" {
		b = b.AddHeaderParam("X-Sdk-Date", c.date)
	}
	if body != nil {
		b = b.WithBody("json", body)
	}
	req := b.Build()
	headers, err := signer.Sign(req, c.ak, c.secret)
	if err != nil {
		c.t.Fatal(err)
	}
	hr, err := req.ConvertRequest()
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range headers {
		hr.Header.Set(k, v)
	}
	return hr
}

// do sends method path?query with body (JSON, nil for none), signed.
func (c *client) do(method, path string, query map[string]string, body any) answer {
	c.t.Helper()
	return c.roundTrip(c.request(method, path, query, body))
}

// roundTrip sends hr and reads the answer.
func (c *client) roundTrip(hr *http.Request) answer {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(hr.WithContext(ctx))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, body: raw}
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(raw, &a.err); err != nil {
			c.t.Fatalf("%s %s: %d with a body that is not an error: %s", hr.Method, hr.URL.Path, resp.StatusCode, raw)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			c.t.Errorf("%s %s: no X-Request-Id", hr.Method, hr.URL.Path)
		}
	}
	return a
}

// ok is do expecting status want, decoding the answer into out (if not nil).
func (c *client) ok(want int, out any, method, path string, query map[string]string, body any) {
	c.t.Helper()
	a := c.do(method, path, query, body)
	if a.status != want {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, a.status, a.body, want)
	}
	if out != nil {
		if err := json.Unmarshal(a.body, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, a.body)
		}
	}
}

func (c *client) base() string { return "/v1.0/" + c.project + "/queues" }

// createQueue makes a queue and returns its id.
func (c *client) createQueue(name string) string {
	c.t.Helper()
	var q struct{ ID, Name string }
	c.ok(201, &q, "POST", c.base(), nil, map[string]any{"name": name})
	if q.ID == "" || q.Name != name {
		c.t.Fatalf("created queue %+v", q)
	}
	return q.ID
}

// createGroups makes groups on queue and returns their ids in order.
func (c *client) createGroups(queue string, names ...string) []string {
	c.t.Helper()
	var out struct{ Groups []CreatedGroup }
	groups := make([]map[string]string, len(names))
	for i, n := range names {
		groups[i] = map[string]string{"name": n}
	}
	c.ok(201, &out, "POST", c.base()+"/"+queue+"/groups", nil, map[string]any{"groups": groups})
	ids := make([]string, len(out.Groups))
	for i, g := range out.Groups {
		ids[i] = g.ID
	}
	return ids
}

func (c *client) send(queue string, bodies ...any) {
	c.t.Helper()
	msgs := make([]map[string]any, len(bodies))
	for i, b := range bodies {
		msgs[i] = map[string]any{"body": b, "attributes": map[string]string{"n": "v"}}
	}
	var out struct{ Messages []SendResult }
	c.ok(201, &out, "POST", c.base()+"/"+queue+"/messages", nil, map[string]any{"messages": msgs, "return_id": true})
	if len(out.Messages) != len(bodies) {
		c.t.Fatalf("sent %d, answered %+v", len(bodies), out)
	}
	for _, m := range out.Messages {
		if m.State != 0 || m.ID == "" {
			c.t.Fatalf("send result %+v", m)
		}
	}
}

func (c *client) consume(queue, group string, max, wait int) []Consumed {
	c.t.Helper()
	var out []Consumed
	c.ok(200, &out, "GET", c.base()+"/"+queue+"/groups/"+group+"/messages", map[string]string{
		"max_msgs": itoa(max), "time_wait": itoa(wait)}, nil)
	return out
}

// consumeN consumes until n messages came or a consume waited wait
// seconds in vain: one answers what the engine's consumer knows of at
// once, which may lag the stream by a moment.
func (c *client) consumeN(queue, group string, n, wait int) []Consumed {
	c.t.Helper()
	var out []Consumed
	for len(out) < n {
		got := c.consume(queue, group, min(n-len(out), maxConsumeMessages), wait)
		if len(got) == 0 {
			break
		}
		out = append(out, got...)
	}
	return out
}

func (c *client) ack(queue, group, status string, got ...Consumed) AckResult {
	c.t.Helper()
	acks := make([]Ack, len(got))
	for i, g := range got {
		acks[i] = Ack{Handler: g.Handler, Status: status}
	}
	var res AckResult
	c.ok(200, &res, "POST", c.base()+"/"+queue+"/groups/"+group+"/ack", nil, map[string]any{"message": acks})
	return res
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// bodies are the consumed messages' bodies as strings.
func bodies(got []Consumed) []string {
	out := make([]string, len(got))
	for i, g := range got {
		var s string
		if err := json.Unmarshal(g.Message.Body, &s); err != nil {
			s = string(g.Message.Body)
		}
		out[i] = s
	}
	return out
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
