package devices_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/devices"
	"github.com/amqpemu/amqpemu/internal/brokertest"
)

func newRegistry(t *testing.T, b *broker.Broker) *devices.Registry {
	return devices.New(b.StateBucket("devices"), b)
}

func TestDeviceLifecycle(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, brokertest.Open(t, t.TempDir()))

	d, err := reg.CreateDevice(ctx, "pk1", "dev1")
	if err != nil {
		t.Fatal(err)
	}
	if d.ProductKey != "pk1" || d.DeviceName != "dev1" || len(d.DeviceSecret) != 32 || len(d.IotID) != 26 || !d.Enabled || d.CreatedAt.IsZero() {
		t.Fatalf("created %+v", d)
	}
	got, err := reg.Device(ctx, "pk1", "dev1")
	if err != nil || got != d {
		t.Fatalf("Device = %+v, %v; want %+v", got, err, d)
	}
	gen, err := reg.CreateDevice(ctx, "pk1", "")
	if err != nil || len(gen.DeviceName) != 20 || gen.DeviceSecret == d.DeviceSecret || gen.IotID == d.IotID {
		t.Fatalf("generated name: %+v, %v", gen, err)
	}
	list, err := reg.Devices(ctx, "pk1")
	if err != nil || len(list) != 2 {
		t.Fatalf("Devices = %+v, %v", list, err)
	}
	if list[0].DeviceName > list[1].DeviceName {
		t.Fatalf("not sorted: %+v", list)
	}
	off, err := reg.SetEnabled(ctx, "pk1", "dev1", false)
	if err != nil || off.Enabled {
		t.Fatalf("disable: %+v, %v", off, err)
	}
	if got, _ := reg.Device(ctx, "pk1", "dev1"); got.Enabled {
		t.Fatal("disabled device reads enabled")
	}
	if on, err := reg.SetEnabled(ctx, "pk1", "dev1", true); err != nil || !on.Enabled || on.DeviceSecret != d.DeviceSecret {
		t.Fatalf("enable: %+v, %v", on, err)
	}
	products, err := reg.Products(ctx)
	if err != nil || len(products) != 1 || products[0].ProductKey != "pk1" || products[0].Devices != 2 {
		t.Fatalf("Products = %+v, %v", products, err)
	}
	if err := reg.DeleteDevice(ctx, "pk1", "dev1"); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Device(ctx, "pk1", "dev1"); !errors.Is(err, devices.ErrDeviceNotFound) {
		t.Fatalf("deleted device: %v", err)
	}
	if products, _ := reg.Products(ctx); len(products) != 1 || products[0].Devices != 1 {
		t.Fatalf("after delete: %+v", products)
	}
}

