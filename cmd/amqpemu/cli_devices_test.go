package main

import (
	"strings"
	"testing"
)

// TestCLIDevices drives `amqpemu devices` (the built binary) against a
// running emulator: create (table with the triple, --json, a generated
// name), list, get, products, disable and enable, delete, and the API's
// refusals as one line and exit 1.
func TestCLIDevices(t *testing.T) {
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir())
	server := "http://" + em.http
	step := func(c cliCase) {
		t.Helper()
		c.args = append(c.args, "--server", server)
		c.run(t, bin)
	}

	step(cliCase{args: []string{"devices", "create", "pk1", "sensor-01"}, want: []string{"PRODUCT", "DEVICE", "SECRET", "pk1", "sensor-01", "true"}})
	var d apiDevice
	step(cliCase{args: []string{"devices", "create", "pk1", "--json"}, check: decodeInto(&d)})
	if d.ProductKey != "pk1" || d.DeviceName == "" || len(d.DeviceSecret) != 32 || d.IotID == "" || !d.Enabled {
		t.Fatalf("create --json: %+v", d)
	}
	step(cliCase{args: []string{"devices", "get", "pk1", d.DeviceName}, want: []string{d.DeviceName, d.DeviceSecret, d.IotID}})
	step(cliCase{args: []string{"devices", "list", "pk1"}, want: []string{"sensor-01", d.DeviceName}})
	var list struct{ Devices []apiDevice }
	step(cliCase{args: []string{"devices", "list", "pk1", "--json"}, check: decodeInto(&list)})
	if len(list.Devices) != 2 {
		t.Fatalf("list --json: %+v", list)
	}
	step(cliCase{args: []string{"devices", "products"}, want: []string{"PRODUCT", "DEVICES", "CREATED"}, check: func(t *testing.T, out string) {
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			found = found || len(f) == 3 && f[0] == "pk1" && f[1] == "2"
		}
		if !found {
			t.Errorf("products table lacks pk1 with 2 devices:\n%s", out)
		}
	}})

	var off apiDevice
	step(cliCase{args: []string{"devices", "disable", "pk1", "sensor-01", "--json"}, check: decodeInto(&off)})
	if off.Enabled || off.DeviceName != "sensor-01" {
		t.Fatalf("disable: %+v", off)
	}
	step(cliCase{args: []string{"devices", "enable", "pk1", "sensor-01"}, want: []string{"sensor-01", "true"}})
	step(cliCase{args: []string{"devices", "delete", "pk1", "sensor-01"}, want: []string{"deleted device sensor-01 of product pk1"}})
	step(cliCase{args: []string{"devices", "delete", "pk1", d.DeviceName, "--json"}, want: []string{`"ok": true`}})
	step(cliCase{args: []string{"devices", "list", "pk1"}, want: []string{"no devices in product pk1"}})

	// Refusals: the API's code and message, one line, exit 1.
	step(cliCase{args: []string{"devices", "get", "pk1", "sensor-01"}, exit: 1, wantErr: []string{"amqpemu devices get: DeviceNotFound: ", `"sensor-01"`}})
	step(cliCase{args: []string{"devices", "create", "pk1", "a*b"}, exit: 1, wantErr: []string{"amqpemu devices create: InvalidName: "}})
	step(cliCase{args: []string{"devices", "list", "nope"}, exit: 1, wantErr: []string{"amqpemu devices list: ProductNotFound: "}})
	step(cliCase{args: []string{"devices", "create", "pk1", "dup"}})
	step(cliCase{args: []string{"devices", "create", "pk1", "dup"}, exit: 1, wantErr: []string{"amqpemu devices create: DeviceExists: "}})
}
