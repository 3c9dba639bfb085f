package console_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/console"
)

// The console must take the real broker as its Backend.
var _ console.Backend = (*broker.Broker)(nil)

func TestHealthz(t *testing.T) {
	var ready atomic.Bool
	e := newEnv(t, func(c *console.Config) { c.Ready = ready.Load })
	var body map[string]string
	e.want(e.do("GET", "/healthz", nil), http.StatusServiceUnavailable, &body)
	if body["status"] == "ok" {
		t.Fatalf("not ready but %v", body)
	}
	ready.Store(true)
	e.want(e.do("GET", "/healthz", nil), http.StatusOK, &body)
	if body["status"] != "ok" {
		t.Fatalf("healthz %v", body)
	}
}

// TestInfo: the listeners and version, the access key as the start-up log
// shows it (the secret only with ShowAccessKeySecret), and the ingest count.
func TestInfo(t *testing.T) {
	type infoJSON struct {
		Version         string            `json:"version"`
		Listeners       map[string]string `json:"listeners"`
		AccessKeyID     string            `json:"accessKeyId"`
		AccessKeySecret *string           `json:"accessKeySecret"`
		Ingested        int64             `json:"ingested"`
		IngestRate      int               `json:"ingestRate"`
	}
	e := newEnv(t, func(c *console.Config) { c.AccessKeyID, c.AccessKeySecret = "ak", "sk" })
	var info infoJSON
	e.want(e.do("GET", "/api/v1/info", nil), http.StatusOK, &info)
	if info.Version != "test-version" || info.Listeners["amqp"] != "127.0.0.1:5672" || info.Listeners["http"] != "127.0.0.1:8080" {
		t.Fatalf("info %+v", info)
	}
	if info.AccessKeyID != "ak" || info.AccessKeySecret != nil || info.Ingested != 0 {
		t.Errorf("info %+v: want the key id, no secret, nothing ingested", info)
	}
	msgs := []map[string]string{{"productKey": "pk1", "deviceName": "d1"}, {"productKey": "pk1", "deviceName": "d2"}}
	if r := e.do("POST", "/api/v1/messages", msgs); r.status != http.StatusAccepted {
		t.Fatalf("publishing: %d %s", r.status, r)
	}
	e.want(e.do("GET", "/api/v1/info", nil), http.StatusOK, &info)
	if info.Ingested != 2 || info.IngestRate != 2 {
		t.Errorf("after 2 messages: ingested %d, rate %d", info.Ingested, info.IngestRate)
	}

	shown := newEnv(t, func(c *console.Config) {
		c.AccessKeyID, c.AccessKeySecret, c.ShowAccessKeySecret = "ak", "dev-secret", true
	})
	info = infoJSON{}
	shown.want(shown.do("GET", "/api/v1/info", nil), http.StatusOK, &info)
	if info.AccessKeySecret == nil || *info.AccessKeySecret != "dev-secret" {
		t.Errorf("with ShowAccessKeySecret: %+v", info)
	}
}

