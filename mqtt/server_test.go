package mqtt_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/devices"
	"github.com/amqpemu/amqpemu/devicesign"
	"github.com/amqpemu/amqpemu/downlink"
	"github.com/amqpemu/amqpemu/internal/testlog"
	"github.com/amqpemu/amqpemu/mqtt"
)

// registry is the tests' device registry.
type registry map[string]devices.Device

func (r registry) Device(_ context.Context, pk, dn string) (devices.Device, error) {
	d, ok := r[pk+"/"+dn]
	if !ok {
		return devices.Device{}, devices.ErrDeviceNotFound
	}
	return d, nil
}

var testDevices = registry{
	"pk1/dev1":  {ProductKey: "pk1", DeviceName: "dev1", DeviceSecret: "secret1", IotID: "IOT1", Enabled: true},
	"pk1/dev2":  {ProductKey: "pk1", DeviceName: "dev2", DeviceSecret: "secret2", IotID: "IOT2", Enabled: true},
	"pk1/off":   {ProductKey: "pk1", DeviceName: "off", DeviceSecret: "s", Enabled: false},
	"pk2/other": {ProductKey: "pk2", DeviceName: "other", DeviceSecret: "s", Enabled: true},
}

// inbox is a group member's deliveries.
type inbox chan broker.Delivery

func (in inbox) Deliver(d broker.Delivery) bool {
	select {
	case in <- d:
		return true
	default:
		return false
	}
}

// next is the next delivery of the wanted kind (others skipped).
func (in inbox) next(t *testing.T, kind string) broker.DeviceMessage {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case d := <-in:
			if d.Message.Kind == kind {
				return d.Message
			}
		case <-timeout:
			t.Fatalf("no %s message within 10s", kind)
		}
	}
}

type env struct {
	addr string
	srv  *mqtt.Server
	in   inbox
	rec  *downlink.Recorder
	logs *testlog.Buffer
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
	in := make(inbox, 1000)
	m, err := b.Join(ctx, broker.DefaultGroupID, broker.MemberInfo{ClientID: t.Name()}, in)
	if err != nil {
		t.Fatal(err)
	}
	m.Credit(1000)
	t.Cleanup(m.Leave)
	logs := &testlog.Buffer{}
	rec := downlink.NewRecorder()
	srv := mqtt.New(mqtt.Config{Broker: b, Devices: testDevices, Recorder: rec, Logger: zerolog.New(logs)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		if err := <-served; !errors.Is(err, mqtt.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return &env{addr: ln.Addr().String(), srv: srv, in: in, rec: rec, logs: logs}
}

// signed are the options of a device signing in as the SDKs do.
func signed(t *testing.T, addr, pk, dn, secret, method string, upper bool) *paho.ClientOptions {
	t.Helper()
	ts := "2524608000000"
	pw, err := devicesign.Sign(method, secret, devicesign.Content(pk+"."+dn, dn, pk, ts))
	if err != nil {
		t.Fatal(err)
	}
	if upper {
		pw = strings.ToUpper(pw)
	}
	return paho.NewClientOptions().AddBroker("tcp://" + addr).
		SetClientID(pk + "." + dn + "|securemode=3,signmethod=" + method + ",timestamp=" + ts + "|").
		SetUsername(dn + "&" + pk).SetPassword(pw).SetKeepAlive(60 * time.Second).
		SetAutoReconnect(false).SetConnectRetry(false).SetProtocolVersion(4)
}

func connect(t *testing.T, o *paho.ClientOptions) paho.Client {
	t.Helper()
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// refusedCode connects and answers the CONNACK return code.
func refusedCode(t *testing.T, o *paho.ClientOptions) byte {
	t.Helper()
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("connect: no answer")
	}
	if tok.Error() == nil {
		c.Disconnect(0)
		t.Fatal("connect: accepted")
	}
	return tok.(*paho.ConnectToken).ReturnCode()
}

func wait(t *testing.T, tok paho.Token) {
	t.Helper()
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("token: %v", tok.Error())
	}
}

func TestCustomTopicReachesGroup(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, method string
		upper        bool
	}{{"sha1", "hmacsha1", false}, {"sha256 upper-case hex", "hmacsha256", true}, {"md5", "hmacmd5", false}} {
		t.Run(tc.name, func(t *testing.T) {
			c := connect(t, signed(t, e.addr, "pk1", "dev1", "secret1", tc.method, tc.upper))
			st := e.in.next(t, broker.KindStatus)
			var status map[string]any
			if err := json.Unmarshal(st.Payload, &status); err != nil || status["status"] != "online" {
				t.Fatalf("status %s %v", st.Payload, err)
			}
			payload := []byte("\x00\xffraw bytes " + tc.name)
			wait(t, c.Publish("/pk1/dev1/user/update", 1, false, payload))
			m := e.in.next(t, broker.KindData)
			if m.Topic != "/pk1/dev1/user/update" || string(m.Payload) != string(payload) || m.ProductKey != "pk1" || m.DeviceName != "dev1" {
				t.Fatalf("got %+v", m)
			}
			c.Disconnect(100)
			st = e.in.next(t, broker.KindStatus)
			json.Unmarshal(st.Payload, &status)
			if status["status"] != "offline" {
				t.Fatalf("status %s", st.Payload)
			}
		})
	}
}

func TestStatusFields(t *testing.T) {
	e := newEnv(t)
	c := connect(t, signed(t, e.addr, "pk1", "dev1", "secret1", "hmacsha1", false))
	on := e.in.next(t, broker.KindStatus)
	c.Disconnect(100)
	off := e.in.next(t, broker.KindStatus)
	for _, m := range []broker.DeviceMessage{on, off} {
		if m.Topic != "/as/mqtt/status/pk1/dev1" {
			t.Fatalf("topic %s", m.Topic)
		}
		var s map[string]string
		if err := json.Unmarshal(m.Payload, &s); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"status", "productKey", "deviceName", "iotId", "time", "utcTime", "lastTime", "utcLastTime", "clientIp"} {
			if s[k] == "" {
				t.Errorf("%s: no %s", m.Payload, k)
			}
		}
		if s["iotId"] != "IOT1" || s["clientIp"] != "127.0.0.1" {
			t.Errorf("%s", m.Payload)
		}
		if (s["status"] == "offline") != (s["offlineReason"] != "") {
			t.Errorf("offlineReason: %s", m.Payload)
		}
	}
}

