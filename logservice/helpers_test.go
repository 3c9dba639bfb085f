package logservice

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
)

const (
	testAK       = "LTAItestkeyid"
	testSecret   = "test-secret-0123456789"
	testEndpoint = "cn-hangzhou.log.aliyuncs.com" // never dialled: the proxy answers
)

// startServer serves the log service over b on a loopback port.
func startServer(t *testing.T, b *broker.Broker) *httptest.Server {
	t.Helper()
	hs, _ := startServerS(t, b)
	return hs
}

// startServerS is startServer, with the Server for tests that look inside.
func startServerS(t *testing.T, b *broker.Broker) (*httptest.Server, *Server) {
	t.Helper()
	s, err := New(Config{Broker: b, AccessKeyID: testAK, AccessKeySecret: testSecret, Logger: zerolog.New(zerolog.NewTestWriter(t))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return hs, s
}

// sdkClient is the vendor's client reaching hs as its HTTP proxy, the way
// HTTP_PROXY makes it do: absolute-form requests for
// {project}.cn-hangzhou.log.aliyuncs.com. The proxy is set on the client
// rather than through the environment because net/http reads HTTP_PROXY
// once per process, and each test has a server of its own.
func sdkClient(t *testing.T, hs *httptest.Server, ak, secret string) sls.ClientInterface {
	t.Helper()
	proxy, err := url.Parse(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := sls.CreateNormalInterface(testEndpoint, ak, secret, "")
	c.SetHTTPClient(&http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}, Timeout: 30 * time.Second})
	// A 5xx would be retried for 90 s by default; a test should fail sooner.
	c.SetRetryTimeout(5 * time.Second)
	return c
}

// slsError is err as the SDK's *sls.Error, or fails the test.
func slsError(t *testing.T, err error) *sls.Error {
	t.Helper()
	e, ok := err.(*sls.Error)
	if !ok {
		t.Fatalf("error %v (%T) is not an *sls.Error", err, err)
	}
	return e
}

// pullShard reads a shard's groups from its beginning.
func pullShard(t *testing.T, c sls.ClientInterface, project, logstore string, shard int) []*sls.LogGroup {
	t.Helper()
	begin, err := c.GetCursor(project, logstore, shard, "begin")
	if err != nil {
		t.Fatal(err)
	}
	gl, _, err := c.PullLogs(project, logstore, shard, begin, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return gl.LogGroups
}

// skipUnderRace skips a test of the SDK's concurrent parts (producer,
// consumer library) under -race: not ours, their goroutines race in
// sls.Client.initHttpClient (client.go:125, defaults written under a read
// lock) on their first concurrent calls. The plain test run covers them.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceDetector {
		t.Skip("the SDK's producer and consumer library have a data race of their own")
	}
}
