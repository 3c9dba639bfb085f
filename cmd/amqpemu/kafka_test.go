package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"testing"
	"time"

	alikafkasdk "github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/amqpemu/amqpemu/devicesign"
)

// TestKafkaThroughBinary: with --kafka the listener is up and listed in
// /api/v1/info; device messages sent over the REST API and over MQTT are
// consumed from topic pk by a franz-go group consumer (beside the device's
// status and lifecycle messages, told apart by the kind header).
func TestKafkaThroughBinary(t *testing.T) {
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir(), "--kafka", "127.0.0.1:0")
	server := "http://" + em.http
	var info struct{ Listeners map[string]string }
	resp, err := http.Get(server + "/api/v1/info")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if info.Listeners["kafka"] == "" || info.Listeners["kafka"] != em.addrs["kafka"] {
		t.Fatalf("info listeners %v, start-up log %v", info.Listeners, em.addrs)
	}

	body, _ := json.Marshal([]map[string]string{{"productKey": "pkK", "deviceName": "d1", "payload": "rest"}})
	resp, err = http.Post(server+"/api/v1/messages", "application/json", bytes.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /api/v1/messages: %v %v", err, resp.Status)
	}
	resp.Body.Close()
	var dev struct{ DeviceSecret string }
	cliCase{args: []string{"devices", "create", "pkK", "d2", "--json", "--server", server}, check: decodeInto(&dev)}.run(t, bin)
	pw, _ := devicesign.Sign("hmacsha256", dev.DeviceSecret, devicesign.Content("pkK.d2", "d2", "pkK", ""))
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + em.addrs["mqtt"]).SetClientID("pkK.d2|securemode=2,signmethod=hmacsha256|").
		SetUsername("d2&pkK").SetPassword(pw).SetAutoReconnect(false))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt connect: %v", tok.Error())
	}
	if tok := c.Publish("/pkK/d2/user/update", 1, false, []byte("mqtt")); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt publish: %v", tok.Error())
	}
	c.Disconnect(100)

	if got := consumeData(t, em.addrs["kafka"], 2); got[0] != "d1=rest" || got[1] != "d2=mqtt" {
		t.Fatalf("consumed %v", got)
	}

	// The Kafka control plane at / of --http, with the alikafka SDK: the
	// group (empty again) goes back to the earliest offsets.
	kc, err := alikafkasdk.NewClientWithAccessKey("cn-hangzhou", defaultAccessKeyID, defaultAccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	kc.Domain = em.http
	req := alikafkasdk.CreateUpdateConsumerOffsetRequest()
	req.InstanceId, req.ConsumerId, req.Topic, req.Time = "alikafka-any", "app", "pkK", "-2"
	if resp, err := kc.UpdateConsumerOffset(req); err != nil || !resp.Success {
		t.Fatalf("UpdateConsumerOffset: %v %+v", err, resp)
	}
	if got := consumeData(t, em.addrs["kafka"], 2); len(got) != 2 {
		t.Fatalf("after the reset: %v", got)
	}
}

// consumeData consumes topic pkK in group app until n data messages came,
// commits and leaves; it answers them as device=payload, sorted.
func consumeData(t *testing.T, addr string, n int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup("app"), kgo.ConsumeTopics("pkK"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []string
	for len(got) < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			for _, h := range r.Headers {
				if h.Key == "kind" && string(h.Value) == "data" {
					got = append(got, string(r.Key)+"="+string(r.Value))
				}
			}
		})
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil || len(got) != n {
		t.Fatalf("consumed %v (want %d), commit: %v", got, n, err)
	}
	sort.Strings(got)
	return got
}
