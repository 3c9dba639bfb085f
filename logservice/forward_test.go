package logservice

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	consumerLibrary "github.com/aliyun/aliyun-log-go-sdk/consumer"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/brokertest"
)

// forwarded collects the logs consumer-library workers read, by messageId.
type forwarded struct {
	mu   sync.Mutex
	logs map[string]forwardedLog
}

type forwardedLog struct {
	topic, source string
	time          uint32
	contents      map[string]string
}

func (f *forwarded) process(shard int, gl *sls.LogGroupList, tracker consumerLibrary.CheckPointTracker) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range gl.LogGroups {
		for _, l := range g.Logs {
			fl := forwardedLog{topic: g.GetTopic(), source: g.GetSource(), time: l.GetTime(), contents: map[string]string{}}
			for _, c := range l.Contents {
				fl.contents[c.GetKey()] = c.GetValue()
			}
			f.logs[fl.contents["messageId"]] = fl
		}
	}
	tracker.SaveCheckPoint(true)
	return "", nil
}

func (f *forwarded) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.logs)
}

// payloadOf is a forwarded log's payload, from its text or base64 content.
func payloadOf(t *testing.T, l forwardedLog) []byte {
	t.Helper()
	if p, ok := l.contents["payload"]; ok {
		return []byte(p)
	}
	p, err := base64.StdEncoding.DecodeString(l.contents["payloadBase64"])
	if err != nil {
		t.Fatalf("payloadBase64 of %s: %v", l.contents["messageId"], err)
	}
	return p
}