func TestProducts(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, brokertest.Open(t, t.TempDir()))
	p, err := reg.CreateProduct(ctx, "")
	if err != nil || len(p.ProductKey) != 11 || p.ProductKey[0] < 'a' || p.ProductKey[0] > 'z' {
		t.Fatalf("generated product %+v, %v", p, err)
	}
	again, err := reg.CreateProduct(ctx, p.ProductKey)
	if err != nil || again != p {
		t.Fatalf("existing product: %+v, %v; want %+v", again, err, p)
	}
	if list, err := reg.Devices(ctx, p.ProductKey); err != nil || len(list) != 0 || list == nil {
		t.Fatalf("empty product: %#v, %v", list, err)
	}
	// A product key with dots does not see the devices of a shorter one.
	if _, err := reg.CreateDevice(ctx, "a.b", "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.CreateDevice(ctx, "a", "b.c"); err != nil {
		t.Fatal(err)
	}
	for _, pk := range []string{"a", "a.b"} {
		if list, err := reg.Devices(ctx, pk); err != nil || len(list) != 1 || list[0].ProductKey != pk {
			t.Fatalf("Devices(%q) = %+v, %v", pk, list, err)
		}
	}
	products, err := reg.Products(ctx)
	if err != nil || len(products) != 3 {
		t.Fatalf("Products = %+v, %v", products, err)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, brokertest.Open(t, t.TempDir()))
	if _, err := reg.CreateDevice(ctx, "pk", "dev"); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 129)
	tests := []struct {
		name    string
		op      func() error
		wantErr error
	}{
		{"duplicate", func() error { _, err := reg.CreateDevice(ctx, "pk", "dev"); return err }, devices.ErrDeviceExists},
		{"empty product key", func() error { _, err := reg.CreateDevice(ctx, "", "dev"); return err }, broker.ErrInvalidName},
		{"product key with slash", func() error { _, err := reg.CreateDevice(ctx, "p/k", "dev"); return err }, broker.ErrInvalidName},
		{"product key with star", func() error { _, err := reg.CreateProduct(ctx, "p*"); return err }, broker.ErrInvalidName},
		{"device name with space", func() error { _, err := reg.CreateDevice(ctx, "pk", "a b"); return err }, broker.ErrInvalidName},
		{"device name with slash", func() error { _, err := reg.CreateDevice(ctx, "pk", "a/b"); return err }, broker.ErrInvalidName},
		{"device name with >", func() error { _, err := reg.CreateDevice(ctx, "pk", "a>"); return err }, broker.ErrInvalidName},
		{"device name too long", func() error { _, err := reg.CreateDevice(ctx, "pk", long); return err }, broker.ErrInvalidName},
		{"get unknown device", func() error { _, err := reg.Device(ctx, "pk", "nope"); return err }, devices.ErrDeviceNotFound},
		{"get in unknown product", func() error { _, err := reg.Device(ctx, "nope", "dev"); return err }, devices.ErrDeviceNotFound},
		{"get bad name", func() error { _, err := reg.Device(ctx, "pk", "a b"); return err }, broker.ErrInvalidName},
		{"list unknown product", func() error { _, err := reg.Devices(ctx, "nope"); return err }, devices.ErrProductNotFound},
		{"delete unknown", func() error { return reg.DeleteDevice(ctx, "pk", "nope") }, devices.ErrDeviceNotFound},
		{"enable unknown", func() error { _, err := reg.SetEnabled(ctx, "pk", "nope", true); return err }, devices.ErrDeviceNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestAnyDeviceName: every name the broker allows is a device: dots,
// percent signs, underscores, '#', non-ASCII, the longest allowed; and
// names that escape alike are different devices.
func TestAnyDeviceName(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, brokertest.Open(t, t.TempDir()))
	names := []string{"a.b", "a_2Eb", "a_b", "..", "%41", "#", "设备-1", "A|b&c", strings.Repeat("é", 64), strings.Repeat("z", 128)}
	for _, dn := range names {
		if _, err := reg.CreateDevice(ctx, "pk", dn); err != nil {
			t.Fatalf("%q: %v", dn, err)
		}
	}
	for _, dn := range names {
		if d, err := reg.Device(ctx, "pk", dn); err != nil || d.DeviceName != dn {
			t.Fatalf("%q: %+v, %v", dn, d, err)
		}
	}
	if list, err := reg.Devices(ctx, "pk"); err != nil || len(list) != len(names) {
		t.Fatalf("Devices: %d, %v", len(list), err)
	}
}

func TestPersistence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := brokertest.Open(t, dir)
	d, err := newRegistry(t, b).CreateDevice(ctx, "pk", "dev")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newRegistry(t, b).SetEnabled(ctx, "pk", "dev", false); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	reg := newRegistry(t, brokertest.Open(t, dir))
	got, err := reg.Device(ctx, "pk", "dev")
	d.Enabled = false
	if err != nil || !got.CreatedAt.Equal(d.CreatedAt) {
		t.Fatalf("after restart %+v, %v; want %+v", got, err, d)
	}
	got.CreatedAt = d.CreatedAt
	if got != d {
		t.Fatalf("after restart %+v; want %+v", got, d)
	}
	if products, err := reg.Products(ctx); err != nil || len(products) != 1 || products[0].Devices != 1 {
		t.Fatalf("products after restart %+v, %v", products, err)
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

type lifecycleJSON struct {
	Action            string  `json:"action"`
	IotID             string  `json:"iotId"`
	ProductKey        string  `json:"productKey"`
	DeviceName        string  `json:"deviceName"`
	DeviceSecret      *string `json:"deviceSecret"`
	MessageCreateTime int64   `json:"messageCreateTime"`
}

// TestLifecycleMessages: a group subscribed to the product's lifecycle
// messages receives create, disable, enable and delete in order, on the
// platform's topic with its fields; the secret only on create.
func TestLifecycleMessages(t *testing.T) {
	ctx := context.Background()
	b := brokertest.Open(t, t.TempDir())
	g, err := b.CreateGroup(ctx, "lifecycle_app")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetSubscription(ctx, "pk", broker.Subscription{Groups: []string{g.ID}, Kinds: []string{broker.KindLifecycle}}); err != nil {
		t.Fatal(err)
	}
	in := make(inbox, 10)
	m, err := b.Join(ctx, g.ID, broker.MemberInfo{ClientID: "app", Address: "192.0.2.1:1"}, in)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	m.Credit(10)

	reg := newRegistry(t, b)
	before := time.Now().UnixMilli()
	d, err := reg.CreateDevice(ctx, "pk", "dev.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetEnabled(ctx, "pk", "dev.1", false); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetEnabled(ctx, "pk", "dev.1", false); err != nil { // no change: no message
		t.Fatal(err)
	}
	if _, err := reg.SetEnabled(ctx, "pk", "dev.1", true); err != nil {
		t.Fatal(err)
	}
	if err := reg.DeleteDevice(ctx, "pk", "dev.1"); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"create", "disable", "enable", "delete"} {
		var dl broker.Delivery
		select {
		case dl = <-in:
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s message within 10s", action)
		}
		m.Settle(dl.Token, broker.Ack)
		msg := dl.Message
		if msg.Topic != "/pk/dev.1/thing/lifecycle" || msg.Kind != broker.KindLifecycle || msg.ProductKey != "pk" || msg.DeviceName != "dev.1" {
			t.Fatalf("%s: message %+v", action, msg)
		}
		var body lifecycleJSON
		if err := json.Unmarshal(msg.Payload, &body); err != nil {
			t.Fatalf("%s: %v: %s", action, err, msg.Payload)
		}
		if body.Action != action || body.IotID != d.IotID || body.ProductKey != "pk" || body.DeviceName != "dev.1" ||
			body.MessageCreateTime < before || body.MessageCreateTime > time.Now().UnixMilli() {
			t.Fatalf("%s: payload %s", action, msg.Payload)
		}
		if wantSecret := action == "create"; (body.DeviceSecret != nil) != wantSecret || (wantSecret && *body.DeviceSecret != d.DeviceSecret) {
			t.Fatalf("%s: deviceSecret in %s", action, msg.Payload)
		}
	}
	select {
	case dl := <-in:
		t.Fatalf("unexpected message %s", dl.Message.Payload)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestLifecycleToDefaultGroup: a product without a subscription sends its
// lifecycle messages to DEFAULT_GROUP, as the broker routes every kind.
func TestLifecycleToDefaultGroup(t *testing.T) {
	ctx := context.Background()
	b := brokertest.Open(t, t.TempDir())
	in := make(inbox, 10)
	m, err := b.Join(ctx, broker.DefaultGroupID, broker.MemberInfo{ClientID: "app", Address: "192.0.2.1:1"}, in)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	m.Credit(1)
	if _, err := newRegistry(t, b).CreateDevice(ctx, "pk", "dev"); err != nil {
		t.Fatal(err)
	}
	select {
	case dl := <-in:
		if dl.Message.Topic != "/pk/dev/thing/lifecycle" || !strings.Contains(string(dl.Message.Payload), `"action":"create"`) {
			t.Fatalf("message %+v", dl.Message)
		}
		m.Settle(dl.Token, broker.Ack)
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10s")
	}
}
