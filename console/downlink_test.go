package console_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/amqpemu/amqpemu/console"
	"github.com/amqpemu/amqpemu/downlink"
)

func TestDownlinkReadBack(t *testing.T) {
	rec := downlink.NewRecorder()
	e := newEnv(t, func(c *console.Config) { c.Downlink = rec })
	id1, _ := rec.Send(context.Background(), "pk1", "dev1", "/pk1/dev1/user/get", []byte(`{"on":true}`), 1)
	id2, _ := rec.Send(context.Background(), "pk1", "dev1", "/pk1/dev1/user/bin", []byte{0xff, 0x00}, 0)
	var out struct {
		Messages []struct {
			MessageID     string  `json:"messageId"`
			Topic         string  `json:"topic"`
			Payload       *string `json:"payload"`
			PayloadBase64 string  `json:"payloadBase64"`
			QoS           int     `json:"qos"`
			Time          string  `json:"time"`
		} `json:"messages"`
	}
	e.want(e.do("GET", "/api/v1/products/pk1/devices/dev1/downlink", nil), http.StatusOK, &out)
	if len(out.Messages) != 2 {
		t.Fatalf("messages %+v", out.Messages)
	}
	m, b := out.Messages[0], out.Messages[1]
	if m.MessageID != id1 || m.Topic != "/pk1/dev1/user/get" || m.Payload == nil || *m.Payload != `{"on":true}` || m.PayloadBase64 != "eyJvbiI6dHJ1ZX0=" || m.QoS != 1 || m.Time == "" {
		t.Fatalf("first message %+v", m)
	}
	if b.MessageID != id2 || b.Payload != nil || b.PayloadBase64 != "/wA=" || b.QoS != 0 {
		t.Fatalf("second message %+v", b)
	}
	e.want(e.do("GET", "/api/v1/products/pk1/devices/other/downlink", nil), http.StatusOK, &out)
	if out.Messages == nil || len(out.Messages) != 0 {
		t.Fatalf("other device %+v", out.Messages)
	}
}

func TestDownlinkWithoutRecorderIsEmpty(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/api/v1/products/pk/devices/dn/downlink", nil)
	if r.status != http.StatusOK || r.String() != "{\"messages\":[]}\n" {
		t.Fatalf("%d %s", r.status, r)
	}
}

// TestRPCCallsGoToTheRPCHandler: calls at "/" carrying Action (query),
// x-acs-action or a form body reach Config.RPC, whatever their Host and
// without the REST API's Basic authentication; other requests do not.
func TestRPCCallsGoToTheRPCHandler(t *testing.T) {
	rpc := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"rpc":true}`))
	})
	e := newEnv(t, func(c *console.Config) {
		c.RPC = rpc
		c.RequireAuth, c.AccessKeyID, c.AccessKeySecret = true, "ak", "sk"
		c.HostCheck = true
	})
	isRPC := func(r response) bool { return r.status == 200 && r.String() == `{"rpc":true}` }
	for _, tt := range []struct {
		name   string
		r      response
		wantIt bool
	}{
		{"Action in the query", e.do("POST", "/?Action=QueryConsumerGroupList", nil, "Host", "iot.cn-shanghai.aliyuncs.com"), true},
		{"GET with Action", e.do("GET", "/?Action=Pub&Version=2018-01-20", nil), true},
		{"x-acs-action", e.do("POST", "/?GroupName=g", nil, "x-acs-action", "CreateConsumerGroup", "Host", "127.0.0.1:9"), true},
		{"form body", e.do("POST", "/", "Action=Pub", "Content-Type", "application/x-www-form-urlencoded"), true},
		{"plain GET /", e.do("GET", "/", nil), false},
		{"Action elsewhere", e.do("GET", "/api/v1/groups?Action=x", nil), false},
	} {
		if got := isRPC(tt.r); got != tt.wantIt {
			t.Errorf("%s: reached RPC %v (answer %d %s)", tt.name, got, tt.r.status, tt.r)
		}
	}
}
