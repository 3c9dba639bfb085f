package logservice

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/brokertest"
)

// TestEverySentinelMapped: each broker sentinel this front end can meet has
// its answer, wrapped or not, and anything else is an internal error.
func TestEverySentinelMapped(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want errKind
	}{
		{broker.ErrInvalidName, errParameterInvalid},
		{broker.ErrInvalidArgument, errParameterInvalid},
		{broker.ErrLogShardNotFound, errShardNotExist},
		{broker.ErrMessageTooLarge, errPostBodyTooLarge},
		{broker.ErrUnavailable, errServerBusy},
		{broker.ErrClosed, errServerBusy},
		{errors.New("something else"), errInternal},
	} {
		for _, err := range []error{tc.err, fmt.Errorf("wrapped: %w", tc.err)} {
			if got := toError(err); got.Code != tc.want.code || got.Status != tc.want.status {
				t.Errorf("toError(%v) = %d %s, want %d %s", err, got.Status, got.Code, tc.want.status, tc.want.code)
			}
		}
	}
	if len(brokerErrors) != 6 {
		t.Errorf("brokerErrors has %d entries; this test covers 6", len(brokerErrors))
	}
}

// TestSDKErrors: the documented errors, as the SDK reports them.
func TestSDKErrors(t *testing.T) {
	hs := startServer(t, brokertest.Open(t, t.TempDir()))
	c := sdkClient(t, hs, testAK, testSecret)
	setUp(t, c, "err-project", "store", 2)
	if err := c.PutLogs("err-project", "store", logGroup(0, 1)); err != nil {
		t.Fatal(err)
	}
	begin, _ := c.GetCursor("err-project", "store", 0, "begin")
	for _, tc := range []struct {
		name   string
		call   func(sls.ClientInterface) error
		client sls.ClientInterface
		status int32
		code   string
	}{
		{"GetProject of a missing project", func(c sls.ClientInterface) error { _, err := c.GetProject("no-such-project"); return err }, nil, 404, "ProjectNotExist"},
		{"CreateLogStore in a missing project", func(c sls.ClientInterface) error { return c.CreateLogStore("no-such-project", "store", 1, 2, false, 0) }, nil, 404, "ProjectNotExist"},
		{"GetLogStore of a missing logstore", func(c sls.ClientInterface) error { _, err := c.GetLogStore("err-project", "missing"); return err }, nil, 404, "LogStoreNotExist"},
		{"PutLogs to a missing logstore", func(c sls.ClientInterface) error { return c.PutLogs("err-project", "missing", logGroup(0, 1)) }, nil, 404, "LogStoreNotExist"},
		{"GetCursor in a missing logstore", func(c sls.ClientInterface) error {
			_, err := c.GetCursor("err-project", "missing", 0, "begin")
			return err
		}, nil, 404, "LogStoreNotExist"},
		{"CreateProject twice", func(c sls.ClientInterface) error { _, err := c.CreateProject("err-project", ""); return err }, nil, 400, "ProjectAlreadyExist"},
		{"CreateLogStore twice", func(c sls.ClientInterface) error { return c.CreateLogStore("err-project", "store", 1, 2, false, 0) }, nil, 400, "LogStoreAlreadyExist"},
		{"CreateProject with a bad name", func(c sls.ClientInterface) error { _, err := c.CreateProject("Bad-Name", ""); return err }, nil, 400, "ParameterInvalid"},
		{"CreateProject with a short name", func(c sls.ClientInterface) error { _, err := c.CreateProject("ab", ""); return err }, nil, 400, "ParameterInvalid"},
		{"CreateLogStore with a bad name", func(c sls.ClientInterface) error {
			return c.CreateLogStore("err-project", "-dash-first", 1, 2, false, 0)
		}, nil, 400, "ParameterInvalid"},
		{"CreateLogStore with too many shards", func(c sls.ClientInterface) error { return c.CreateLogStore("err-project", "many", 1, 101, false, 0) }, nil, 400, "ParameterInvalid"},
		{"CreateLogStore with a bad ttl", func(c sls.ClientInterface) error { return c.CreateLogStore("err-project", "ttl", 4000, 2, false, 0) }, nil, 400, "ParameterInvalid"},
		{"GetCursor from garbage", func(c sls.ClientInterface) error {
			_, err := c.GetCursor("err-project", "store", 0, "yesterday")
			return err
		}, nil, 400, "ParameterInvalid"},
		{"GetCursor of a missing shard", func(c sls.ClientInterface) error {
			_, err := c.GetCursor("err-project", "store", 2, "begin")
			return err
		}, nil, 400, "ShardNotExist"},
		{"PullLogs with a bad cursor", func(c sls.ClientInterface) error {
			_, _, err := c.PullLogs("err-project", "store", 0, "bm90IGEgbnVtYmVy", "", 10)
			return err
		}, nil, 400, "InvalidCursor"},
		{"PullLogs past the end", func(c sls.ClientInterface) error {
			_, _, err := c.PullLogs("err-project", "store", 0, encodeCursor(1000), "", 10)
			return err
		}, nil, 400, "InvalidCursor"},
		{"PullLogs with count 0", func(c sls.ClientInterface) error {
			_, _, err := c.PullLogs("err-project", "store", 0, begin, "", 0)
			return err
		}, nil, 400, "ParameterInvalid"},
		{"a wrong secret", func(c sls.ClientInterface) error { _, err := c.GetProject("err-project"); return err }, sdkClient(t, hs, testAK, "wrong-secret"), 401, "SignatureNotMatch"},
		{"a wrong secret on PutLogs", func(c sls.ClientInterface) error { return c.PutLogs("err-project", "store", logGroup(1, 1)) }, sdkClient(t, hs, testAK, "wrong-secret"), 401, "SignatureNotMatch"},
		{"an unknown key id", func(c sls.ClientInterface) error { _, err := c.GetProject("err-project"); return err }, sdkClient(t, hs, "LTAIother", testSecret), 401, "Unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := c
			if tc.client != nil {
				client = tc.client
			}
			e := slsError(t, tc.call(client))
			if e.HTTPCode != tc.status || e.Code != tc.code || e.Message == "" || e.RequestID == "" {
				t.Fatalf("got %d %s %q (request id %q), want %d %s with a message and a request id", e.HTTPCode, e.Code, e.Message, e.RequestID, tc.status, tc.code)
			}
		})
	}
	// Nothing refused was written: shard 0 still holds its one group.
	gl, _, err := c.PullLogs("err-project", "store", 0, begin, "", 10)
	if err != nil || len(gl.LogGroups) != 1 {
		t.Fatalf("after the refusals shard 0 holds %v, %v", gl, err)
	}
	if gl, _, _ := c.PullLogs("err-project", "store", 1, begin, "", 10); gl == nil || len(gl.LogGroups) != 0 {
		t.Fatalf("shard 1 holds %v after a refused write", gl)
	}
}

// TestUnsignedRequestRefused: no Authorization at all.
func TestUnsignedRequestRefused(t *testing.T) {
	hs := startServer(t, brokertest.Open(t, t.TempDir()))
	req, _ := http.NewRequest(http.MethodGet, hs.URL+"/logstores", nil)
	req.Host = "some-project.cn-hangzhou.log.aliyuncs.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("x-log-requestid") == "" {
		t.Fatalf("unsigned request: %d, request id %q", resp.StatusCode, resp.Header.Get("x-log-requestid"))
	}
}