func TestGroupsLifecycle(t *testing.T) {
	e := newEnv(t)
	before := time.Now().Add(-time.Second)

	r := e.do("POST", "/api/v1/groups", map[string]string{"name": "orders_app"})
	var g struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"createdAt"`
	}
	e.want(r, http.StatusCreated, &g)
	if g.ID == "" || g.Name != "orders_app" || g.CreatedAt.Before(before) {
		t.Fatalf("created %+v", g)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/groups/"+g.ID {
		t.Fatalf("Location %q", loc)
	}

	var list struct {
		Groups []struct{ ID, Name string }
	}
	e.want(e.do("GET", "/api/v1/groups", nil), http.StatusOK, &list)
	if len(list.Groups) != 2 || list.Groups[0].ID != broker.DefaultGroupID || list.Groups[1].ID != g.ID {
		t.Fatalf("list %+v", list)
	}

	var got struct{ ID, Name string }
	e.want(e.do("GET", "/api/v1/groups/"+g.ID, nil), http.StatusOK, &got)
	if got.ID != g.ID || got.Name != "orders_app" {
		t.Fatalf("get %+v", got)
	}
	e.want(e.do("GET", "/api/v1/groups/"+broker.DefaultGroupID, nil), http.StatusOK, &got)
	if got.Name != broker.DefaultGroupID {
		t.Fatalf("get default %+v", got)
	}

	e.want(e.do("DELETE", "/api/v1/groups/"+g.ID, nil), http.StatusNoContent, nil)
	e.wantError(e.do("GET", "/api/v1/groups/"+g.ID, nil), http.StatusNotFound, console.CodeGroupNotFound)
}

func TestSubscription(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup("sub_group")
	type sub struct {
		Groups []string `json:"groups"`
		Kinds  []string `json:"kinds"`
	}
	var s sub
	e.want(e.do("GET", "/api/v1/products/pk1/subscription", nil), http.StatusOK, &s)
	if s.Groups == nil || s.Kinds == nil || len(s.Groups)+len(s.Kinds) != 0 {
		t.Fatalf("no subscription yet: %s", e.do("GET", "/api/v1/products/pk1/subscription", nil))
	}

	e.want(e.do("PUT", "/api/v1/products/pk1/subscription", sub{Groups: []string{id}}), http.StatusOK, &s)
	if fmt.Sprint(s.Groups) != "["+id+"]" || fmt.Sprint(s.Kinds) != "[data]" {
		t.Fatalf("put answered %+v", s)
	}
	e.want(e.do("PUT", "/api/v1/products/pk1/subscription", sub{Groups: []string{id}, Kinds: []string{"data", "status"}}), http.StatusOK, &s)
	e.want(e.do("GET", "/api/v1/products/pk1/subscription", nil), http.StatusOK, &s)
	if fmt.Sprint(s.Groups) != "["+id+"]" || fmt.Sprint(s.Kinds) != "[data status]" {
		t.Fatalf("get %+v", s)
	}

	// Subscribed, the group receives pk1's messages.
	e.publish([]map[string]string{{"productKey": "pk1", "deviceName": "d1", "payload": "a"}, {"productKey": "pk2", "deviceName": "d1", "payload": "b"}})
	e.waitAccumulation(id, 1)
	e.waitAccumulation(broker.DefaultGroupID, 1) // pk2's: pk1's subscription leaves DEFAULT_GROUP out

	e.wantError(e.do("DELETE", "/api/v1/groups/"+id, nil), http.StatusConflict, console.CodeGroupInUse)
	e.want(e.do("DELETE", "/api/v1/products/pk1/subscription", nil), http.StatusNoContent, nil)
	e.want(e.do("GET", "/api/v1/products/pk1/subscription", nil), http.StatusOK, &s)
	if len(s.Groups) != 0 {
		t.Fatalf("after delete %+v", s)
	}
	e.want(e.do("DELETE", "/api/v1/groups/"+id, nil), http.StatusNoContent, nil)
}

func TestMessagesAndStatus(t *testing.T) {
	e := newEnv(t)
	st := e.status(broker.DefaultGroupID)
	if st.Accumulation != 0 || st.Clients == nil || len(st.Clients) != 0 || st.RealtimeRate != 0 || st.BacklogRate != 0 {
		t.Fatalf("fresh status %+v", st)
	}
	if r := e.do("GET", "/api/v1/groups/"+broker.DefaultGroupID+"/status", nil); !strings.Contains(r.String(), `"lastConsumedAt":null`) {
		t.Fatalf("lastConsumedAt of a group that consumed nothing: %s", r)
	}

	// One object, then an array mixing text, binary, topic and kind.
	one := e.publish(map[string]string{"productKey": "pk1", "deviceName": "dev1", "payload": `{"temp":21}`})
	if len(one) != 1 || one[0] == "" {
		t.Fatalf("ids %v", one)
	}
	ids := e.publish([]map[string]string{
		{"productKey": "pk1", "deviceName": "dev1", "payloadBase64": base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff})},
		{"productKey": "pk1", "deviceName": "dev2", "topic": "/pk1/dev2/user/custom", "payload": "x"},
		{"productKey": "pk1", "deviceName": "dev2", "kind": "status", "payload": `{"status":"online"}`},
		{"productKey": "pk1", "deviceName": "dev3"},
	})
	if len(ids) != 4 {
		t.Fatalf("ids %v", ids)
	}
	e.waitAccumulation(broker.DefaultGroupID, 5)

	// What was stored is what was sent.
	in := make(inbox, 10)
	m, err := e.b.Join(context.Background(), broker.DefaultGroupID, broker.MemberInfo{ClientID: "app-1", Address: "192.0.2.7:40000"}, in)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	st = e.status(broker.DefaultGroupID)
	if len(st.Clients) != 1 || st.Clients[0].ClientID != "app-1" || st.Clients[0].Address != "192.0.2.7:40000" {
		t.Fatalf("clients %+v", st.Clients)
	}
	m.Credit(5)
	got := map[string]broker.DeviceMessage{}
	for range 5 {
		d := in.next(t)
		got[d.Message.MessageID] = d.Message
		m.Settle(d.Token, broker.Ack)
	}
	if p := got[one[0]].Payload; string(p) != `{"temp":21}` {
		t.Fatalf("text payload %q", p)
	}
	if p := got[ids[0]].Payload; string(p) != "\x00\x01\x02\xff" {
		t.Fatalf("binary payload %q", p)
	}
	if tp := got[ids[1]].Topic; tp != "/pk1/dev2/user/custom" {
		t.Fatalf("topic %q", tp)
	}
	if k := got[ids[2]].Kind; k != broker.KindStatus {
		t.Fatalf("kind %q", k)
	}
	if tp := got[ids[3]].Topic; tp != "/pk1/dev3/user/update" {
		t.Fatalf("default topic %q", tp)
	}
	e.waitAccumulation(broker.DefaultGroupID, 0)
}

func TestClearAndReset(t *testing.T) {
	e := newEnv(t)
	g := broker.DefaultGroupID
	e.publish([]map[string]string{{"productKey": "pk", "deviceName": "d"}, {"productKey": "pk", "deviceName": "d"}, {"productKey": "pk", "deviceName": "d"}})
	e.waitAccumulation(g, 3)

	e.want(e.do("POST", "/api/v1/groups/"+g+"/clear", nil), http.StatusNoContent, nil)
	e.waitAccumulation(g, 0)
	e.want(e.do("POST", "/api/v1/groups/"+g+"/reset", `{"to":"earliest"}`), http.StatusNoContent, nil)
	e.waitAccumulation(g, 3)
	e.want(e.do("POST", "/api/v1/groups/"+g+"/reset", `{"to":"latest"}`), http.StatusNoContent, nil)
	e.waitAccumulation(g, 0)
	e.want(e.do("POST", "/api/v1/groups/"+g+"/reset", fmt.Sprintf(`{"timestamp":%d}`, time.Now().Add(-time.Hour).UnixMilli())), http.StatusNoContent, nil)
	e.waitAccumulation(g, 3)
	e.want(e.do("POST", "/api/v1/groups/"+g+"/reset", fmt.Sprintf(`{"timestamp":%d}`, time.Now().Add(time.Hour).UnixMilli())), http.StatusNoContent, nil)
	e.waitAccumulation(g, 0)
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	subscribed := e.createGroup("subscribed")
	e.want(e.do("PUT", "/api/v1/products/pkS/subscription", map[string][]string{"groups": {subscribed}}), http.StatusOK, nil)
	e.createGroup("taken_name")

	tooMany := "[" + strings.Repeat(`{"productKey":"p","deviceName":"d"},`, console.MaxMessagesPerRequest) + `{"productKey":"p","deviceName":"d"}]`
	huge := `{"productKey":"p","deviceName":"d","payload":"` + strings.Repeat("x", console.MaxMessagesBody) + `"}`
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		// Groups.
		{"unknown group", "GET", "/api/v1/groups/nosuchgroup", "", 404, console.CodeGroupNotFound},
		{"unknown group, odd id", "GET", "/api/v1/groups/a.b%20*", "", 400, console.CodeInvalidName},
		{"group id of 5000 characters", "GET", "/api/v1/groups/" + strings.Repeat("a", 5000), "", 400, console.CodeInvalidName},
		{"clear a group id of 5000 characters", "POST", "/api/v1/groups/" + strings.Repeat("a", 5000) + "/clear", "", 400, console.CodeInvalidName},
		{"status of unknown group", "GET", "/api/v1/groups/nosuchgroup/status", "", 404, console.CodeGroupNotFound},
		{"status of odd id", "GET", "/api/v1/groups/a%3Eb/status", "", 400, console.CodeInvalidName},
		{"clear unknown group", "POST", "/api/v1/groups/nosuchgroup/clear", "", 404, console.CodeGroupNotFound},
		{"reset unknown group", "POST", "/api/v1/groups/nosuchgroup/reset", `{"to":"latest"}`, 404, console.CodeGroupNotFound},
		{"delete unknown group", "DELETE", "/api/v1/groups/nosuchgroup", "", 404, console.CodeGroupNotFound},
		{"name too short", "POST", "/api/v1/groups", `{"name":"abc"}`, 400, console.CodeInvalidGroupName},
		{"name with dash", "POST", "/api/v1/groups", `{"name":"bad-name"}`, 400, console.CodeInvalidGroupName},
		{"name missing", "POST", "/api/v1/groups", `{}`, 400, console.CodeInvalidGroupName},
		{"duplicate name", "POST", "/api/v1/groups", `{"name":"taken_name"}`, 409, console.CodeGroupExists},
		{"delete DEFAULT_GROUP", "DELETE", "/api/v1/groups/DEFAULT_GROUP", "", 409, console.CodeDefaultGroup},
		{"delete subscribed group", "DELETE", "/api/v1/groups/" + subscribed, "", 409, console.CodeGroupInUse},

		// Reset bodies.
		{"reset without body", "POST", "/api/v1/groups/DEFAULT_GROUP/reset", "", 400, console.CodeInvalidJSON},
		{"reset empty object", "POST", "/api/v1/groups/DEFAULT_GROUP/reset", `{}`, 400, console.CodeInvalidArgument},
		{"reset to a bad word", "POST", "/api/v1/groups/DEFAULT_GROUP/reset", `{"to":"beginning"}`, 400, console.CodeInvalidArgument},
		{"reset to and timestamp", "POST", "/api/v1/groups/DEFAULT_GROUP/reset", `{"to":"latest","timestamp":1}`, 400, console.CodeInvalidArgument},
		{"reset negative timestamp", "POST", "/api/v1/groups/DEFAULT_GROUP/reset", `{"timestamp":-5}`, 400, console.CodeInvalidArgument},
		{"reset text timestamp", "POST", "/api/v1/groups/DEFAULT_GROUP/reset", `{"timestamp":"yesterday"}`, 400, console.CodeInvalidJSON},
		{"reset fractional timestamp", "POST", "/api/v1/groups/DEFAULT_GROUP/reset", `{"timestamp":1.5}`, 400, console.CodeInvalidJSON},
		{"reset unknown field", "POST", "/api/v1/groups/DEFAULT_GROUP/reset", `{"offset":3}`, 400, console.CodeUnknownField},

		// JSON.
		{"truncated JSON", "POST", "/api/v1/groups", `{"name":`, 400, console.CodeInvalidJSON},
		{"not JSON", "POST", "/api/v1/groups", `name=abcd`, 400, console.CodeInvalidJSON},
		{"wrong type", "POST", "/api/v1/groups", `{"name":5}`, 400, console.CodeInvalidJSON},
		{"array instead of object", "POST", "/api/v1/groups", `[]`, 400, console.CodeInvalidJSON},
		{"two values", "POST", "/api/v1/groups", `{"name":"abcd"} {"name":"efgh"}`, 400, console.CodeInvalidJSON},
		{"unknown field", "POST", "/api/v1/groups", `{"name":"abcd","description":"x"}`, 400, console.CodeUnknownField},
		{"group body too large", "POST", "/api/v1/groups", `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, 413, console.CodeBodyTooLarge},

		// Subscriptions.
		{"subscription unknown field", "PUT", "/api/v1/products/pk1/subscription", `{"groups":[],"kind":["data"]}`, 400, console.CodeUnknownField},
		{"subscription unknown kind", "PUT", "/api/v1/products/pk1/subscription", `{"groups":[],"kinds":["gossip"]}`, 400, console.CodeInvalidArgument},
		{"subscription unknown group", "PUT", "/api/v1/products/pk1/subscription", `{"groups":["nosuchgroup"]}`, 404, console.CodeGroupNotFound},
		{"subscription bad product key", "PUT", "/api/v1/products/a%20b/subscription", `{"groups":[]}`, 400, console.CodeInvalidName},
		{"subscription product key of 5000 characters", "GET", "/api/v1/products/" + strings.Repeat("p", 5000) + "/subscription", "", 400, console.CodeInvalidName},
		{"subscription naming a group id of 5000 characters", "PUT", "/api/v1/products/pk/subscription", `{"groups":["` + strings.Repeat("g", 5000) + `"]}`, 400, console.CodeInvalidName},
		{"group name of 5000 characters", "POST", "/api/v1/groups", `{"name":"` + strings.Repeat("n", 5000) + `"}`, 400, console.CodeInvalidGroupName},
		{"publish with a topic of 5000 characters", "POST", "/api/v1/messages", `{"productKey":"p","deviceName":"d","topic":"/` + strings.Repeat("t", 5000) + `"}`, 400, console.CodeInvalidMessage},
		{"subscription groups not a list", "PUT", "/api/v1/products/pk1/subscription", `{"groups":"DEFAULT_GROUP"}`, 400, console.CodeInvalidJSON},

		// Messages.
		{"payload and payloadBase64", "POST", "/api/v1/messages", `{"productKey":"p","deviceName":"d","payload":"a","payloadBase64":"YQ=="}`, 400, console.CodeInvalidMessage},
		{"invalid base64", "POST", "/api/v1/messages", `{"productKey":"p","deviceName":"d","payloadBase64":"not base64!"}`, 400, console.CodeInvalidMessage},
		{"missing productKey", "POST", "/api/v1/messages", `{"deviceName":"d"}`, 400, console.CodeInvalidMessage},
		{"unknown kind", "POST", "/api/v1/messages", `{"productKey":"p","deviceName":"d","kind":"gossip"}`, 400, console.CodeInvalidMessage},
		{"unknown message field", "POST", "/api/v1/messages", `[{"productKey":"p","deviceName":"d","qos":1}]`, 400, console.CodeUnknownField},
		{"empty batch", "POST", "/api/v1/messages", `[]`, 400, console.CodeInvalidArgument},
		{"empty body", "POST", "/api/v1/messages", ``, 400, console.CodeInvalidJSON},
		{"string body", "POST", "/api/v1/messages", `"hello"`, 400, console.CodeInvalidJSON},
		{"too many messages", "POST", "/api/v1/messages", tooMany, 413, console.CodeTooManyMessages},
		{"oversized body", "POST", "/api/v1/messages", huge, 413, console.CodeBodyTooLarge},
		{"payload over 256 KiB", "POST", "/api/v1/messages", `{"productKey":"p","deviceName":"d","payload":"` + strings.Repeat("x", broker.DefaultMaxMessageSize+1) + `"}`, 413, console.CodeMessageTooLarge},

		// Routing.
		{"wrong method on messages", "GET", "/api/v1/messages", "", 405, console.CodeMethodNotAllowed},
		{"wrong method on groups", "PUT", "/api/v1/groups", "", 405, console.CodeMethodNotAllowed},
		{"wrong method on a group", "PUT", "/api/v1/groups/DEFAULT_GROUP", "", 405, console.CodeMethodNotAllowed},
		{"wrong method on healthz", "POST", "/healthz", "", 405, console.CodeMethodNotAllowed},
		{"unknown API path", "GET", "/api/v1/nothing", "", 404, console.CodeNotFound},
		{"unknown version", "GET", "/api/v2/groups", "", 404, console.CodeNotFound},
		{"unknown group sub-path", "GET", "/api/v1/groups/DEFAULT_GROUP/members", "", 404, console.CodeNotFound},
		{"unknown root path", "GET", "/nothing", "", 404, console.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := *e
			e.t = t
			var body any
			if tt.body != "" {
				body = tt.body
			}
			e.wantError(e.do(tt.method, tt.path, body), tt.status, tt.code)
		})
	}

	// Nothing bad was stored, and the server still serves.
	e.waitAccumulation(broker.DefaultGroupID, 0)
	r := e.do("GET", "/api/v1/messages", nil)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "POST") {
		t.Fatalf("405 without Allow: POST (%q)", allow)
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, func(c *console.Config) {
		c.RequireAuth, c.AccessKeyID, c.AccessKeySecret = true, "LTAIkey", "s3cret"
	})
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	r := e.do("GET", "/api/v1/groups", nil)
	e.wantError(r, http.StatusUnauthorized, console.CodeUnauthorized)
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
		t.Fatalf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
	}
	e.wantError(e.do("GET", "/api/v1/groups", nil, "Authorization", basic("LTAIkey", "wrong")), http.StatusUnauthorized, console.CodeUnauthorized)
	e.wantError(e.do("GET", "/api/v1/groups", nil, "Authorization", basic("other", "s3cret")), http.StatusUnauthorized, console.CodeUnauthorized)
	e.wantError(e.do("POST", "/api/v1/messages", `{"productKey":"p","deviceName":"d"}`), http.StatusUnauthorized, console.CodeUnauthorized)
	e.wantError(e.do("GET", "/api/v1/nothing", nil), http.StatusUnauthorized, console.CodeUnauthorized)

	e.want(e.do("GET", "/api/v1/groups", nil, "Authorization", basic("LTAIkey", "s3cret")), http.StatusOK, nil)
	e.want(e.do("POST", "/api/v1/messages", `{"productKey":"p","deviceName":"d"}`, "Authorization", basic("LTAIkey", "s3cret")), http.StatusAccepted, nil)
	e.want(e.do("GET", "/healthz", nil), http.StatusOK, nil)
	e.wantError(e.do("GET", "/metrics", nil), http.StatusUnauthorized, console.CodeUnauthorized)
	e.want(e.do("GET", "/metrics", nil, "Authorization", basic("LTAIkey", "s3cret")), http.StatusOK, nil)
}

