package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"

	"github.com/amqpemu/amqpemu/internal/interop"
)

// TestRealDeviceClients: the platform's official Node.js device SDK and
// Debian's mosquitto_pub sign in to the binary's MQTT listener as devices
// registered with `amqpemu devices create`, and an AMQP consumer of a
// subscribed group receives what the platform would deliver: the status
// change, the property post converted, custom topics byte for byte.
func TestRealDeviceClients(t *testing.T) {
	clients := "../../mqtt/testdata/clients"
	_, nodeErr := exec.LookPath("node")
	_, sdkErr := os.Stat(filepath.Join(clients, "node_modules", "alibabacloud-iot-device-sdk"))
	interop.Require(t, "node and alibabacloud-iot-device-sdk", "sudo bash mqtt/testdata/clients/install.sh", nodeErr == nil && sdkErr == nil)
	_, mosqErr := exec.LookPath("mosquitto_pub")
	interop.Require(t, "mosquitto_pub", "sudo bash mqtt/testdata/clients/install.sh", mosqErr == nil)

	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir())
	server := "http://" + em.http
	mqttAddr := em.addrs["mqtt"]
	if mqttAddr == "" {
		t.Fatalf("no mqtt listener in the start-up log: %v", em.addrs)
	}
	step := func(args ...string) string {
		t.Helper()
		r := runCLI(t, bin, nil, "", append(args, "--server", server)...)
		if r.exit != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, r.exit, r.stdout, r.stderr)
		}
		return r.stdout
	}
	step("groups", "create", "device_app")
	step("subs", "set", "pkD", "--groups", "device_app", "--kinds", "data,status")
	secret := func(dn string) string {
		var d struct{ DeviceSecret string }
		if err := json.Unmarshal([]byte(step("devices", "create", "pkD", dn, "--json")), &d); err != nil || d.DeviceSecret == "" {
			t.Fatalf("devices create %s: %v", dn, err)
		}
		return d.DeviceSecret
	}
	nodeSecret, mosqSecret := secret("nodedev"), secret("mosqdev")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := goamqp.Dial(ctx, "amqp://"+em.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, _ := conn.NewSession(ctx, nil)
	rcv, err := sess.NewReceiver(ctx, "device_app", &goamqp.ReceiverOptions{Credit: 50})
	if err != nil {
		t.Fatal(err)
	}

	node := exec.CommandContext(ctx, "node", filepath.Join(clients, "node_device.js"), "mqtt://"+mqttAddr, "pkD", "nodedev", nodeSecret)
	out, err := node.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "connected") || !strings.Contains(string(out), "published") {
		t.Fatalf("node device: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"code":200`) {
		t.Errorf("the Node SDK got no property post reply:\n%s", out)
	}

	ts := "1700000000000"
	mac := hmac.New(sha256.New, []byte(mosqSecret))
	mac.Write([]byte("clientIdpkD.mosqdevdeviceNamemosqdevproductKeypkDtimestamp" + ts))
	host, port, _ := strings.Cut(mqttAddr, ":")
	pub := exec.CommandContext(ctx, "mosquitto_pub", "-h", host, "-p", port, "-V", "mqttv311", "-k", "60", "-q", "1",
		"-i", "pkD.mosqdev|securemode=3,signmethod=hmacsha256,timestamp="+ts+"|",
		"-u", "mosqdev&pkD", "-P", strings.ToUpper(hex.EncodeToString(mac.Sum(nil))),
		"-t", "/pkD/mosqdev/user/update", "-m", "hello from mosquitto")
	if out, err := pub.CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_pub: %v\n%s", err, out)
	}

	want := map[string]func(body []byte) bool{
		"/pkD/nodedev/user/update": func(b []byte) bool { return string(b) == `{"hello":"node"}` },
		"/pkD/mosqdev/user/update": func(b []byte) bool { return string(b) == "hello from mosquitto" },
		"/pkD/nodedev/thing/event/property/post": func(b []byte) bool {
			var p struct {
				DeviceName string
				Items      map[string]struct{ Value float64 }
			}
			return json.Unmarshal(b, &p) == nil && p.DeviceName == "nodedev" && p.Items["Temperature"].Value == 21.5
		},
		"/as/mqtt/status/pkD/nodedev": func(b []byte) bool {
			var s struct{ Status, ProductKey, DeviceName, ClientIP string }
			return json.Unmarshal(b, &s) == nil && (s.Status == "online" || s.Status == "offline") && s.DeviceName == "nodedev" && s.ClientIP != ""
		},
	}
	for len(want) > 0 {
		m, err := rcv.Receive(ctx, nil)
		if err != nil {
			t.Fatalf("still waiting for %v: %v", keys(want), err)
		}
		rcv.AcceptMessage(ctx, m)
		topic, _ := m.ApplicationProperties["topic"].(string)
		if ok := want[topic]; ok != nil && ok(m.GetData()) {
			delete(want, topic)
		} else if ok != nil {
			t.Errorf("%s: unexpected body %s", topic, m.GetData())
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
