package stomp_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/interop"
)

// Interop with the STOMP 1.0 clients other consumers are written with: node's
// stomp-client, Perl's Net::Stomp and PHP's PECL stomp extension, installed
// by testdata/clients/install.sh. Each is skipped when missing, but fails
// under CI=true.

// missingClient skips t locally, or fails it under CI=true, for a client
// that is not installed.
func missingClient(t *testing.T, client string) {
	t.Helper()
	interop.Require(t, client, "sudo bash stomp/testdata/clients/install.sh", false)
}

// interopClient is how to run one client's consumer script.
type interopClient struct {
	name   string
	lookup func(t *testing.T) []string // the command line, or skip
}

var interopClients = []interopClient{
	{"node stomp-client", func(t *testing.T) []string {
		node, err := exec.LookPath("node")
		if err != nil {
			missingClient(t, "node")
		}
		if _, err := os.Stat(filepath.Join("testdata", "clients", "node_modules", "stomp-client", "package.json")); err != nil {
			missingClient(t, "node stomp-client (stomp/testdata/clients/node_modules)")
		}
		return []string{node, filepath.Join("testdata", "clients", "node_consumer.js")}
	}},
	{"perl Net::Stomp", func(t *testing.T) []string {
		perl, err := exec.LookPath("perl")
		if err != nil || exec.Command(perl, "-MNet::Stomp", "-e1").Run() != nil {
			missingClient(t, "Perl's Net::Stomp (Debian: libnet-stomp-perl)")
		}
		return []string{perl, filepath.Join("testdata", "clients", "perl_consumer.pl")}
	}},
	{"php PECL stomp", func(t *testing.T) []string {
		php, err := exec.LookPath("php")
		if err != nil || exec.Command(php, "-r", `exit(class_exists("Stomp") ? 0 : 1);`).Run() != nil {
			missingClient(t, "php with the PECL stomp extension (Debian: php-cli php-stomp)")
		}
		return []string{php, filepath.Join("testdata", "clients", "php_consumer.php")}
	}},
}

// TestInteropClients runs each client's consumer against the server, signed
// in as the vendor's user name or anonymously: it subscribes to /topic/# as
// the client does (STOMP 1.0, no id header, ack:client), receives device
// messages published through the broker and acknowledges them; every one
// must arrive intact and the group's accumulation must come back to 0.
func TestInteropClients(t *testing.T) {
	text := [][]byte{[]byte(`{"temperature":21.5,"humidity":40}`), []byte("second"), bytes.Repeat([]byte("0123456789"), 1000), []byte("last")}
	// PHP and Perl keep bodies as bytes; node's stomp-client decodes them as UTF-8.
	binary := append([][]byte{[]byte("温度 21.5 ℃"), {0, 1, 2, 0xff, 0}, bytes.Repeat([]byte{0xc3, 0x28, 0}, 30000)}, text...)
	for _, cl := range interopClients {
		for _, signed := range []bool{true, false} {
			name := cl.name + map[bool]string{true: ", signed", false: ", anonymous"}[signed]
			t.Run(name, func(t *testing.T) {
				argv := cl.lookup(t)
				payloads := binary
				if cl.name == "node stomp-client" {
					payloads = text
				}
				e := start(t)
				clientID := "interop-" + strconv.FormatInt(time.Now().UnixNano(), 36)
				login, passcode := clientID, "anything"
				if signed {
					login, passcode = signedLogin(t, clientID, broker.DefaultGroupID, "")
				}
				host, port, _ := net.SplitHostPort(e.addr)
				cmd := exec.Command(argv[0], argv[1:]...)
				cmd.Env = append(os.Environ(), "HOST="+host, "PORT="+port, "LOGIN="+login, "PASSCODE="+passcode,
					"COUNT="+strconv.Itoa(len(payloads)))
				out := runConsumer(t, cmd)
				e.waitConsumer(t, broker.DefaultGroupID, clientID, out)
				gen := time.UnixMilli(time.Now().UnixMilli())
				msgs := make([]broker.DeviceMessage, len(payloads))
				for j, p := range payloads {
					msgs[j] = broker.DeviceMessage{ProductKey: "pk", DeviceName: "dn", Topic: "/pk/dn/user/update", Payload: p, GenerateTime: gen}
				}
				ids, err := e.b.Publish(context.Background(), msgs...)
				if err != nil {
					t.Fatal(err)
				}
				got := collect(t, out.lines, len(ids))
				checkReceived(t, got, ids, payloads, false, gen)
				if err := out.wait(t); err != nil {
					t.Fatalf("%s: %v", filepath.Base(argv[1]), err)
				}
				e.waitBacklog(t, broker.DefaultGroupID, 0)
			})
		}
	}
}
