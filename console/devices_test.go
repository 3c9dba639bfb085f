package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
)

// A reported status change becomes the platform's status message on
// /as/mqtt/status/{pk}/{dn}; lastTime is the previous change.
func TestDeviceStatusMessages(t *testing.T) {
	e := newEnv(t)
	before := time.Now()
	for _, status := range []string{"online", "offline"} {
		var out struct{ MessageIDs []string }
		e.want(e.do("POST", "/api/v1/devices/pk1/dev1/status", map[string]string{"status": status, "clientIp": "192.0.2.9"}), http.StatusAccepted, &out)
		if len(out.MessageIDs) != 1 {
			t.Fatalf("ids %v", out.MessageIDs)
		}
	}
	e.wantError(e.do("POST", "/api/v1/devices/pk1/dev1/status", map[string]string{"status": "asleep"}), http.StatusBadRequest, "InvalidArgument")
	e.wantError(e.do("POST", "/api/v1/devices/pk1/dev1/status", map[string]any{"status": "online", "extra": 1}), http.StatusBadRequest, "UnknownField")

	in := make(inbox, 4)
	m, err := e.b.Join(context.Background(), broker.DefaultGroupID, broker.MemberInfo{ClientID: "app"}, in)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	m.Credit(2)
	var msgs [2]map[string]string
	for i := range msgs {
		d := in.next(t)
		if d.Message.Topic != "/as/mqtt/status/pk1/dev1" || d.Message.Kind != broker.KindStatus {
			t.Fatalf("topic %q kind %q", d.Message.Topic, d.Message.Kind)
		}
		if err := json.Unmarshal(d.Message.Payload, &msgs[i]); err != nil {
			t.Fatalf("payload %s: %v", d.Message.Payload, err)
		}
		m.Settle(d.Token, broker.Ack)
	}
	on, off := msgs[0], msgs[1]
	if on["status"] != "online" || off["status"] != "offline" {
		on, off = off, on // delivery order is not promised
	}
	for _, f := range []string{"iotId", "time", "utcTime", "lastTime", "utcLastTime"} {
		if on[f] == "" || off[f] == "" {
			t.Fatalf("%s missing: %v %v", f, on, off)
		}
	}
	if on["productKey"] != "pk1" || on["deviceName"] != "dev1" || on["clientIp"] != "192.0.2.9" || on["iotId"] != off["iotId"] {
		t.Fatalf("online %v offline %v", on, off)
	}
	utc, err := time.Parse("2006-01-02T15:04:05.000Z", off["utcTime"])
	if err != nil || utc.Before(before.Truncate(time.Millisecond)) {
		t.Fatalf("utcTime %q: %v", off["utcTime"], err)
	}
	if off["utcLastTime"] != on["utcTime"] {
		t.Fatalf("offline lastTime %q, want the online time %q", off["utcLastTime"], on["utcTime"])
	}
}
