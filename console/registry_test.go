package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/console"
	"github.com/amqpemu/amqpemu/devices"
)

type deviceBody struct {
	ProductKey   string    `json:"productKey"`
	DeviceName   string    `json:"deviceName"`
	DeviceSecret string    `json:"deviceSecret"`
	IotID        string    `json:"iotId"`
	Enabled      bool      `json:"enabled"`
	CreatedAt    time.Time `json:"createdAt"`
}

// newRegistryEnv is a console serving a registry on its broker.
func newRegistryEnv(t *testing.T) *env {
	t.Helper()
	var reg *devices.Registry
	return newEnvBroker(t, nil, func(c *console.Config) {
		b := c.Broker.(*broker.Broker)
		reg = devices.New(b.StateBucket("devices"), b)
		c.Devices = reg
	})
}

// TestDeviceRegistryREST: products and devices round trip through the
// REST API, with the refusals mapped to their codes, and a subscribed
// group gets the lifecycle message of a device created over REST.
func TestDeviceRegistryREST(t *testing.T) {
	e := newRegistryEnv(t)
	id := e.createGroup("lifecycle_app")
	e.want(e.do("PUT", "/api/v1/products/pk1/subscription", map[string]any{"groups": []string{id}, "kinds": []string{"lifecycle"}}), http.StatusOK, nil)

	var p struct {
		ProductKey string    `json:"productKey"`
		CreatedAt  time.Time `json:"createdAt"`
	}
	e.want(e.do("POST", "/api/v1/products", nil), http.StatusCreated, &p)
	if len(p.ProductKey) != 11 || p.CreatedAt.IsZero() {
		t.Fatalf("generated product %+v", p)
	}
	e.want(e.do("POST", "/api/v1/products", map[string]string{"productKey": "pk0"}), http.StatusCreated, &p)
	if p.ProductKey != "pk0" {
		t.Fatalf("product %+v", p)
	}

	var d deviceBody
	e.want(e.do("POST", "/api/v1/products/pk1/devices", map[string]string{"deviceName": "dev1"}), http.StatusCreated, &d)
	if d.ProductKey != "pk1" || d.DeviceName != "dev1" || len(d.DeviceSecret) != 32 || d.IotID == "" || !d.Enabled || d.CreatedAt.IsZero() {
		t.Fatalf("created %+v", d)
	}
	var gen deviceBody
	e.want(e.do("POST", "/api/v1/products/pk1/devices", nil), http.StatusCreated, &gen)
	if gen.DeviceName == "" || gen.DeviceName == "dev1" {
		t.Fatalf("generated device %+v", gen)
	}
	var got deviceBody
	e.want(e.do("GET", "/api/v1/products/pk1/devices/dev1", nil), http.StatusOK, &got)
	if got != d {
		t.Fatalf("get %+v, want %+v", got, d)
	}
	var list struct{ Devices []deviceBody }
	e.want(e.do("GET", "/api/v1/products/pk1/devices", nil), http.StatusOK, &list)
	if len(list.Devices) != 2 {
		t.Fatalf("list %+v", list)
	}
	var products struct {
		Products []struct {
			ProductKey string `json:"productKey"`
			Devices    *int   `json:"devices"`
		}
	}
	e.want(e.do("GET", "/api/v1/products", nil), http.StatusOK, &products)
	count := map[string]int{}
	for _, p := range products.Products {
		if p.Devices == nil {
			t.Fatalf("product without a device count: %+v", products)
		}
		count[p.ProductKey] = *p.Devices
	}
	if len(count) != 3 || count["pk1"] != 2 || count["pk0"] != 0 {
		t.Fatalf("products %+v", count)
	}

	e.want(e.do("POST", "/api/v1/products/pk1/devices/dev1/disable", nil), http.StatusOK, &got)
	if got.Enabled {
		t.Fatalf("disabled %+v", got)
	}
	e.want(e.do("POST", "/api/v1/products/pk1/devices/dev1/enable", nil), http.StatusOK, &got)
	if !got.Enabled {
		t.Fatalf("enabled %+v", got)
	}
	e.want(e.do("DELETE", "/api/v1/products/pk1/devices/dev1", nil), http.StatusNoContent, nil)

	e.wantError(e.do("POST", "/api/v1/products/pk1/devices", map[string]string{"deviceName": gen.DeviceName}), http.StatusConflict, console.CodeDeviceExists)
	e.wantError(e.do("GET", "/api/v1/products/pk1/devices/dev1", nil), http.StatusNotFound, console.CodeDeviceNotFound)
	e.wantError(e.do("DELETE", "/api/v1/products/pk1/devices/dev1", nil), http.StatusNotFound, console.CodeDeviceNotFound)
	e.wantError(e.do("POST", "/api/v1/products/pk1/devices/dev1/enable", nil), http.StatusNotFound, console.CodeDeviceNotFound)
	e.wantError(e.do("GET", "/api/v1/products/nope/devices", nil), http.StatusNotFound, console.CodeProductNotFound)
	e.wantError(e.do("POST", "/api/v1/products/pk1/devices", map[string]string{"deviceName": "a b"}), http.StatusBadRequest, console.CodeInvalidName)
	e.wantError(e.do("POST", "/api/v1/products", map[string]string{"productKey": "p*"}), http.StatusBadRequest, console.CodeInvalidName)
	e.wantError(e.do("POST", "/api/v1/products/pk1/devices", map[string]string{"name": "x"}), http.StatusBadRequest, console.CodeUnknownField)

	// The group saw create, disable, enable, delete of dev1, and create of
	// the generated device.
	in := make(inbox, 10)
	m, err := e.b.Join(context.Background(), id, broker.MemberInfo{ClientID: "app", Address: "192.0.2.1:1"}, in)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	m.Credit(10)
	actions := map[string]int{}
	for range 5 {
		dl := in.next(t)
		m.Settle(dl.Token, broker.Ack)
		var body struct{ Action, DeviceName string }
		if err := json.Unmarshal(dl.Message.Payload, &body); err != nil || dl.Message.Topic != "/pk1/"+body.DeviceName+"/thing/lifecycle" {
			t.Fatalf("message %s on %s: %v", dl.Message.Payload, dl.Message.Topic, err)
		}
		actions[body.DeviceName+" "+body.Action]++
	}
	for _, want := range []string{"dev1 create", "dev1 disable", "dev1 enable", "dev1 delete", gen.DeviceName + " create"} {
		if actions[want] != 1 {
			t.Fatalf("lifecycle messages %v lack %q", actions, want)
		}
	}
}

// TestDeviceRegistryOff: without Config.Devices the routes answer 404
// DevicesDisabled, and the status endpoint still works.
func TestDeviceRegistryOff(t *testing.T) {
	e := newEnv(t)
	e.wantError(e.do("GET", "/api/v1/products", nil), http.StatusNotFound, console.CodeDevicesDisabled)
	e.wantError(e.do("POST", "/api/v1/products/pk/devices", nil), http.StatusNotFound, console.CodeDevicesDisabled)
	e.want(e.do("POST", "/api/v1/devices/pk/dn/status", map[string]string{"status": "online"}), http.StatusAccepted, nil)
}
