package brokerbackend_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
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
)

// needUAMQP returns the python3-uamqp client script, or skips the test
// when the library is missing; under CI (CI=true) a missing library fails.
func needUAMQP(t *testing.T) string {
	t.Helper()
	script, err := filepath.Abs("../../testdata/interop/uamqp_client.py")
	if err != nil {
		t.Fatal(err)
	}
	if exec.Command("/usr/bin/python3", "-c", "import uamqp").Run() != nil {
		const why = "python3-uamqp not installed (apt-get install python3-uamqp, or testdata/interop/install.sh)"
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
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
	cert, caPEM := testCert(t)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := amqp.NewServer(amqp.Config{Backend: brokerbackend.New(b), Logger: log, MaxMessageSize: uint64(b.MaxMessageSize())})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		b.Close(ctx)
	})
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return b, port, caFile
}

// testCert makes a self-signed certificate for localhost and 127.0.0.1.
func testCert(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
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