func TestPropertyPost(t *testing.T) {
	e := newEnv(t)
	c := connect(t, signed(t, e.addr, "pk1", "dev1", "secret1", "hmacsha1", false))
	replies := make(chan []byte, 10)
	wait(t, c.Subscribe("/sys/pk1/dev1/thing/event/property/post_reply", 0, func(_ paho.Client, m paho.Message) { replies <- m.Payload() }))
	for _, tc := range []struct{ name, req string }{
		{"long form", `{"id":"123","version":"1.0","params":{"Power":{"value":"on","time":1524448722000},"WF":{"value":23.6,"time":1524448722000}},"method":"thing.event.property.post"}`},
		{"short form", `{"id":"123","version":"1.0","params":{"Power":"on","WF":23.6},"method":"thing.event.property.post"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wait(t, c.Publish("/sys/pk1/dev1/thing/event/property/post", 1, false, tc.req))
			m := e.in.next(t, broker.KindData)
			if m.Topic != "/pk1/dev1/thing/event/property/post" {
				t.Fatalf("topic %s", m.Topic)
			}
			var body struct {
				IotID, ProductKey, DeviceName, DeviceType string
				GmtCreate                                 int64
				Items                                     map[string]struct {
					Value any
					Time  int64
				}
			}
			if err := json.Unmarshal(m.Payload, &body); err != nil {
				t.Fatal(err)
			}
			if body.IotID != "IOT1" || body.ProductKey != "pk1" || body.DeviceName != "dev1" || body.DeviceType != "CustomCategory" || body.GmtCreate == 0 ||
				body.Items["Power"].Value != "on" || body.Items["WF"].Value != 23.6 || body.Items["Power"].Time == 0 {
				t.Fatalf("body %s", m.Payload)
			}
			select {
			case r := <-replies:
				want := `{"code":200,"data":{},"id":"123","message":"success","method":"thing.event.property.post","version":"1.0"}`
				if string(r) != want {
					t.Fatalf("reply %s, want %s", r, want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no reply")
			}
		})
	}
	// Malformed: a 6813 reply, nothing forwarded.
	wait(t, c.Publish("/sys/pk1/dev1/thing/event/property/post", 1, false, `{"id":"7","params":`))
	select {
	case r := <-replies:
		if !strings.Contains(string(r), `"code":6813`) {
			t.Fatalf("reply %s", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no reply")
	}
	// sys.ack 0: no reply.
	wait(t, c.Publish("/sys/pk1/dev1/thing/event/property/post", 1, false, `{"id":"8","sys":{"ack":0},"params":{"Power":"off"}}`))
	e.in.next(t, broker.KindData)
	select {
	case r := <-replies:
		t.Fatalf("reply %s despite ack 0", r)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestEvent(t *testing.T) {
	e := newEnv(t)
	c := connect(t, signed(t, e.addr, "pk1", "dev1", "secret1", "hmacsha1", false))
	wait(t, c.Publish("/sys/pk1/dev1/thing/event/alarm/post", 1, false, `{"id":"5","version":"1.0","params":{"value":{"level":3},"time":1524448722000},"method":"thing.event.alarm.post"}`))
	m := e.in.next(t, broker.KindData)
	var body map[string]any
	json.Unmarshal(m.Payload, &body)
	if m.Topic != "/pk1/dev1/thing/event/alarm/post" || body["identifier"] != "alarm" || body["type"] != "info" ||
		body["time"] != 1524448722000.0 || body["value"].(map[string]any)["level"] != 3.0 {
		t.Fatalf("%s %s", m.Topic, m.Payload)
	}
}

func TestRefusedConnect(t *testing.T) {
	e := newEnv(t)
	bad := signed(t, e.addr, "pk1", "dev1", "wrong", "hmacsha1", false)
	unknown := signed(t, e.addr, "pk1", "nobody", "s", "hmacsha1", false)
	disabled := signed(t, e.addr, "pk1", "off", "s", "hmacsha1", false)
	keepalive := signed(t, e.addr, "pk1", "dev1", "secret1", "hmacsha1", false).SetKeepAlive(10 * time.Second)
	will := signed(t, e.addr, "pk1", "dev1", "secret1", "hmacsha1", false).SetWill("/pk1/dev1/user/will", "x", 0, false)
	for _, tc := range []struct {
		name   string
		o      *paho.ClientOptions
		code   byte
		reason string
	}{
		{"bad signature", bad, 4, "signature does not match"},
		{"no password", signed(t, e.addr, "pk1", "dev1", "secret1", "hmacsha1", false).SetPassword(""), 4, "signature does not match"},
		{"unknown device", unknown, 4, "unknown device"},
		{"disabled device", disabled, 5, "device disabled"},
		{"keep-alive 10 s", keepalive, 5, "keep-alive"},
		{"will", will, 5, "will"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code := refusedCode(t, tc.o); code != tc.code {
				t.Fatalf("return code %d, want %d", code, tc.code)
			}
			if !strings.Contains(e.logs.String(), tc.reason) {
				t.Fatalf("no %q in the log:\n%s", tc.reason, e.logs)
			}
		})
	}
}

func TestNoRegistry(t *testing.T) {
	e := newEnv(t)
	_ = e
	// A server without a registry refuses everyone.
	logs := &testlog.Buffer{}
	srv := mqtt.New(mqtt.Config{Logger: zerolog.New(logs)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() { srv.Shutdown(context.Background()); <-done }()
	if code := refusedCode(t, signed(t, ln.Addr().String(), "pk1", "dev1", "secret1", "hmacsha1", false)); code != 3 {
		t.Fatalf("code %d", code)
	}
	if !strings.Contains(logs.String(), "no device registry") {
		t.Fatal(logs.String())
	}
}

// lost connects c with a handler noting when the server drops it.
func lostOptions(o *paho.ClientOptions) (*paho.ClientOptions, chan error) {
	lost := make(chan error, 1)
	return o.SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err }), lost
}

func waitLost(t *testing.T, lost chan error) {
	t.Helper()
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("connection not closed")
	}
}

func TestRefusedPublish(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, topic string
		qos         byte
		retain      bool
		reason      string
	}{
		{"QoS 2", "/pk1/dev1/user/update", 2, false, "QoS 2"},
		{"retain", "/pk1/dev1/user/update", 0, true, "retained"},
		{"another product", "/pk2/other/user/update", 1, false, "not the device's own"},
		{"another device", "/sys/pk1/dev2/thing/event/property/post", 0, false, "not the device's own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, lost := lostOptions(signed(t, e.addr, "pk1", "dev1", "secret1", "hmacsha1", false))
			c := connect(t, o)
			c.Publish(tc.topic, tc.qos, tc.retain, "x")
			waitLost(t, lost)
			if !strings.Contains(e.logs.String(), tc.reason) {
				t.Fatalf("no %q in the log", tc.reason)
			}
		})
	}
	// Nothing of it reached the group.
	for {
		select {
		case d := <-e.in:
			if d.Message.Kind == broker.KindData {
				t.Fatalf("forwarded %s", d.Message.Topic)
			}
			continue
		case <-time.After(300 * time.Millisecond):
		}
		break
	}
}

func TestSubscribePermissions(t *testing.T) {
	e := newEnv(t)
	c := connect(t, signed(t, e.addr, "pk1", "dev1", "secret1", "hmacsha1", false))
	for _, tc := range []struct {
		filter string
		ok     bool
	}{
		{"/pk1/dev1/user/get", true},
		{"/sys/pk1/dev1/thing/#", true},
		{"/broadcast/pk1/#", true},
		{"/shadow/get/pk1/dev1", true},
		{"/ext/session/pk1/dev1/combine/login_reply", true},
		{"/shadow/get/pk1/dev2", false},
		{"/ext/session/pk1/dev2/combine/login_reply", false},
		{"/ext/+/pk1/dev1/x", false},
		{"/pk1/dev2/user/get", false},
		{"/pk2/other/user/get", false},
		{"/+/+/user/get", false},
		{"#", false},
	} {
		tok := c.Subscribe(tc.filter, 1, nil)
		wait(t, tok)
		code := tok.(*paho.SubscribeToken).Result()[tc.filter]
		if (code == 0x80) == tc.ok || (tc.ok && code != 1) {
			t.Errorf("%s: SUBACK %#x", tc.filter, code)
		}
	}
}

func TestSecondLoginKicksFirst(t *testing.T) {
	e := newEnv(t)
	o1, lost := lostOptions(signed(t, e.addr, "pk1", "dev1", "secret1", "hmacsha1", false))
	connect(t, o1)
	e.in.next(t, broker.KindStatus)
	// Another client id, the same device.
	o2 := signed(t, e.addr, "pk1", "dev1", "secret1", "hmacsha256", false)
	c2 := connect(t, o2)
	waitLost(t, lost)
	var saw sync.Map
	for range 2 {
		var s map[string]string
		json.Unmarshal(e.in.next(t, broker.KindStatus).Payload, &s)
		saw.Store(s["status"], s["offlineReason"])
	}
	if r, ok := saw.Load("offline"); !ok || !strings.Contains(r.(string), "kicked") {
		t.Fatalf("offline reason %v", r)
	}
	if !c2.IsConnectionOpen() {
		t.Fatal("second connection closed")
	}
	wait(t, c2.Publish("/pk1/dev1/user/update", 1, false, "still here"))
	if m := e.in.next(t, broker.KindData); string(m.Payload) != "still here" {
		t.Fatal(string(m.Payload))
	}
}

func TestSendReachesDevice(t *testing.T) {
	e := newEnv(t)
	c := connect(t, signed(t, e.addr, "pk1", "dev1", "secret1", "hmacsha1", false))
	got := make(chan paho.Message, 1)
	wait(t, c.Subscribe("/pk1/dev1/user/get", 1, func(_ paho.Client, m paho.Message) { got <- m }))
	id, err := e.srv.Send(context.Background(), "pk1", "dev1", "/pk1/dev1/user/get", []byte("hello device"), 1)
	if err != nil || id == "" {
		t.Fatalf("Send: %q %v", id, err)
	}
	select {
	case m := <-got:
		if string(m.Payload()) != "hello device" || m.Qos() != 1 {
			t.Fatalf("%s qos %d", m.Payload(), m.Qos())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not delivered")
	}
	if msgs := e.rec.Messages("pk1", "dev1"); len(msgs) != 1 || msgs[0].MessageID != id {
		t.Fatalf("recorded %+v", msgs)
	}
}
