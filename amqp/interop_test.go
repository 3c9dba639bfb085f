package amqp_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/internal/interop"
)

// interopClient is a third-party AMQP 1.0 client script in testdata/interop.
type interopClient struct {
	name string
	argv []string // interpreter and script
	ok   func() bool
}

func interopClients(t *testing.T) map[string]interopClient {
	t.Helper()
	dir, err := filepath.Abs("../testdata/interop")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]interopClient{
		"rhea": {name: "rhea", argv: []string{"node", filepath.Join(dir, "rhea_client.js")}, ok: func() bool {
			_, err := os.Stat(filepath.Join(dir, "node_modules", "rhea"))
			return err == nil
		}},
		"proton": {name: "proton", argv: []string{"/usr/bin/python3", filepath.Join(dir, "proton_client.py")}, ok: func() bool {
			return exec.Command("/usr/bin/python3", "-c", "import proton").Run() == nil
		}},
	}
}

// need returns the client or skips the test when it is not installed; under
// CI (CI=true) a missing client fails instead, so CI never skips interop.
func need(t *testing.T, c interopClient) interopClient {
	t.Helper()
	interop.Require(t, c.name, "sudo bash testdata/interop/install.sh", c.ok())
	return c
}

// run runs the client script against url and fails the test on a non-zero exit.
func (c interopClient) run(t *testing.T, ctx context.Context, url string, args ...string) {
	t.Helper()
	argv := append(append([]string{}, c.argv...), append([]string{"--url", url}, args...)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", c.name, strings.Join(args, " "), err, out)
	}
	if !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("%s %s: no success line:\n%s", c.name, strings.Join(args, " "), out)
	}
}

// TestInterop runs rhea and python qpid-proton against the server: each
// round-trips on one connection, and each sends what the other receives,
// with small messages and with 1 MiB ones split over 64 KiB frames.
func TestInterop(t *testing.T) {
	clients := interopClients(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	ts := startServer(t, func(c *amqp.Config) { c.MaxMessageSize = 2 << 20 })
	url := "amqp://" + ts.addr
	plain := "amqp://user:secret@" + ts.addr
	sizes := []struct {
		name string
		args []string
	}{
		{"1000x256B", []string{"--count", "1000", "--size", "256"}},
		{"5x1MiB", []string{"--count", "5", "--size", "1048576", "--max-frame-size", "65536"}},
	}
	for _, sz := range sizes {
		for _, name := range []string{"rhea", "proton"} {
			t.Run(name+"/roundtrip/"+sz.name, func(t *testing.T) {
				c := need(t, clients[name])
				c.run(t, ctx, url, append([]string{"--address", "rt-" + name + sz.name, "--mode", "roundtrip"}, sz.args...)...)
			})
		}
		for _, pair := range [][2]string{{"rhea", "proton"}, {"proton", "rhea"}} {
			t.Run(pair[0]+"-to-"+pair[1]+"/"+sz.name, func(t *testing.T) {
				snd, rcv := need(t, clients[pair[0]]), need(t, clients[pair[1]])
				addr := "x-" + pair[0] + sz.name
				snd.run(t, ctx, plain, append([]string{"--address", addr, "--mode", "send"}, sz.args...)...)
				rcv.run(t, ctx, url, append([]string{"--address", addr, "--mode", "receive"}, sz.args...)...)
			})
		}
	}
}
