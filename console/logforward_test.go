package console_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/console"
	"github.com/amqpemu/amqpemu/logservice"
)

const (
	lsKey    = "LTAIconsoletest"
	lsSecret = "console-test-secret"
)

// newLogEnv is a console with the log service on one broker, and the
// vendor's SDK reaching it through the console as its proxy.
func newLogEnv(t *testing.T) (*env, sls.ClientInterface) {
	t.Helper()
	var logs *logservice.Server
	e := newEnv(t, func(cfg *console.Config) {
		var err error
		logs, err = logservice.New(logservice.Config{Broker: cfg.Broker.(logservice.Backend), AccessKeyID: lsKey, AccessKeySecret: lsSecret,
			Logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)})
		if err != nil {
			t.Fatal(err)
		}
		cfg.LogService, cfg.Logs = logs, logs
	})
	t.Cleanup(logs.Close)
	proxy, _ := url.Parse(e.srv.URL)
	c := sls.CreateNormalInterface("cn-hangzhou.log.aliyuncs.com", lsKey, lsSecret, "")
	c.SetHTTPClient(&http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}, Timeout: 30 * time.Second})
	c.SetRetryTimeout(5 * time.Second)
	if _, err := c.CreateProject("rest-project", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateLogStore("rest-project", "iot-data", 1, 2, false, 0); err != nil {
		t.Fatal(err)
	}
	return e, c
}

type logForward struct {
	ProductKey string    `json:"productKey"`
	Project    string    `json:"project"`
	Logstore   string    `json:"logstore"`
	Kinds      []string  `json:"kinds"`
	CreatedAt  time.Time `json:"createdAt"`
	Backlog    int       `json:"backlog"`
}

func TestLogRoutesOffWithoutLogs(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/api/v1/logforwards", "/api/v1/logservice/consumergroups", "/api/v1/products/pk/logforward"} {
		e.wantError(e.do("GET", p, nil), http.StatusNotFound, console.CodeLogServiceDisabled)
	}
}

// TestLogForwardREST: rules over REST with every identifier checked;
// device messages posted to /api/v1/messages are read back with the SDK's
// PullLogs byte-exact; the log service's consumer groups are listed with
// their backlogs.
func TestLogForwardREST(t *testing.T) {
	e, c := newLogEnv(t)
	const path = "/api/v1/products/pk.logs/logforward"
	for _, bad := range []struct {
		path string
		body any
		code string
	}{
		{path, map[string]any{"project": "no-project", "logstore": "iot-data"}, console.CodeLogProjectNotFound},
		{path, map[string]any{"project": "rest-project", "logstore": "no-logstore"}, console.CodeLogstoreNotFound},
		{path, map[string]any{"project": "Rest", "logstore": "iot-data"}, console.CodeInvalidName},
		{path, map[string]any{"project": "rest-project", "logstore": "iot.data"}, console.CodeInvalidName},
		{path, map[string]any{"project": "rest-project"}, console.CodeInvalidName},
		{path, map[string]any{"project": "rest-project", "logstore": "iot-data", "kinds": []string{"bogus"}}, console.CodeInvalidArgument},
		{path, map[string]any{"project": "rest-project", "logstore": "iot-data", "shard": 1}, console.CodeUnknownField},
		{"/api/v1/products/a*b/logforward", map[string]any{"project": "rest-project", "logstore": "iot-data"}, console.CodeInvalidName},
	} {
		r := e.do("PUT", bad.path, bad.body)
		var body struct{ Code string }
		e.want(r, r.status, &body)
		if body.Code != bad.code || r.status/100 != 4 {
			t.Errorf("PUT %s %v: %d %s; want code %s", bad.path, bad.body, r.status, r, bad.code)
		}
	}
	e.wantError(e.do("GET", path, nil), http.StatusNotFound, console.CodeLogForwardNotFound)
	e.wantError(e.do("DELETE", path, nil), http.StatusNotFound, console.CodeLogForwardNotFound)

	var rule logForward
	e.want(e.do("PUT", path, map[string]any{"project": "rest-project", "logstore": "iot-data"}), http.StatusOK, &rule)
	if rule.ProductKey != "pk.logs" || len(rule.Kinds) != 1 || rule.Kinds[0] != "data" || rule.CreatedAt.IsZero() {
		t.Fatalf("PUT answered %+v", rule)
	}
	if err := c.CreateConsumerGroup("rest-project", "iot-data", sls.ConsumerGroup{ConsumerGroupName: "app", Timeout: 30}); err != nil {
		t.Fatal(err)
	}

	binary := []byte{0, 1, 0xff, 0xfe, 0x80}
	ids := e.publish([]map[string]any{
		{"productKey": "pk.logs", "deviceName": "d1", "payload": `{"t":1}`},
		{"productKey": "pk.logs", "deviceName": "d2", "topic": "/pk.logs/d2/user/raw", "payloadBase64": base64.StdEncoding.EncodeToString(binary)},
		{"productKey": "other", "deviceName": "d1", "payload": "not forwarded"},
	})
	want := map[string][]byte{ids[0]: []byte(`{"t":1}`), ids[1]: binary}
	got := map[string][]byte{}
	topics := map[string]string{}
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("forwarded %d of 2", len(got))
		}
		time.Sleep(50 * time.Millisecond)
		for shard := range 2 {
			begin, err := c.GetCursor("rest-project", "iot-data", shard, "begin")
			if err != nil {
				t.Fatal(err)
			}
			gl, _, err := c.PullLogs("rest-project", "iot-data", shard, begin, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range gl.LogGroups {
				for _, l := range g.Logs {
					kv := map[string]string{}
					for _, ct := range l.Contents {
						kv[ct.GetKey()] = ct.GetValue()
					}
					p := []byte(kv["payload"])
					if b64, ok := kv["payloadBase64"]; ok {
						p, _ = base64.StdEncoding.DecodeString(b64)
					}
					got[kv["messageId"]] = p
					topics[kv["messageId"]] = g.GetTopic()
				}
			}
		}
	}
	for id, p := range want {
		if !bytes.Equal(got[id], p) {
			t.Errorf("message %s: forwarded %q, want %q", id, got[id], p)
		}
	}
	if len(got) != 2 || topics[ids[1]] != "/pk.logs/d2/user/raw" || topics[ids[0]] != "/pk.logs/d1/user/update" {
		t.Errorf("forwarded %v with topics %v", got, topics)
	}

	var list struct{ Forwards []logForward }
	e.want(e.do("GET", "/api/v1/logforwards", nil), http.StatusOK, &list)
	if len(list.Forwards) != 1 || list.Forwards[0].Logstore != "iot-data" {
		t.Fatalf("GET /api/v1/logforwards: %+v", list)
	}
	var groups struct {
		Groups []struct {
			Project, Logstore, Name string
			Backlog                 int
			Consumers               []any
			Shards                  []struct {
				Shard      int
				Backlog    int
				Checkpoint string
			}
		}
	}
	e.want(e.do("GET", "/api/v1/logservice/consumergroups", nil), http.StatusOK, &groups)
	if len(groups.Groups) != 1 {
		t.Fatalf("consumer groups: %+v", groups)
	}
	if g := groups.Groups[0]; g.Project != "rest-project" || g.Logstore != "iot-data" || g.Name != "app" || g.Backlog != 2 ||
		len(g.Shards) != 2 || g.Shards[0].Backlog+g.Shards[1].Backlog != 2 || g.Consumers == nil {
		t.Errorf("group: %+v; want app with the 2 forwarded logs behind it", g)
	}

	e.want(e.do("DELETE", path, nil), http.StatusNoContent, nil)
	e.wantError(e.do("GET", path, nil), http.StatusNotFound, console.CodeLogForwardNotFound)
}

