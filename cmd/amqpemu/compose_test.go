package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"
	"github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"

	"github.com/amqpemu/amqpemu/internal/natstest"
)

// Docker cannot run here, so these tests start the topology of the compose
// files as local processes, the way compose would: each nats service's
// command line goes through nats-server's own flag parser, each amqpemu
// service's environment to the binary; service host names and container
// ports become loopback ports the test picks. What they do not run: the
// image build, the container network and the published ports.

// composeFile is what the tests read of a compose file (yaml.v3 resolves
// the anchors and merge keys).
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
}

func readCompose(t *testing.T, name string) composeFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

// services lists the names of the services whose image starts with image
// ("nats:") or that build amqpemu (image "amqpemu:local"), sorted.
func (f composeFile) services(image string) []string {
	var out []string
	for name, s := range f.Services {
		if strings.HasPrefix(s.Image, image) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// loopback maps host:port inside the compose network to loopback ports:
// each service's container ports get a free local port.
type loopback struct {
	ports map[string]int // "service:containerPort" → local port
	self  string         // the service being rewritten: 0.0.0.0 means it
}

func newLoopback(t *testing.T, services []string, containerPorts ...int) *loopback {
	t.Helper()
	l := &loopback{ports: map[string]int{}}
	free := natstest.FreePorts(t, len(services)*len(containerPorts))
	for _, s := range services {
		for _, p := range containerPorts {
			l.ports[s+":"+strconv.Itoa(p)], free = free[0], free[1:]
		}
	}
	return l
}

var hostPort = regexp.MustCompile(`([A-Za-z0-9_.-]+):(\d+)`)

// rewrite replaces service:port and 0.0.0.0:port (the service itself) in s
// with 127.0.0.1 and the local port.
func (l *loopback) rewrite(s string) string {
	return hostPort.ReplaceAllStringFunc(s, func(m string) string {
		sub := hostPort.FindStringSubmatch(m)
		host := sub[1]
		if host == "0.0.0.0" {
			host = l.self
		}
		if p, ok := l.ports[host+":"+sub[2]]; ok {
			return "127.0.0.1:" + strconv.Itoa(p)
		}
		return m
	})
}

func (l *loopback) port(service string, containerPort int) int {
	return l.ports[service+":"+strconv.Itoa(containerPort)]
}

var withDefault = regexp.MustCompile(`\$\{([A-Z0-9_]+):-([^}]*)\}`)

// interpolate resolves compose's ${VAR:-default} from the environment.
func interpolate(s string) string {
	return withDefault.ReplaceAllStringFunc(s, func(m string) string {
		sub := withDefault.FindStringSubmatch(m)
		if v, ok := os.LookupEnv(sub[1]); ok && v != "" {
			return v
		}
		return sub[2]
	})
}

// startComposeNATS runs a nats service's command line in this process.
func startComposeNATS(t *testing.T, l *loopback, name string, svc composeService) *server.Server {
	t.Helper()
	l.self = name
	var args []string
	for i := 0; i < len(svc.Command); i++ {
		a := svc.Command[i]
		switch {
		case a == "--sd" || a == "-sd":
			args = append(args, a, t.TempDir()) // the volume
			i++
		case a == "--http_port":
			args = append(args, a, strconv.Itoa(l.port(name, 8222)))
			i++
		default:
			args = append(args, l.rewrite(a))
		}
	}
	args = append(args, "-a", "127.0.0.1", "-p", strconv.Itoa(l.port(name, 4222)))
	opts, err := server.ConfigureOptions(flag.NewFlagSet(name, flag.ContinueOnError), args, nil, nil, nil)
	if err != nil {
		t.Fatalf("%s's command %q: %v", name, svc.Command, err)
	}
	opts.NoSigs, opts.NoLog = true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// composeEnv is an amqpemu service's environment, rewritten to loopback.
func composeEnv(l *loopback, name string, svc composeService) []string {
	l.self = name
	var env []string
	for k, v := range svc.Environment {
		env = append(env, k+"="+l.rewrite(interpolate(v)))
	}
	slices.Sort(env)
	return env
}

// TestComposeNATSClusterLocally: docker-compose.yml's three NATS nodes
// (R3) and two amqpemu nodes behave as one emulator; with one NATS node
// gone, messages still flow and none is lost.
func TestComposeNATSClusterLocally(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	f := readCompose(t, "docker-compose.yml")
	natsNodes, emus := f.services("nats:"), f.services("amqpemu:")
	if len(natsNodes) != 3 || len(emus) != 2 {
		t.Fatalf("docker-compose.yml: nats services %v, amqpemu services %v; want 3 and 2", natsNodes, emus)
	}
	l := newLoopback(t, natsNodes, 4222, 6222, 8222)
	nodes := map[string]*server.Server{}
	for _, n := range natsNodes {
		nodes[n] = startComposeNATS(t, l, n, f.Services[n])
	}
	for n, ns := range nodes {
		if !ns.ReadyForConnections(20 * time.Second) {
			t.Fatalf("%s not ready", n)
		}
	}
	bin := buildBinary(t)
	ems := make([]*emulator, len(emus))
	for i, name := range emus {
		env := composeEnv(l, name, f.Services[name])
		t.Logf("%s: %v", name, env)
		ems[i] = startEmulatorEnv(t, bin, t.TempDir(), env)
	}
	checkOneEmulator(t, ems[0], ems[1], 100)

	// One NATS node gone: R3 keeps a majority; the amqpemu nodes connected
	// to it reconnect to the others.
	nodes[natsNodes[0]].Shutdown()
	nodes[natsNodes[0]].WaitForShutdown()
	checkOneEmulator(t, ems[0], ems[1], 100)
}

// TestComposeSelfClusteredLocally: docker-compose.self-clustered.yml's
// three amqpemu nodes are the JetStream cluster themselves.
func TestComposeSelfClusteredLocally(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	f := readCompose(t, "docker-compose.self-clustered.yml")
	emus := f.services("amqpemu:")
	if len(emus) != 3 || len(f.services("nats:")) != 0 {
		t.Fatalf("docker-compose.self-clustered.yml: amqpemu services %v; want 3 and no nats", emus)
	}
	l := newLoopback(t, emus, 6222)
	bin := buildBinary(t)
	waits := make([]func(*testing.T) *emulator, len(emus))
	for i, name := range emus { // together, as compose starts them: each needs a quorum
		waits[i] = launchEmulator(t, bin, t.TempDir(), composeEnv(l, name, f.Services[name]))
	}
	ems := make([]*emulator, len(emus))
	for i, wait := range waits {
		ems[i] = wait(t)
	}
	checkOneEmulator(t, ems[0], ems[2], 100)
	checkOneEmulator(t, ems[1], ems[0], 50)
}

// checkOneEmulator: a group created through a is seen through b; n device
// messages published through b are all received on a (DEFAULT_GROUP) and
// acknowledged, each once.
func checkOneEmulator(t *testing.T, a, b *emulator, n int) {
	t.Helper()
	name := fmt.Sprintf("cl_%d", time.Now().UnixNano()%1_000_000_000)
	var g struct{ ID string }
	if code := restJSON(t, "POST", a.http, "/api/v1/groups", map[string]string{"name": name}, &g); code != http.StatusCreated {
		t.Fatalf("creating %s through %s: %d", name, a.http, code)
	}
	if code := restJSON(t, "GET", b.http, "/api/v1/groups/"+g.ID, nil, nil); code != http.StatusOK {
		t.Fatalf("group %s through the other node: %d", g.ID, code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := goamqp.Dial(ctx, "amqp://"+a.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := sess.NewReceiver(ctx, "DEFAULT_GROUP", &goamqp.ReceiverOptions{Credit: 50})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	msgs := make([]map[string]string, n)
	tag := name
	for i := range msgs {
		body := fmt.Sprintf("%s-%d", tag, i)
		msgs[i] = map[string]string{"productKey": "pkC", "deviceName": "d1", "payload": body}
		want[body] = true
	}
	if code := restJSON(t, "POST", b.http, "/api/v1/messages", msgs, nil); code != http.StatusAccepted {
		t.Fatalf("publishing through %s: %d", b.http, code)
	}
	for len(want) > 0 {
		m, err := rcv.Receive(ctx, nil)
		if err != nil {
			t.Fatalf("receiving with %d of %d missing: %v", len(want), n, err)
		}
		body := string(m.GetData())
		if strings.HasPrefix(body, tag+"-") && !want[body] {
			t.Errorf("%s received twice", body)
		}
		delete(want, body)
		if err := rcv.AcceptMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}

// restJSON calls the REST API at addr; out, when not nil, gets the answer.
func restJSON(t *testing.T, method, addr, path string, in, out any) int {
	t.Helper()
	var body strings.Reader
	if in != nil {
		raw, _ := json.Marshal(in)
		body = *strings.NewReader(string(raw))
	}
	req, err := http.NewRequest(method, "http://"+addr+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode >= 400 { // what the failure says, for the test's log
		t.Logf("%s %s through %s: %d %s", method, path, addr, resp.StatusCode, raw)
		return resp.StatusCode
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}
