package stomp_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/interop"
	"github.com/amqpemu/amqpemu/stomp"
)

// stompPython returns a Python 3 interpreter that has stomp.py. Without
// one the test is skipped, but fails under CI=true.
func stompPython(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(name)
		if err == nil && exec.Command(path, "-c", "import stomp").Run() == nil {
			return path
		}
	}
	interop.Require(t, "stomp.py for python3", "sudo apt-get install -y python3-stomp", false)
	return ""
}

// received is one message as consumer.py (and the scripts in
// testdata/clients) print it.
type received struct {
	Destination     string `json:"destination"`
	MessageID       string `json:"messageId"`
	MessageIDHeader string `json:"messageIdHeader"`
	GenerateTime    string `json:"generateTime"`
	Topic           string `json:"topic"`
	Body            []byte `json:"body"` // Base64 in JSON
}

// TestStompPy runs a consumer written like the vendor's Python 3 sample
// against the server, over TCP and TLS, with raw and Base64 bodies and
// with client-individual acknowledgement.
func TestStompPy(t *testing.T) {
	python := stompPython(t)
	e := start(t, withConfig(func(c *stomp.Config) { c.Authenticator = signedAuth(false) }))
	tlsAddr, caFile := e.serveTLS(t)
	text := [][]byte{[]byte(`{"temperature":21.5,"humidity":40}`), []byte("温度 21.5 ℃ 🌡"), []byte("line\nbreak:colon\\backslash")}
	binary := [][]byte{{0, 1, 2, 3}, {0xff, 0xfe, 0x00, 0x80}, bytes.Repeat([]byte{0xc3, 0x28}, 1000)}
	tests := []struct {
		name, addr, ca, encode, ack, proto string
		hold                               string // seconds the consumer stays on after the last message
		payloads                           [][]byte
	}{
		{"tcp, staying on for heart-beats", e.addr, "", "", "auto", "", "1.5", text},
		{"tls", tlsAddr, caFile, "", "auto", "", "0", text},
		{"tls base64 binary", tlsAddr, caFile, "base64", "auto", "", "0", binary},
		{"client-individual ack, STOMP 1.1 as stomp.Connection", e.addr, "", "", "client-individual", "", "0", text},
		{"client-individual ack, stomp.Connection12", e.addr, "", "", "client-individual", "12", "0", text},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clientID := "py-" + strconv.Itoa(i)
			host, port, _ := net.SplitHostPort(tt.addr)
			cmd := exec.Command(python, filepath.Join("testdata", "consumer.py"))
			cmd.Env = append(os.Environ(), "HOST="+host, "PORT="+port, "CA="+tt.ca, "CLIENT_ID="+clientID,
				"ACCESS_KEY="+testAK, "ACCESS_SECRET="+testSecret, "GROUP="+broker.DefaultGroupID,
				"ENCODE="+tt.encode, "ACK="+tt.ack, "PROTO="+tt.proto, "HOLD="+tt.hold, "COUNT="+strconv.Itoa(len(tt.payloads)))
			py := runConsumer(t, cmd)
			e.waitMember(t, broker.DefaultGroupID, clientID)
			gen := time.UnixMilli(time.Now().UnixMilli())
			msgs := make([]broker.DeviceMessage, len(tt.payloads))
			for j, p := range tt.payloads {
				msgs[j] = broker.DeviceMessage{ProductKey: "pk", DeviceName: "dn", Topic: "/pk/dn/user/update", Payload: p, GenerateTime: gen}
			}
			ids, err := e.b.Publish(context.Background(), msgs...)
			if err != nil {
				t.Fatal(err)
			}
			got := collect(t, py.lines, len(ids))
			checkReceived(t, got, ids, tt.payloads, tt.encode == "base64", gen)
			if err := py.wait(t); err != nil {
				t.Fatalf("consumer.py: %v", err)
			}
			e.waitBacklog(t, broker.DefaultGroupID, 0)
		})
	}
}

// consumer is a running consumer script.
type consumer struct {
	cmd     *exec.Cmd
	lines   <-chan string // its stdout
	scanned chan struct{} // closed when stdout ended
}