// TestLogProjectsREST: projects and logstores made over the REST API are
// the SDK's too; duplicates, bad names and a missing project are refused.
func TestLogProjectsREST(t *testing.T) {
	e, c := newLogEnv(t)
	var p struct{ Name, Description string }
	e.want(e.do("POST", "/api/v1/logservice/projects", map[string]any{"name": "rest-made", "description": "from REST"}), http.StatusCreated, &p)
	if p.Name != "rest-made" {
		t.Errorf("created project %+v", p)
	}
	if got, err := c.GetProject("rest-made"); err != nil || got.Description != "from REST" {
		t.Fatalf("the SDK's GetProject: %+v %v", got, err)
	}
	var ls struct {
		Name            string
		ShardCount, TTL int
	}
	e.want(e.do("POST", "/api/v1/logservice/projects/rest-made/logstores", map[string]any{"name": "made"}), http.StatusCreated, &ls)
	if ls.Name != "made" || ls.ShardCount != 2 || ls.TTL != 30 {
		t.Errorf("created logstore %+v, want the defaults 2 shards and 30 days", ls)
	}
	shards, err := c.ListShards("rest-made", "made")
	if err != nil || len(shards) != 2 {
		t.Fatalf("the SDK's ListShards: %d shards, %v", len(shards), err)
	}
	e.want(e.do("POST", "/api/v1/logservice/projects/rest-made/logstores", map[string]any{"name": "four", "shardCount": 4, "ttl": 7}), http.StatusCreated, &ls)
	if ls.ShardCount != 4 || ls.TTL != 7 {
		t.Errorf("created logstore %+v", ls)
	}

	e.wantError(e.do("POST", "/api/v1/logservice/projects", map[string]any{"name": "rest-made"}), http.StatusConflict, console.CodeLogProjectExists)
	e.wantError(e.do("POST", "/api/v1/logservice/projects", map[string]any{"name": "Bad_Name"}), http.StatusBadRequest, console.CodeInvalidArgument)
	e.wantError(e.do("POST", "/api/v1/logservice/projects/rest-made/logstores", map[string]any{"name": "made"}), http.StatusConflict, console.CodeLogstoreExists)
	e.wantError(e.do("POST", "/api/v1/logservice/projects/rest-made/logstores", map[string]any{"name": "many", "shardCount": 101}), http.StatusBadRequest, console.CodeInvalidArgument)
	e.wantError(e.do("POST", "/api/v1/logservice/projects/no-such/logstores", map[string]any{"name": "made"}), http.StatusNotFound, console.CodeLogProjectNotFound)
	e.wantError(e.do("POST", "/api/v1/logservice/projects/a*b/logstores", map[string]any{"name": "made"}), http.StatusBadRequest, console.CodeInvalidArgument)
}