// TestMetricsPublic: MetricsPublic opens /metrics (and only it) to a
// Prometheus that cannot authenticate.
func TestMetricsPublic(t *testing.T) {
	e := newEnv(t, func(c *console.Config) {
		c.RequireAuth, c.AccessKeyID, c.AccessKeySecret, c.MetricsPublic = true, "LTAIkey", "s3cret", true
	})
	e.want(e.do("GET", "/metrics", nil), http.StatusOK, nil)
	e.wantError(e.do("GET", "/api/v1/groups", nil), http.StatusUnauthorized, console.CodeUnauthorized)
}

func TestAuthWithoutKeyLetsNobodyIn(t *testing.T) {
	e := newEnv(t, func(c *console.Config) { c.RequireAuth = true })
	e.wantError(e.do("GET", "/api/v1/groups", nil, "Authorization", "Basic Og=="), http.StatusUnauthorized, console.CodeUnauthorized)
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup("metrics_group")
	e.publish([]map[string]string{{"productKey": "p", "deviceName": "d"}, {"productKey": "p", "deviceName": "d"}})
	e.waitAccumulation(broker.DefaultGroupID, 2)
	r := e.do("GET", "/metrics", nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r)
	}
	for _, want := range []string{
		`amqpemu_group_accumulation{group="DEFAULT_GROUP"} 2`,
		`amqpemu_group_accumulation{group="` + id + `"} 0`,
		`amqpemu_group_online_clients{group="DEFAULT_GROUP"} 0`,
		`amqpemu_messages_ingested_total 0`, // registered; the broker counts, given the metrics Observer
		`go_goroutines `,
	} {
		if !strings.Contains(r.String(), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, r)
		}
	}
}