// runConsumer starts cmd; its stderr is logged when the test ends.
func runConsumer(t *testing.T, cmd *exec.Cmd) *consumer {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	c := &consumer{cmd: cmd, lines: lines, scanned: make(chan struct{})}
	stop := make(chan struct{})
	go func() {
		defer close(c.scanned)
		defer close(lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		cmd.Process.Kill()
		<-c.scanned
		cmd.Wait() // after the reads from the pipe, as exec requires; stderr is complete after it
		if stderr.Len() > 0 {
			t.Logf("%s stderr:\n%s", filepath.Base(cmd.Args[len(cmd.Args)-1]), stderr.Bytes())
		}
	})
	return c
}

// exited reports whether the consumer's output has ended (it exited).
func (c *consumer) exited() bool {
	select {
	case <-c.scanned:
		return true
	default:
		return false
	}
}

// wait waits for the consumer to exit by itself.
func (c *consumer) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-c.scanned:
	case <-time.After(60 * time.Second):
		t.Fatal("the consumer did not exit")
	}
	return c.cmd.Wait()
}

func collect(t *testing.T, lines <-chan string, n int) []received {
	t.Helper()
	var got []received
	timeout := time.After(60 * time.Second)
	for len(got) < n {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("the consumer ended after %d of %d messages", len(got), n)
			}
			var r received
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("the consumer printed %q: %v", line, err)
			}
			got = append(got, r)
		case <-timeout:
			t.Fatalf("%d of %d messages after 60 s", len(got), n)
		}
	}
	return got
}

func checkReceived(t *testing.T, got []received, ids []string, payloads [][]byte, b64 bool, gen time.Time) {
	t.Helper()
	for _, r := range got {
		i := slices.Index(ids, r.MessageID)
		if i < 0 {
			t.Fatalf("unexpected messageId %q", r.MessageID)
		}
		want := payloads[i]
		body := r.Body
		if b64 {
			var err error
			if body, err = base64.StdEncoding.DecodeString(string(r.Body)); err != nil {
				t.Fatalf("body %q is not Base64: %v", r.Body, err)
			}
		}
		if !bytes.Equal(body, want) {
			t.Errorf("message %s: body %q, want %q", r.MessageID, body, want)
		}
		if r.Destination != "/pk/dn/user/update" || r.Topic != r.Destination || r.MessageIDHeader != r.MessageID {
			t.Errorf("headers %+v", r)
		}
		if r.GenerateTime != strconv.FormatInt(gen.UnixMilli(), 10) {
			t.Errorf("generateTime %q, want %d", r.GenerateTime, gen.UnixMilli())
		}
	}
}

// waitMember polls until clientID is online in group id.
func (e *env) waitMember(t *testing.T, id, clientID string) {
	t.Helper()
	e.waitConsumer(t, id, clientID, nil)
}

// waitConsumer polls until clientID is online in group id, failing at once
// when the consumer c (if not nil) exits first.
func (e *env) waitConsumer(t *testing.T, id, clientID string, c *consumer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c != nil && c.exited() {
			t.Fatalf("%s exited before joining %s", clientID, id)
		}
		for _, m := range e.b.Members(id) {
			if m.ClientID == clientID {
				return
			}
		}
		time.Sleep(10 * time.Millisecond) // polling the group's members
	}
	t.Fatalf("%s did not join %s", clientID, id)
}

// serveTLS serves the env's server on a second, TLS listener with a
// certificate from a throwaway CA; it returns the address and the CA file.
func (e *env) serveTLS(t *testing.T) (addr, caFile string) {
	t.Helper()
	cert, caPEM := throwawayCert(t)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	// No session tickets, as the binary serves (see devtls.ServerConfig):
	// stomp.py can lose its CONNECT to a ticket arriving mid-write.
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, SessionTicketsDisabled: true})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-served; err != nil && !errors.Is(err, stomp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve TLS: %v", err)
		}
	})
	return ln.Addr().String(), caFile
}

// throwawayCert makes a CA and a server certificate for 127.0.0.1 and
// localhost signed by it.
func throwawayCert(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "amqpemu test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}
