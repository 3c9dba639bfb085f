package iot_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	iotsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/iot"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/console"
	"github.com/amqpemu/amqpemu/downlink"
	"github.com/amqpemu/amqpemu/internal/testlog"
	"github.com/amqpemu/amqpemu/openapi"
	"github.com/amqpemu/amqpemu/openapi/iot"
)

const (
	testAK     = "LTAI5tAmqpemuTestKey"
	testSecret = "amqpemu-test-secret-value"
	region     = "cn-shanghai"
)

// env is the console with the IoT OpenAPI on a real broker in
// t.TempDir(), served by httptest. The REST API requires the access key
// and checks Host, as beyond loopback, to show that neither applies to the
// signed RPC calls.
type env struct {
	t    *testing.T
	b    *broker.Broker
	rec  *downlink.Recorder
	srv  *httptest.Server
	host string // 127.0.0.1:port
	log  *testlog.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := broker.Open(ctx, broker.Config{DataDir: t.TempDir(), Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	logs := &testlog.Buffer{}
	log := zerolog.New(logs).Level(zerolog.DebugLevel)
	rec := downlink.NewRecorder()
	rpc := openapi.New(openapi.Config{AccessKeys: map[string]string{testAK: testSecret}, Logger: log})
	rpc.Register(iot.Version, iot.Product(b, rec))
	srv := httptest.NewServer(console.New(console.Config{
		Broker: b, Logger: log, RPC: rpc, Downlink: rec,
		AccessKeyID: testAK, AccessKeySecret: testSecret, RequireAuth: true, HostCheck: true,
	}).Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, b: b, rec: rec, srv: srv, host: strings.TrimPrefix(srv.URL, "http://"), log: logs}
}

// old is the vendor's Go SDK (alibaba-cloud-sdk-go, Signature 1.0) pointed
// at the emulator by its Domain, the only change user code needs.
func (e *env) old(ak, secret string) *iotsdk.Client {
	e.t.Helper()
	c, err := iotsdk.NewClientWithAccessKey(region, ak, secret)
	if err != nil {
		e.t.Fatal(err)
	}
	c.Domain = e.host
	return c
}

// common is a CommonRequest of action to the emulator.
func (e *env) common(action string, params map[string]string) *requests.CommonRequest {
	r := requests.NewCommonRequest()
	r.Method = "POST"
	r.Scheme = "http"
	r.Domain = e.host
	r.Version = iot.Version
	r.ApiName = action
	for k, v := range params {
		r.QueryParams[k] = v
	}
	return r
}

// outcome is a response's Success, Code and ErrorMessage (every IoT
// response has them).
func outcome(resp any) (bool, string, string) {
	v := reflect.ValueOf(resp).Elem()
	return v.FieldByName("Success").Bool(), v.FieldByName("Code").String(), v.FieldByName("ErrorMessage").String()
}

// ok fails unless the call succeeded.
func ok(t *testing.T, resp any, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("call failed: %v", err)
	}
	if success, code, msg := outcome(resp); !success || code != "" {
		t.Fatalf("Success %v, Code %q, ErrorMessage %q", success, code, msg)
	}
	if id := reflect.ValueOf(resp).Elem().FieldByName("RequestId").String(); len(id) != 36 {
		t.Fatalf("RequestId %q", id)
	}
}

// refused fails unless the call answered HTTP 200 with Success false and
// code, and returns the ErrorMessage.
func refused(t *testing.T, resp any, err error, code string) string {
	t.Helper()
	if err != nil {
		t.Fatalf("call failed (want a business failure %s): %v", code, err)
	}
	success, got, msg := outcome(resp)
	if success || got != code || msg == "" {
		t.Fatalf("Success %v, Code %q, ErrorMessage %q; want Success false, Code %s and a message", success, got, msg, code)
	}
	return msg
}

// serverError fails unless err is the SDK's ServerError with status and
// code, and returns it.
func serverError(t *testing.T, err error, status int, code string) *sdkerrors.ServerError {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want a ServerError %d %s", err, err, status, code)
	}
	if se.HttpStatus() != status || se.ErrorCode() != code || se.Message() == "" || len(se.RequestId()) != 36 {
		t.Fatalf("ServerError %d %q %q (request %q), want %d %s", se.HttpStatus(), se.ErrorCode(), se.Message(), se.RequestId(), status, code)
	}
	if strings.Contains(se.Message(), testSecret) {
		t.Fatal("the secret is in the message")
	}
	return se
}

// get is a REST GET with the access key, decoded into v.
func (e *env) get(path string, v any) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.SetBasicAuth(testAK, testSecret)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		e.t.Fatalf("GET %s: %s: %v", path, data, err)
	}
}

// inbox is a broker.Receiver queueing deliveries for the test.
type inbox chan broker.Delivery

func (in inbox) Deliver(d broker.Delivery) bool {
	select {
	case in <- d:
		return true
	default:
		return false
	}
}

func (in inbox) next(t *testing.T) broker.Delivery {
	t.Helper()
	select {
	case d := <-in:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery within 10s")
		return broker.Delivery{}
	}
}

// eventually polls cond until it holds or 10 s pass: JetStream updates a
// consumer's pending count just after the store.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
	}
}
