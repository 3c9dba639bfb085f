package brokerbackend_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/brokerbackend"
	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/devtls"
	"github.com/amqpemu/amqpemu/internal/interop"
)

// needUAMQP returns the python3-uamqp client script, or skips the test
// when the library is missing; under CI (CI=true) a missing library fails.
func needUAMQP(t *testing.T) string {
	t.Helper()
	script, err := filepath.Abs("../../testdata/interop/uamqp_client.py")
	if err != nil {
		t.Fatal(err)
	}
	interop.Require(t, "python3-uamqp", "sudo bash testdata/interop/install.sh",
		exec.Command("/usr/bin/python3", "-c", "import uamqp").Run() == nil)
	return script
}

// startTLS runs a broker and an AMQP server on a TLS listener whose
// certificate (for localhost) is signed by the CA it writes to a file.
func startTLS(t *testing.T) (b *broker.Broker, port, caFile string) {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := broker.Open(ctx, broker.Config{DataDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	tlsMat, err := devtls.Ensure(t.TempDir(), nil) // a CA and a certificate for localhost and 127.0.0.1
	if err != nil {
		t.Fatal(err)
	}
	cert, caFile := tlsMat.Certificate, tlsMat.CAFile
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	serve(t, b, amqp.Config{Backend: brokerbackend.New(b), Logger: log, MaxMessageSize: uint64(b.MaxMessageSize())}, ln)
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return b, port, caFile
}

// runUAMQP runs the client script and returns its success line.
func runUAMQP(t *testing.T, script string, args ...string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", append([]string{script}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("uamqp_client %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil || res["ok"] != true {
		t.Fatalf("uamqp_client %s: no success line (%v):\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return res
}

// TestUAMQP drives python3-uamqp, which puts the whole URI in the link
// address and asks rcv-settle-mode second on its senders: it receives
// device messages from DEFAULT_GROUP, sends to a generic queue and
// receives from it, accepting each message.
func TestUAMQP(t *testing.T) {
	script := needUAMQP(t)
	b, port, ca := startTLS(t)
	base := "amqps://localhost:" + port + "/"
	ctx := ctxT(t)
	if _, err := b.Publish(ctx,
		broker.DeviceMessage{ProductKey: "pk1", DeviceName: "dev1", Topic: "/pk1/dev1/user/u", Payload: []byte("dev-0")},
		broker.DeviceMessage{ProductKey: "pk1", DeviceName: "dev1", Topic: "/pk1/dev1/user/u", Payload: []byte("dev-1")},
	); err != nil {
		t.Fatal(err)
	}
	check := func(res map[string]any, want ...string) {
		t.Helper()
		var got []string
		for _, v := range res["bodies"].([]any) {
			got = append(got, v.(string))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("received %q, want %q", got, want)
		}
	}
	check(runUAMQP(t, script, "--url", base+broker.DefaultGroupID, "--ca", ca, "--mode", "receive", "--count", "2"), "dev-0", "dev-1")
	// Accepted: nothing is left for the group.
	waitBacklog(t, b, broker.DefaultGroupID)

	runUAMQP(t, script, "--url", base+"my_queue", "--ca", ca, "--mode", "send", "--count", "3")
	check(runUAMQP(t, script, "--url", base+"my_queue", "--ca", ca, "--mode", "receive", "--count", "3"), "uamqp-0", "uamqp-1", "uamqp-2")
}

// waitBacklog waits until the group has no messages left, delivered or not.
func waitBacklog(t *testing.T, b *broker.Broker, group string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := b.GroupStats(ctxT(t), group)
		if err != nil {
			t.Fatal(err)
		}
		if st.Accumulation == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s still holds %d messages", group, st.Accumulation)
		}
		time.Sleep(20 * time.Millisecond) // polling the broker's counters
	}
}