func TestNoMetricsWithoutRegistry(t *testing.T) {
	e := newEnv(t, func(c *console.Config) { c.Registry = nil })
	e.wantError(e.do("GET", "/metrics", nil), http.StatusNotFound, console.CodeNotFound)
}

func TestAccessLog(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/api/v1/groups/DEFAULT_GROUP", nil)
	e.do("DELETE", "/api/v1/groups/DEFAULT_GROUP", nil)
	logs := e.log.String()
	for _, want := range []string{
		`"level":"debug"`, `"method":"GET"`, `"path":"/api/v1/groups/DEFAULT_GROUP"`, `"status":200`, `"status":409`, `"duration":`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("access log lacks %s:\n%s", want, logs)
		}
	}
}

// TestInternalErrorIsLogged: a broker failure outside the sentinels is a
// 500 InternalError whose detail goes to the log, not to the client.
func TestInternalErrorIsLogged(t *testing.T) {
	e := newEnv(t, func(c *console.Config) { c.Broker = failing{c.Broker} })
	r := e.do("GET", "/api/v1/groups", nil)
	e.wantError(r, http.StatusInternalServerError, console.CodeInternalError)
	if strings.Contains(r.String(), "disk on fire") {
		t.Fatalf("internal detail reached the client: %s", r)
	}
	logs := e.log.String()
	if !strings.Contains(logs, `"level":"error"`) || !strings.Contains(logs, `"path":"/api/v1/groups"`) || !strings.Contains(logs, "disk on fire") {
		t.Fatalf("500 not logged:\n%s", logs)
	}
}

