package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"

	"github.com/amqpemu/amqpemu/vendorauth"
)

// TestTLSAndSignedAccess: serve generates a development CA in DATA/tls, amqps
// serves a certificate that verifies against it for localhost and
// --tls-hosts, and a signed sign-in consumes DEFAULT_GROUP over it.
func TestTLSAndSignedAccess(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	em := startEmulator(t, bin, dir, "--amqps", "127.0.0.1:0", "--stomps", "127.0.0.1:0", "--tls-hosts", "emulator.test",
		"--access-key-id", "ak-tls", "--access-key-secret", "sk-tls")
	pem, err := os.ReadFile(filepath.Join(dir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	for _, name := range []string{"localhost", "127.0.0.1", "emulator.test"} {
		c, err := tls.Dial("tcp", em.addrs["amqps"], &tls.Config{RootCAs: roots, ServerName: name})
		if err != nil {
			t.Fatalf("TLS as %s: %v", name, err)
		}
		c.Close()
	}

	out, err := exec.Command(bin, "publish", "--server", "http://"+em.http, "--product", "pkT", "--device", "devT", "over tls").CombinedOutput()
	if err != nil {
		t.Fatalf("publish: %v\n%s", err, out)
	}
	id := &vendorauth.Identity{AuthMode: "aksign", SignMethod: "hmacsha256", AccessKeyID: "ak-tls", Timestamp: "1573489088171"}
	pass, _ := vendorauth.Sign(id, "sk-tls")
	user := "tls-client|authMode=aksign,signMethod=hmacsha256,timestamp=1573489088171,authId=ak-tls,iotInstanceId=,consumerGroupId=DEFAULT_GROUP|"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := goamqp.Dial(ctx, "amqps://localhost:"+em.addrs["amqps"][strings.LastIndex(em.addrs["amqps"], ":")+1:],
		&goamqp.ConnOptions{SASLType: goamqp.SASLTypePlain(user, pass), TLSConfig: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, _ := conn.NewSession(ctx, nil)
	rcv, err := sess.NewReceiver(ctx, "/queue-name", &goamqp.ReceiverOptions{Credit: 20})
	if err != nil {
		t.Fatal(err)
	}
	m, err := rcv.Receive(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.GetData()) != "over tls" || m.ApplicationProperties["messageId"] != strings.TrimSpace(string(out)) {
		t.Fatalf("got %q %v", m.GetData(), m.ApplicationProperties)
	}
	rcv.AcceptMessage(ctx, m)

	// stomps serves the same certificate and the same signed sign-in.
	sc, err := tls.Dial("tcp", em.addrs["stomps"], &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	sc.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(sc, "CONNECT\naccept-version:1.2\nhost:localhost\nlogin:%s\npasscode:%s\n\n\x00", user, pass)
	reply, err := bufio.NewReader(sc).ReadString(0)
	if err != nil || !strings.HasPrefix(reply, "CONNECTED\n") {
		t.Fatalf("STOMP CONNECT answered %q, %v", reply, err)
	}

	// The same key with a wrong signature is refused.
	_, err = goamqp.Dial(ctx, "amqps://localhost:"+em.addrs["amqps"][strings.LastIndex(em.addrs["amqps"], ":")+1:],
		&goamqp.ConnOptions{SASLType: goamqp.SASLTypePlain(user, "bm90IGl0"), TLSConfig: &tls.Config{RootCAs: roots}})
	if err == nil {
		t.Fatal("a wrong signature was accepted")
	}
}
