package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/amqpemu/amqpemu/devicesign"
)

// TestMQTTPlainAndTLS: --mqtt takes plain TCP and TLS (the dev CA's
// certificate) on one port, as the platform's 1883 does, and --mqtts TLS on
// its own; a device signs in and publishes over each.
func TestMQTTPlainAndTLS(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	em := startEmulator(t, bin, dir, "--mqtts", "127.0.0.1:0")
	server := "http://" + em.http
	cliCase{args: []string{"groups", "create", "tls_app", "--server", server}}.run(t, bin)
	cliCase{args: []string{"subs", "set", "pkT", "--groups", "tls_app", "--server", server}}.run(t, bin)
	var dev struct{ DeviceSecret string }
	cliCase{args: []string{"devices", "create", "pkT", "dev1", "--json", "--server", server}, check: decodeInto(&dev)}.run(t, bin)

	ca, err := os.ReadFile(filepath.Join(dir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	for _, url := range []string{"tcp://" + em.addrs["mqtt"], "tls://" + em.addrs["mqtt"], "tls://" + em.addrs["mqtts"]} {
		id := "pkT.dev1"
		pw, _ := devicesign.Sign("hmacsha256", dev.DeviceSecret, devicesign.Content(id, "dev1", "pkT", ""))
		opts := paho.NewClientOptions().AddBroker(url).SetClientID(id + "|securemode=2,signmethod=hmacsha256|").
			SetUsername("dev1&pkT").SetPassword(pw).SetKeepAlive(60 * time.Second).SetAutoReconnect(false).
			SetTLSConfig(&tls.Config{RootCAs: pool})
		c := paho.NewClient(opts)
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("%s: connect: %v", url, tok.Error())
		}
		body, _ := json.Marshal(map[string]string{"over": url})
		if tok := c.Publish("/pkT/dev1/user/update", 1, false, body); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("%s: publish: %v", url, tok.Error())
		}
		c.Disconnect(100)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st apiGroupStatus
		cliCase{args: []string{"groups", "status", "tls_app", "--json", "--server", server}, check: decodeInto(&st)}.run(t, bin)
		if st.Accumulation == 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tls_app holds %d, want 3", st.Accumulation)
		}
		time.Sleep(50 * time.Millisecond) // the consumer's counts follow the stream
	}
}

// TestAutoRegisterDevices: with --auto-register-devices an unknown device
// is registered at its first sign-in and let in (again on its next one);
// without it, the same sign-in is refused.
func TestAutoRegisterDevices(t *testing.T) {
	bin := buildBinary(t)
	dial := func(addr string) error {
		opts := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("pkA.newdev|securemode=3,signmethod=hmacsha1|").
			SetUsername("newdev&pkA").SetPassword("not-a-signature").SetKeepAlive(60 * time.Second).SetAutoReconnect(false)
		c := paho.NewClient(opts)
		tok := c.Connect()
		if !tok.WaitTimeout(10 * time.Second) {
			t.Fatal("no CONNACK")
		}
		if tok.Error() == nil {
			c.Disconnect(100)
		}
		return tok.Error()
	}
	plain := startEmulator(t, bin, t.TempDir())
	if err := dial(plain.addrs["mqtt"]); err == nil {
		t.Fatal("an unknown device signed in without --auto-register-devices")
	}

	em := startEmulator(t, bin, t.TempDir(), "--auto-register-devices")
	for range 2 {
		if err := dial(em.addrs["mqtt"]); err != nil {
			t.Fatalf("auto-registered sign-in: %v", err)
		}
	}
	cliCase{args: []string{"devices", "get", "pkA", "newdev", "--server", "http://" + em.http}, want: []string{"newdev"}}.run(t, bin)
}

// TestCloudToDevice: POST …/downlink reaches the signed-in device that
// subscribed to its topic, and the read-back lists it.
func TestCloudToDevice(t *testing.T) {
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir())
	server := "http://" + em.http
	var dev struct{ DeviceSecret string }
	cliCase{args: []string{"devices", "create", "pkC", "dev1", "--json", "--server", server}, check: decodeInto(&dev)}.run(t, bin)
	pw, _ := devicesign.Sign("hmacmd5", dev.DeviceSecret, devicesign.Content("c1", "dev1", "pkC", ""))
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + em.addrs["mqtt"]).SetClientID("c1|securemode=3|").
		SetUsername("dev1&pkC").SetPassword(pw).SetKeepAlive(60 * time.Second).SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(100)
	got := make(chan string, 1)
	if tok := c.Subscribe("/pkC/dev1/user/get", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	resp, err := http.Post(server+"/api/v1/products/pkC/devices/dev1/downlink", "application/json", strings.NewReader(`{"payload":"switch on","qos":1}`))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST downlink: %v %v", resp, err)
	}
	resp.Body.Close()
	select {
	case p := <-got:
		if p != "switch on" {
			t.Fatalf("device got %q", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the device got nothing")
	}
	resp, err = http.Post(server+"/api/v1/products/pkC/devices/dev1/downlink", "application/json", strings.NewReader(`{"topic":"/pkX/other/user/get","payload":"x"}`))
	if err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("POST downlink to another device's topic: %v %v", resp, err)
	}
	resp.Body.Close()
	var back struct {
		Messages []struct{ Topic, Payload string }
	}
	r, err := http.Get(server + "/api/v1/products/pkC/devices/dev1/downlink")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(r.Body).Decode(&back)
	r.Body.Close()
	if len(back.Messages) != 1 || back.Messages[0].Payload != "switch on" || back.Messages[0].Topic != "/pkC/dev1/user/get" {
		t.Fatalf("read-back: %+v", back)
	}
}
