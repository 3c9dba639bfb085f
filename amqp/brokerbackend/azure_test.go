package brokerbackend_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/brokerbackend"
	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/interop"
)

// The access key the Azure SDK tests sign their tokens with, as the server
// is configured with --access-key-id/--access-key-secret.
const (
	azKeyName = "amqpemu-dev-key"
	azKey     = "amqpemu-dev-secret"
)

// startAzure runs a broker and an AMQP server whose $cbs accepts tokens
// signed with azKeyName/azKey.
func startAzure(t testing.TB) *env {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := broker.Open(ctx, broker.Config{DataDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	be := brokerbackend.New(b, brokerbackend.WithSASKeys(brokerbackend.SASKey{Name: azKeyName, Key: azKey}), brokerbackend.WithLogger(log))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, b, amqp.Config{Backend: be, Logger: log}, ln)
	return &env{b: b, addr: ln.Addr().String()}
}

// azConnString is a Service Bus connection string for the emulator at addr:
// UseDevelopmentEmulator=true makes the SDK use plain AMQP on the
// endpoint's port (amqp://host:port/, no TLS).
func azConnString(addr, keyName, key string) string {
	return fmt.Sprintf("Endpoint=sb://%s;SharedAccessKeyName=%s;SharedAccessKey=%s;UseDevelopmentEmulator=true", addr, keyName, key)
}

func azClient(t *testing.T, connStr string) *azservicebus.Client {
	t.Helper()
	c, err := azservicebus.NewClientFromConnectionString(connStr, &azservicebus.ClientOptions{
		// A refused token must surface, not be retried for minutes.
		RetryOptions: azservicebus.RetryOptions{MaxRetries: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return c
}

// receiveAll receives n messages from a Service Bus receiver, completing
// each, and returns them in order of arrival.
func receiveAll(t *testing.T, ctx context.Context, r *azservicebus.Receiver, n int) []*azservicebus.ReceivedMessage {
	t.Helper()
	var got []*azservicebus.ReceivedMessage
	for i := 0; len(got) < n && i < 100; i++ {
		ms, err := r.ReceiveMessages(ctx, n-len(got), nil)
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		for _, m := range ms {
			if err := r.CompleteMessage(ctx, m, nil); err != nil {
				t.Fatalf("complete %s: %v", m.MessageID, err)
			}
		}
		got = append(got, ms...)
	}
	if len(got) != n {
		t.Fatalf("received %d messages, want %d", len(got), n)
	}
	return got
}

// TestAzureServiceBusGoQueue: the Go Service Bus SDK puts its token to $cbs,
// sends to a generic queue (one by one and as a batch), receives and
// completes; the completed messages are gone from the queue.
func TestAzureServiceBusGoQueue(t *testing.T) {
	e := startAzure(t)
	ctx := ctxT(t)
	c := azClient(t, azConnString(e.addr, azKeyName, azKey))
	snd, err := c.NewSender("orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := func(i int) *azservicebus.Message {
		return &azservicebus.Message{Body: []byte(fmt.Sprintf("order %d", i)), ApplicationProperties: map[string]any{"n": int64(i)}}
	}
	for i := range 3 {
		if err := snd.SendMessage(ctx, msg(i), nil); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	// A batch (message-format 0x80013700) becomes one message per entry.
	batch, err := snd.NewMessageBatch(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 3; i < 5; i++ {
		if err := batch.AddMessage(msg(i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := snd.SendMessageBatch(ctx, batch, nil); err != nil {
		t.Fatalf("send batch: %v", err)
	}
	rcv, err := c.NewReceiverForQueue("orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := receiveAll(t, ctx, rcv, 5)
	seen := map[string]bool{}
	for _, m := range got {
		seen[string(m.Body)] = true
	}
	for i := range 5 {
		if !seen[fmt.Sprintf("order %d", i)] {
			t.Fatalf("order %d not received; got %v", i, seen)
		}
	}
	if n, ok := got[0].ApplicationProperties["n"].(int64); !ok || n < 0 || n > 4 {
		t.Fatalf("application property n = %#v", got[0].ApplicationProperties["n"])
	}
	for i, m := range got {
		if m.LockedUntil == nil || m.SequenceNumber == nil {
			t.Fatalf("message %d: locked-until %v sequence-number %v, want both (x-opt- annotations)", i, m.LockedUntil, m.SequenceNumber)
		}
	}
	rcv.Close(ctx)
	e.assertQueueEmpty(t, "orders")
}

// assertQueueEmpty checks that a plain AMQP receiver on a generic queue
// gets nothing: the messages completed over the Azure SDK were acked. A
// message still unacked would come at once; the wait only bounds the check.
func (e *env) assertQueueEmpty(t *testing.T, addr string) {
	t.Helper()
	_, sess := e.session(t)
	rcv, err := sess.NewReceiver(ctxT(t), addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctxT(t), 2*time.Second)
	defer cancel()
	if m, err := rcv.Receive(ctx, nil); err == nil {
		t.Fatalf("after complete, %s still holds a message: %v", addr, m.GetData())
	}
}

// TestAzureServiceBusGoConsumerGroup: the Go SDK receives and completes
// device messages from DEFAULT_GROUP, and from a created group named by its
// id and by its name.
func TestAzureServiceBusGoConsumerGroup(t *testing.T) {
	e := startAzure(t)
	ctx := ctxT(t)
	g, err := e.b.CreateGroup(ctx, "azure_group")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.b.SetSubscription(ctx, "pk1", broker.Subscription{Groups: []string{broker.DefaultGroupID, g.ID}, Kinds: []string{broker.KindData}}); err != nil {
		t.Fatal(err)
	}
	c := azClient(t, azConnString(e.addr, azKeyName, azKey))
	check := func(t *testing.T, entity string, ids []string) {
		t.Helper()
		rcv, err := c.NewReceiverForQueue(entity, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rcv.Close(ctx)
		got := receiveAll(t, ctx, rcv, len(ids))
		want := map[string]bool{}
		for _, id := range ids {
			want[id] = true
		}
		for i, m := range got {
			if m.ApplicationProperties["topic"] != "/pk1/dev1/user/update" || !want[m.MessageID] {
				t.Fatalf("%s message %d: id %q topic %v, want one of %v on /pk1/dev1/user/update", entity, i, m.MessageID, m.ApplicationProperties["topic"], ids)
			}
			delete(want, m.MessageID)
			if m.LockedUntil == nil || m.EnqueuedTime == nil || m.SequenceNumber == nil {
				t.Fatalf("%s message %d: locked-until %v enqueued-time %v sequence-number %v, want all three", entity, i, m.LockedUntil, m.EnqueuedTime, m.SequenceNumber)
			}
		}
	}
	ids := e.publish(t, 2) // to DEFAULT_GROUP and the group
	check(t, broker.DefaultGroupID, ids)
	check(t, g.ID, ids)
	check(t, g.Name, e.publish(t, 2))
}

// TestAzureServiceBusGoBadKey: a token signed with the wrong key, or naming
// an unknown key, is refused by $cbs and the SDK reports unauthorized
// access instead of waiting for a reply that never comes.
func TestAzureServiceBusGoBadKey(t *testing.T) {
	e := startAzure(t)
	for name, cs := range map[string]string{
		"wrong-secret": azConnString(e.addr, azKeyName, "not-the-secret"),
		"unknown-key":  azConnString(e.addr, "someone-else", azKey),
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
			defer cancel()
			c := azClient(t, cs)
			snd, err := c.NewSender("orders", nil)
			if err != nil {
				t.Fatal(err)
			}
			err = snd.SendMessage(ctx, &azservicebus.Message{Body: []byte("x")}, nil)
			var sbErr *azservicebus.Error
			if !errors.As(err, &sbErr) || sbErr.Code != azservicebus.CodeUnauthorizedAccess {
				t.Fatalf("send with a bad key: %v (%T), want an azservicebus.Error with code %q", err, err, azservicebus.CodeUnauthorizedAccess)
			}
		})
	}
}

// azureNode returns the path of a script in testdata/azure, or skips the
// test when @azure/service-bus is not installed there (under CI=true a
// missing SDK fails instead, so CI never skips).
func azureNode(t *testing.T, pkg, script string) string {
	t.Helper()
	dir, err := filepath.Abs("../../testdata/azure")
	if err != nil {
		t.Fatal(err)
	}
	_, errNode := exec.LookPath("node")
	_, errPkg := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json"))
	interop.Require(t, pkg, "bash testdata/azure/install.sh", errNode == nil && errPkg == nil)
	return filepath.Join(dir, script)
}

// runNode runs a testdata/azure script and returns its JSON result line,
// failing the test unless it reports ok.
func runNode(t *testing.T, ctx context.Context, script string, args ...string) map[string]any {
	t.Helper()
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	out, err := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res map[string]any
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &res); jerr != nil || err != nil || res["ok"] != true {
		t.Fatalf("node %s %s: %v\n%s", filepath.Base(script), strings.Join(args, " "), err, out)
	}
	return res
}

// TestAzureServiceBusNode: @azure/service-bus 7.9.5 puts its token to $cbs
// (replies addressed to its receiver's link name), sends to a generic queue
// and receives + completes in peek-lock mode, receives + completes device
// messages from DEFAULT_GROUP, and reports UnauthorizedAccess for a bad key.
func TestAzureServiceBusNode(t *testing.T) {
	script := azureNode(t, "@azure/service-bus", "servicebus.js")
	e := startAzure(t)
	ctx, cancel := context.WithTimeout(ctxT(t), 25*time.Second)
	defer cancel()
	cs := azConnString(e.addr, azKeyName, azKey)

	res := runNode(t, ctx, script, "--connection-string", cs, "--entity", "node-orders", "--mode", "roundtrip", "--count", "3")
	got, _ := res["received"].([]any)
	bodies := map[string]bool{}
	for _, m := range got {
		m, _ := m.(map[string]any)
		if id, _ := m["messageId"].(string); id == "" {
			t.Fatalf("queue message without a message-id: %v", m)
		}
		b, _ := m["body"].(string)
		bodies[b] = true
	}
	if len(got) != 3 || !bodies["msg 0"] || !bodies["msg 1"] || !bodies["msg 2"] {
		t.Fatalf("roundtrip received %v", res["received"])
	}
	e.assertQueueEmpty(t, "node-orders")

	ids := e.publish(t, 2)
	res = runNode(t, ctx, script, "--connection-string", cs, "--entity", broker.DefaultGroupID, "--mode", "receive", "--count", "2")
	got, _ = res["received"].([]any)
	seen := map[string]bool{}
	for _, m := range got {
		m, _ := m.(map[string]any)
		id, _ := m["messageId"].(string)
		seen[id] = true
	}
	if len(got) != 2 || !seen[ids[0]] || !seen[ids[1]] {
		t.Fatalf("DEFAULT_GROUP received %v, want ids %v", res["received"], ids)
	}

	res = runNode(t, ctx, script, "--connection-string", azConnString(e.addr, azKeyName, "wrong"), "--entity", "node-orders", "--mode", "badkey")
	if res["refused"] != "UnauthorizedAccess" {
		t.Fatalf("bad key: %v", res)
	}
}

// TestAzureEventHubsNode: @azure/event-hubs 6.0.4 reads the hub's partition
// ids from $management (one partition, "0"), consumes device messages from
// the consumer group $Default (DEFAULT_GROUP) and from a group named by its
// name, is refused for a bad key, and gets not-found for an unknown group.
func TestAzureEventHubsNode(t *testing.T) {
	script := azureNode(t, "@azure/event-hubs", "eventhubs.js")
	e := startAzure(t)
	ctx, cancel := context.WithTimeout(ctxT(t), 25*time.Second)
	defer cancel()
	g, err := e.b.CreateGroup(ctx, "hub_readers")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.b.SetSubscription(ctx, "pk1", broker.Subscription{Groups: []string{broker.DefaultGroupID, g.ID}, Kinds: []string{broker.KindData}}); err != nil {
		t.Fatal(err)
	}
	cs := azConnString(e.addr, azKeyName, azKey)

	res := runNode(t, ctx, script, "--connection-string", cs, "--hub", "iot", "--mode", "properties")
	if ids, _ := res["partitionIds"].([]any); len(ids) != 1 || ids[0] != "0" || res["name"] != "iot" {
		t.Fatalf("hub properties %v", res)
	}

	ids := e.publish(t, 2)
	for _, group := range []string{"$Default", g.Name} {
		res = runNode(t, ctx, script, "--connection-string", cs, "--hub", "iot", "--consumer-group", group, "--mode", "consume", "--count", "2")
		got, _ := res["received"].([]any)
		seen := map[string]bool{}
		for _, ev := range got {
			ev, _ := ev.(map[string]any)
			id, _ := ev["messageId"].(string)
			seen[id] = true
			if ev["partitionId"] != "0" || ev["offset"] == nil || ev["sequenceNumber"] == nil {
				t.Fatalf("%s: event %v, want partition 0 with offset and sequence number", group, ev)
			}
		}
		if len(got) != 2 || !seen[ids[0]] || !seen[ids[1]] {
			t.Fatalf("%s received %v, want ids %v", group, res["received"], ids)
		}
	}

	res = runNode(t, ctx, script, "--connection-string", azConnString(e.addr, azKeyName, "wrong"), "--hub", "iot", "--mode", "badkey")
	if res["refused"] != "UnauthorizedError" {
		t.Fatalf("bad key: %v", res)
	}
}