// TestClosedBrokerIsUnavailable: after the broker closes, requests get 503.
func TestClosedBrokerIsUnavailable(t *testing.T) {
	e := newEnv(t)
	if err := e.b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.wantError(e.do("GET", "/api/v1/groups", nil), http.StatusServiceUnavailable, "Unavailable")
}

// failing is a Backend whose Groups fails with an unexpected error.
type failing struct{ console.Backend }

func (failing) Groups(context.Context) ([]broker.Group, error) {
	return nil, errors.New("disk on fire")
}

func (failing) ListGroups(context.Context, broker.GroupQuery) (broker.GroupPage, error) {
	return broker.GroupPage{}, errors.New("disk on fire")
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

// TestBadBatch: a batch with one bad message is refused whole, naming the
// message.
func TestBadBatch(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/messages", `[{"productKey":"p","deviceName":"d"},{"productKey":"p"}]`)
	e.wantError(r, http.StatusBadRequest, console.CodeInvalidMessage)
	if !strings.Contains(r.String(), "message 1") {
		t.Fatalf("the error does not name message 1: %s", r)
	}
	// Messages the console checks itself (payload fields, kind) are checked
	// before any is stored.
	e.wantError(e.do("POST", "/api/v1/messages", `[{"productKey":"p","deviceName":"d"},{"productKey":"p","deviceName":"d","kind":"gossip"}]`),
		http.StatusBadRequest, console.CodeInvalidMessage)
	e.wantError(e.do("POST", "/api/v1/messages", `[{"productKey":"p","deviceName":"d"},{"productKey":"p","deviceName":"d","payloadBase64":"%%"}]`),
		http.StatusBadRequest, console.CodeInvalidMessage)
	if n := e.status(broker.DefaultGroupID).Accumulation; n != 0 {
		t.Fatalf("a refused batch stored %d message(s)", n)
	}
}

// fixedStats is a StatsSource with known rates.
type fixedStats struct{ st console.GroupStats }

func (f fixedStats) GroupStats(context.Context, string) (console.GroupStats, error) { return f.st, nil }

func TestStatusFromStatsSource(t *testing.T) {
	consumed := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	online := consumed.Add(-time.Hour)
	e := newEnv(t, func(c *console.Config) {
		c.Stats = fixedStats{console.GroupStats{
			Accumulation: 9, RealtimeRate: 120, BacklogRate: 30, LastConsumedAt: consumed,
			Clients: []console.ClientStats{{ClientID: "c1", Address: "10.0.0.1:5000", OnlineSince: online, RealtimeRate: 100, BacklogRate: 30}},
		}}
	})
	r := e.do("GET", "/api/v1/groups/DEFAULT_GROUP/status", nil)
	want := `{"accumulation":9,"realtimeRate":120,"backlogRate":30,"lastConsumedAt":"2025-03-01T12:00:00.123Z",` +
		`"clients":[{"clientId":"c1","address":"10.0.0.1:5000","onlineSince":"2025-03-01T11:00:00.123Z","realtimeRate":100,"backlogRate":30}]}`
	if strings.TrimSpace(r.String()) != want {
		t.Fatalf("status\n got %s\nwant %s", r, want)
	}
	e.wantError(e.do("GET", "/api/v1/groups/nosuchgroup/status", nil), http.StatusNotFound, console.CodeGroupNotFound)
}

// The broker's own consumption stats reach the status endpoint.
var _ console.StatsSource = (*broker.Broker)(nil)

// panicky is a Backend whose Groups panics.
type panicky struct{ *broker.Broker }

func (panicky) Groups(context.Context) ([]broker.Group, error) { panic("boom") }

func (panicky) ListGroups(context.Context, broker.GroupQuery) (broker.GroupPage, error) {
	panic("boom")
}

func TestPanicIsA500(t *testing.T) {
	e := newEnv(t, func(c *console.Config) { c.Broker = panicky{c.Broker.(*broker.Broker)} })
	e.wantError(e.do("GET", "/api/v1/groups", nil), http.StatusInternalServerError, console.CodeInternalError)
	if logs := e.log.String(); !strings.Contains(logs, "boom") || !strings.Contains(logs, `"status":500`) {
		t.Fatalf("panic not logged:\n%s", logs)
	}
	e.want(e.do("GET", "/api/v1/groups/DEFAULT_GROUP", nil), http.StatusOK, nil) // still serving
}

// Generic queues are listed apart from consumer groups, in the API and in
// /metrics.
func TestQueuesListedApart(t *testing.T) {
	e := newEnv(t)
	var empty struct{ Queues []broker.QueueInfo }
	e.want(e.do("GET", "/api/v1/queues", nil), http.StatusOK, &empty)
	if empty.Queues == nil || len(empty.Queues) != 0 {
		t.Fatalf("queues before any: %+v (want an empty list)", empty)
	}
	if err := e.b.PublishQueue(context.Background(), "DEFAULT_GRUOP", []byte("x")); err != nil {
		t.Fatal(err)
	}
	want := broker.QueueInfo{Address: "DEFAULT_GRUOP", Accumulation: 1}
	var got struct{ Queues []broker.QueueInfo }
	// The consumer's pending count follows the stored message shortly after.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		e.want(e.do("GET", "/api/v1/queues", nil), http.StatusOK, &got)
		if len(got.Queues) == 1 && got.Queues[0] == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queues %+v, want [%+v]", got, want)
		}
	}
	var groups struct{ Groups []struct{ ID string } }
	e.want(e.do("GET", "/api/v1/groups", nil), http.StatusOK, &groups)
	if len(groups.Groups) != 1 {
		t.Fatalf("groups %+v: the queue is listed among them", groups)
	}
	m := e.do("GET", "/metrics", nil).String()
	if !strings.Contains(m, `amqpemu_queue_accumulation{queue="DEFAULT_GRUOP"} 1`) || strings.Contains(m, `group="DEFAULT_GRUOP"`) {
		t.Fatalf("/metrics does not list the queue apart:\n%s", m)
	}
}