// TestForwardDeviceMessages: a rule sends a product's data messages into a
// logstore, where the consumer library reads each back as one log with
// the payload byte-exact (text as text, binary as base64); other products
// and kinds stay out; rules to a missing logstore are refused; after a
// restart the rule is there and forwarding resumes, losing nothing
// published while the server was down.
func TestForwardDeviceMessages(t *testing.T) {
	skipUnderRace(t)
	dir := t.TempDir()
	b := brokertest.Open(t, dir)
	hs, srv := startServerS(t, b)
	c := sdkClient(t, hs, testAK, testSecret)
	setUp(t, c, "iot-project", "device-data", 2)
	ctx := t.Context()

	for _, bad := range []struct {
		rule ForwardRule
		want error
	}{
		{ForwardRule{ProductKey: "pk.fwd", Project: "no-project", Logstore: "device-data"}, ErrProjectNotFound},
		{ForwardRule{ProductKey: "pk.fwd", Project: "iot-project", Logstore: "no-logstore"}, ErrLogstoreNotFound},
		{ForwardRule{ProductKey: "pk fwd", Project: "iot-project", Logstore: "device-data"}, broker.ErrInvalidName},
		{ForwardRule{ProductKey: "pk.fwd", Project: "Iot", Logstore: "device-data"}, broker.ErrInvalidName},
		{ForwardRule{ProductKey: "pk.fwd", Project: "iot-project", Logstore: "a.b"}, broker.ErrInvalidName},
		{ForwardRule{ProductKey: "pk.fwd", Project: "iot-project", Logstore: "device-data", Kinds: []string{"nope"}}, broker.ErrInvalidArgument},
		{ForwardRule{ProductKey: "pk.fwd", Project: "iot-project", Logstore: "device-data", Kinds: []string{"data", "data"}}, broker.ErrInvalidArgument},
	} {
		if _, err := srv.SetForward(ctx, bad.rule); !errors.Is(err, bad.want) {
			t.Errorf("SetForward(%+v) = %v; want %v", bad.rule, err, bad.want)
		}
	}
	if _, err := srv.Forward(ctx, "pk.fwd"); !errors.Is(err, ErrForwardNotFound) {
		t.Fatalf("Forward before any rule: %v", err)
	}
	rule, err := srv.SetForward(ctx, ForwardRule{ProductKey: "pk.fwd", Project: "iot-project", Logstore: "device-data"})
	if err != nil || len(rule.Kinds) != 1 || rule.Kinds[0] != broker.KindData || rule.CreatedAt.IsZero() {
		t.Fatalf("SetForward = %+v, %v", rule, err)
	}

	binary := []byte{0xff, 0x00, 0xfe, 'x', 0x80}
	sent := []broker.DeviceMessage{
		{ProductKey: "pk.fwd", DeviceName: "dev-1", Payload: []byte(`{"temp":21.5}`)},
		{ProductKey: "pk.fwd", DeviceName: "dev-2", Topic: "/pk.fwd/dev-2/user/bin", Payload: binary},
		{ProductKey: "pk.fwd", DeviceName: "dev-1", Payload: []byte("")},
	}
	for i := range 20 {
		sent = append(sent, broker.DeviceMessage{ProductKey: "pk.fwd", DeviceName: "dev-" + strconv.Itoa(i%5), Payload: []byte(fmt.Sprintf("reading %d", i))})
	}
	ids, err := b.Publish(ctx, sent...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx,
		broker.DeviceMessage{ProductKey: "other", DeviceName: "dev-1", Payload: []byte("not mine")},
		broker.DeviceMessage{ProductKey: "pk.fwd", DeviceName: "dev-1", Kind: broker.KindStatus, Payload: []byte(`{"status":"online"}`)}); err != nil {
		t.Fatal(err)
	}

	got := &forwarded{logs: map[string]forwardedLog{}}
	inLogstore := func(cfg *consumerLibrary.LogHubConfig) {
		cfg.Project, cfg.Logstore, cfg.ConsumerGroupName = "iot-project", "device-data", "forwarded"
	}
	w := startWorkerFunc(t, hs, "reader", got.process, inLogstore)
	waitFor(t, "every forwarded message", 30*time.Second, func() bool { return got.count() >= len(sent) })
	w.StopAndWait()
	checkForwarded(t, got, sent, ids)
	if got.count() != len(sent) {
		t.Errorf("read %d logs; want only the %d data messages of pk.fwd", got.count(), len(sent))
	}
	if rules, err := srv.Forwards(ctx); err != nil || len(rules) != 1 || rules[0].Backlog != 0 {
		t.Fatalf("Forwards = %+v, %v; want the one rule, nothing left to forward", rules, err)
	}

	// Down: what is published meanwhile is forwarded after the restart.
	srv.Close()
	srv.Close() // idempotent
	more := []broker.DeviceMessage{{ProductKey: "pk.fwd", DeviceName: "dev-9", Payload: []byte("while down")}}
	moreIDs, err := b.Publish(ctx, more...)
	if err != nil {
		t.Fatal(err)
	}
	b.Close(ctx)
	b = brokertest.Open(t, dir)
	hs, srv = startServerS(t, b)
	if err := srv.StartForwards(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if r, err := srv.Forward(ctx, "pk.fwd"); err != nil || r.Project != "iot-project" || r.Logstore != "device-data" || !r.CreatedAt.Equal(rule.CreatedAt) {
		t.Fatalf("after the restart Forward = %+v, %v; want %+v", r, err, rule)
	}
	after := []broker.DeviceMessage{{ProductKey: "pk.fwd", DeviceName: "dev-9", Payload: []byte("after the restart")}}
	afterIDs, err := b.Publish(ctx, after...)
	if err != nil {
		t.Fatal(err)
	}
	got2 := &forwarded{logs: map[string]forwardedLog{}}
	w = startWorkerFunc(t, hs, "reader", got2.process, inLogstore)
	defer w.StopAndWait()
	waitFor(t, "the messages since the restart", 30*time.Second, func() bool { return got2.count() >= 2 })
	checkForwarded(t, got2, append(more, after...), append(moreIDs, afterIDs...))

	// Deleting the logstore deletes the rule that feeds it.
	if err := sdkClient(t, hs, testAK, testSecret).DeleteLogStore("iot-project", "device-data"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Forward(ctx, "pk.fwd"); !errors.Is(err, ErrForwardNotFound) {
		t.Fatalf("Forward after its logstore went: %v", err)
	}
	if err := srv.DeleteForward(ctx, "pk.fwd"); !errors.Is(err, ErrForwardNotFound) {
		t.Fatalf("DeleteForward of no rule: %v", err)
	}
}

// checkForwarded checks that got holds each of sent, with ids, as the
// forwarding writes it.
func checkForwarded(t *testing.T, got *forwarded, sent []broker.DeviceMessage, ids []string) {
	t.Helper()
	got.mu.Lock()
	defer got.mu.Unlock()
	for i, m := range sent {
		l, ok := got.logs[ids[i]]
		if !ok {
			t.Errorf("message %d (%s) was not forwarded", i, ids[i])
			continue
		}
		topic := m.Topic
		if topic == "" {
			topic = "/" + m.ProductKey + "/" + m.DeviceName + "/user/update"
		}
		if p := payloadOf(t, l); !bytes.Equal(p, m.Payload) {
			t.Errorf("message %d: payload %q; want %q", i, p, m.Payload)
		}
		if l.topic != topic || l.source != m.DeviceName || l.contents["productKey"] != m.ProductKey ||
			l.contents["deviceName"] != m.DeviceName || l.contents["kind"] != "data" || l.contents["topic"] != topic {
			t.Errorf("message %d: log %+v; want topic %s from %s of %s", i, l, topic, m.DeviceName, m.ProductKey)
		}
		ms, err := strconv.ParseInt(l.contents["generateTime"], 10, 64)
		if err != nil || ms/1000 != int64(l.time) || time.Since(time.UnixMilli(ms)) > time.Minute {
			t.Errorf("message %d: generateTime %q, log time %d", i, l.contents["generateTime"], l.time)
		}
	}
}

// TestForwardReplaced: a replaced rule sends what comes next to its new
// logstore and nothing more to the old one.
func TestForwardReplaced(t *testing.T) {
	b := brokertest.Open(t, t.TempDir())
	hs, srv := startServerS(t, b)
	t.Cleanup(srv.Close)
	c := sdkClient(t, hs, testAK, testSecret)
	setUp(t, c, "iot-project", "first", 1)
	if err := c.CreateLogStore("iot-project", "second", 1, 1, false, 0); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := srv.SetForward(ctx, ForwardRule{ProductKey: "pk1", Project: "iot-project", Logstore: "first"}); err != nil {
		t.Fatal(err)
	}
	count := func(logstore string) int { return len(pullShard(t, c, "iot-project", logstore, 0)) }
	if _, err := b.Publish(ctx, broker.DeviceMessage{ProductKey: "pk1", DeviceName: "d", Payload: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first message in first", 10*time.Second, func() bool { return count("first") == 1 })
	if _, err := srv.SetForward(ctx, ForwardRule{ProductKey: "pk1", Project: "iot-project", Logstore: "second", Kinds: []string{"data", "status"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, broker.DeviceMessage{ProductKey: "pk1", DeviceName: "d", Payload: []byte("2")},
		broker.DeviceMessage{ProductKey: "pk1", DeviceName: "d", Kind: broker.KindStatus, Payload: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both new messages in second", 10*time.Second, func() bool { return count("second") == 2 })
	if n := count("first"); n != 1 {
		t.Errorf("first holds %d logs after the rule moved; want 1", n)
	}
	if rules, err := srv.Forwards(ctx); err != nil || len(rules) != 1 || rules[0].Logstore != "second" || len(rules[0].Kinds) != 2 {
		t.Errorf("Forwards = %+v, %v", rules, err)
	}
}
