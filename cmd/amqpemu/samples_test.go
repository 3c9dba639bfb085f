package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/internal/interop"
	"github.com/amqpemu/amqpemu/internal/testlog"
)

// The key pair the samples sign with: not the emulator's default pair, so a
// sample that ignored IOT_ACCESS_KEY/IOT_ACCESS_SECRET would be refused.
const (
	samplesKeyID     = "LTAI5tAmqpemuSamples"
	samplesKeySecret = "samples-secret-3f9c1e"
	samplesProduct   = "pk"
	samplesCount     = 50
)

// officialSample is one consumer in examples/, written the way the
// platform's official SDK sample for its runtime is.
type officialSample struct {
	name  string
	group string   // consumer group name created for it
	argv  []string // filled in by prepare
	stomp bool     // connects to the stomps listener, with encode=base64
	// missing says what is not installed, or "".
	missing func(root string) string
	// prepare fills argv (building the Go samples into dir).
	prepare func(t *testing.T, root, dir string, s *officialSample)
}

func officialSamples() []*officialSample {
	goSample := func(pkg string) func(t *testing.T, root, dir string, s *officialSample) {
		return func(t *testing.T, root, dir string, s *officialSample) {
			t.Helper()
			bin := filepath.Join(dir, pkg)
			cmd := exec.Command("go", "build", "-o", bin, "./examples/"+pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("build examples/%s: %v\n%s", pkg, err, out)
			}
			s.argv = []string{bin}
		}
	}
	script := func(interp, rel string) func(t *testing.T, root, dir string, s *officialSample) {
		return func(t *testing.T, root, dir string, s *officialSample) {
			s.argv = []string{interp, filepath.Join(root, rel)}
		}
	}
	python := func(module, pkg string) func(string) string {
		return func(string) string {
			if exec.Command("/usr/bin/python3", "-c", "import "+module).Run() != nil {
				return "Debian's " + pkg + " for /usr/bin/python3"
			}
			return ""
		}
	}
	nothing := func(string) string { return "" }
	return []*officialSample{
		{name: "go-packag", group: "sample_go_packag", missing: nothing, prepare: goSample("go-packag")},
		{name: "go-amqp", group: "sample_go_amqp", missing: nothing, prepare: goSample("go-amqp")},
		{name: "node-rhea", group: "sample_node_rhea",
			missing: func(root string) string {
				if _, err := exec.LookPath("node"); err != nil {
					return "node"
				}
				if _, err := os.Stat(filepath.Join(root, "examples", "node-rhea", "node_modules", "rhea")); err != nil {
					return "rhea in examples/node-rhea/node_modules (npm ci --prefix examples/node-rhea)"
				}
				return ""
			},
			prepare: script("node", "examples/node-rhea/consumer.js")},
		{name: "python-proton", group: "sample_python_proton", missing: python("proton", "python3-qpid-proton"),
			prepare: script("/usr/bin/python3", "examples/python-proton/consumer.py")},
		{name: "python-stomp", group: "sample_python_stomp", stomp: true, missing: python("stomp", "python3-stomp"),
			prepare: script("/usr/bin/python3", "examples/python-stomp/consumer.py")},
	}
}

// sampleRun is one started sample process.
type sampleRun struct {
	*officialSample
	groupID        string
	cmd            *exec.Cmd
	stdout, stderr testlog.Buffer
	done           chan struct{} // closed once the process exited
	err            error         // its exit status, set before done closes
}

// TestOfficialSamples runs every consumer in examples/ (each the platform's
// official SDK sample for its runtime, reading its settings from the
// environment) against the binary over TLS, each in its own consumer group,
// and checks that each prints every published message byte for byte and that
// each group's backlog drains, i.e. every message was accepted.
func TestOfficialSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary and five sample consumers")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	samples := officialSamples()
	var runnable []*officialSample
	skipped := map[string]string{}
	for _, s := range samples {
		if m := s.missing(root); m != "" {
			skipped[s.name] = m
			continue
		}
		runnable = append(runnable, s)
	}
	for _, name := range slices.Sorted(maps.Keys(skipped)) {
		interop.Omit(t, name+" sample (needs "+skipped[name]+")", "sudo bash examples/install.sh")
	}
	if t.Failed() {
		t.FailNow() // CI=true: every sample must run
	}
	if len(runnable) == 0 {
		t.Skip("no sample runtime installed (install them with: sudo bash examples/install.sh)")
	}

	bin := buildBinary(t)
	binDir := t.TempDir()
	for _, s := range runnable {
		s.prepare(t, root, binDir, s)
	}
	dataDir := t.TempDir()
	em := startSamplesEmulator(t, bin, "serve", "--data", dataDir,
		"--amqp", "127.0.0.1:0", "--amqps", "127.0.0.1:0", "--stomp", "127.0.0.1:0", "--stomps", "127.0.0.1:0", "--mqtt", "127.0.0.1:0",
		"--http", "127.0.0.1:0", "--access-key-id", samplesKeyID, "--access-key-secret", samplesKeySecret,
		"--log-format", "json")
	caFile := filepath.Join(dataDir, "tls", "ca.pem")
	if _, err := os.Stat(caFile); err != nil {
		t.Fatalf("serve wrote no development CA: %v", err)
	}
	api := sampleAPI{t: t, base: "http://" + em.addr(t, "http")}

	// One group per sample, all subscribed to the product with DEFAULT_GROUP.
	var runs []*sampleRun
	groupIDs := []string{"DEFAULT_GROUP"}
	for _, s := range runnable {
		var g struct{ ID string }
		api.do("POST", "/api/v1/groups", map[string]string{"name": s.group}, http.StatusCreated, &g)
		if g.ID == "" {
			t.Fatalf("POST /api/v1/groups %s: no id", s.group)
		}
		runs = append(runs, &sampleRun{officialSample: s, groupID: g.ID, done: make(chan struct{})})
		groupIDs = append(groupIDs, g.ID)
	}
	api.do("PUT", "/api/v1/products/"+samplesProduct+"/subscription",
		map[string]any{"groups": groupIDs, "kinds": []string{"data"}}, http.StatusOK, nil)

	defer func() {
		for _, r := range runs {
			if r.cmd != nil && r.cmd.Process != nil {
				r.cmd.Process.Kill()
				<-r.done
			}
		}
		if t.Failed() {
			for _, r := range runs {
				t.Logf("--- %s stderr:\n%s", r.name, tail(r.stderr.String(), 4000))
			}
			t.Logf("--- amqpemu log:\n%s", tail(em.log.String(), 6000))
		}
	}()

	for _, r := range runs {
		r.start(t, em, caFile)
	}
	for _, r := range runs {
		r.waitConnected(t, api, 60*time.Second)
	}

	msgs := samplesMessages()
	start := time.Now()
	var published struct{ MessageIDs []string }
	api.do("POST", "/api/v1/messages", msgs, http.StatusAccepted, &published)
	end := time.Now()
	if len(published.MessageIDs) != len(msgs) {
		t.Fatalf("POST /api/v1/messages: %d ids for %d messages", len(published.MessageIDs), len(msgs))
	}
	want := map[string]sampleMessage{}
	for i, id := range published.MessageIDs {
		want[id] = msgs[i]
	}
	t.Logf("published %d messages (%d bytes the largest) in %v", len(msgs), 100<<10, end.Sub(start))

	deadline := time.After(120 * time.Second)
	for _, r := range runs {
		select {
		case <-r.done:
		case <-deadline:
			t.Fatalf("%s did not print all %d messages in time; its stdout has %d lines",
				r.name, len(msgs), strings.Count(r.stdout.String(), "\n"))
		}
	}

	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			if m, ok := skipped[s.name]; ok {
				t.Skipf("not installed: %s (run sudo bash examples/install.sh)", m)
			}
			for _, r := range runs {
				if r.officialSample == s {
					r.check(t, want, start, end)
					waitAccumulation(t, api, r.groupID, 0)
				}
			}
		})
	}
	// Nobody consumes DEFAULT_GROUP: it holds its own copy of each message.
	waitAccumulation(t, api, "DEFAULT_GROUP", len(msgs))
}

// start runs the sample against the emulator with the settings and trust
// its documentation gives.
func (r *sampleRun) start(t *testing.T, em *samplesEmulator, caFile string) {
	t.Helper()
	listener := "amqps"
	if r.stomp {
		listener = "stomps"
	}
	_, port, err := net.SplitHostPort(em.addr(t, listener))
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(r.argv[0], r.argv[1:]...)
	r.cmd.Env = append(os.Environ(),
		"IOT_HOST=localhost", // the name the development certificate carries
		"IOT_PORT="+port,
		"IOT_ACCESS_KEY="+samplesKeyID,
		"IOT_ACCESS_SECRET="+samplesKeySecret,
		"IOT_CONSUMER_GROUP_ID="+r.groupID,
		"IOT_CLIENT_ID="+r.name,
		"IOT_INSTANCE_ID=",
		"SSL_CERT_FILE="+caFile,
		"NODE_EXTRA_CA_CERTS="+caFile,
		fmt.Sprintf("EXPECT=%d", samplesCount),
	)
	if r.stomp {
		r.cmd.Env = append(r.cmd.Env, "IOT_ENCODE_BASE64=1")
	}
	r.cmd.Stdout = &r.stdout
	r.cmd.Stderr = &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", r.name, err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
}

// waitConnected polls the group's status until the sample is among its
// online clients.
func (r *sampleRun) waitConnected(t *testing.T, api sampleAPI, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var st groupStatus
		api.do("GET", "/api/v1/groups/"+r.groupID+"/status", nil, http.StatusOK, &st)
		if len(st.Clients) > 0 {
			return
		}
		select {
		case <-r.done:
			t.Fatalf("%s exited before connecting: %v", r.name, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not among group %s's clients after %v", r.name, r.groupID, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// check requires a clean exit and, for every published message, at least one
// output line with its exact topic and payload and a plausible generateTime.
func (r *sampleRun) check(t *testing.T, want map[string]sampleMessage, start, end time.Time) {
	t.Helper()
	if r.err != nil {
		t.Errorf("%s: exit: %v", r.name, r.err)
	}
	got := map[string]bool{}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(r.stdout.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines++
		var line struct {
			Topic         *string
			MessageID     *string `json:"messageId"`
			GenerateTime  *int64  `json:"generateTime"`
			PayloadBase64 *string `json:"payloadBase64"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.MessageID == nil || line.Topic == nil ||
			line.GenerateTime == nil || line.PayloadBase64 == nil {
			t.Errorf("%s: bad line (%v): %s", r.name, err, tail(sc.Text(), 300))
			continue
		}
		m, ok := want[*line.MessageID]
		if !ok {
			t.Errorf("%s: messageId %q was not published", r.name, *line.MessageID)
			continue
		}
		got[*line.MessageID] = true
		if *line.Topic != m.Topic {
			t.Errorf("%s: %s: topic %q, want %q", r.name, *line.MessageID, *line.Topic, m.Topic)
		}
		if payload, err := base64.StdEncoding.DecodeString(*line.PayloadBase64); err != nil || !bytes.Equal(payload, m.payload) {
			t.Errorf("%s: %s: payload of %d bytes differs from the %d published (%v)", r.name, *line.MessageID, len(payload), len(m.payload), err)
		}
		if gt := *line.GenerateTime; gt < start.Add(-time.Second).UnixMilli() || gt > end.Add(time.Second).UnixMilli() {
			t.Errorf("%s: %s: generateTime %d outside [%d, %d]", r.name, *line.MessageID, gt,
				start.Add(-time.Second).UnixMilli(), end.Add(time.Second).UnixMilli())
		}
	}
	if err := sc.Err(); err != nil {
		t.Errorf("%s: reading its output: %v", r.name, err)
	}
	for id, m := range want {
		if !got[id] {
			t.Errorf("%s: never printed %s (%s, %d bytes)", r.name, id, m.Topic, len(m.payload))
		}
	}
	t.Logf("%s: %d lines, %d distinct messages", r.name, lines, len(got))
}

// waitAccumulation polls a group's status until its backlog is n.
func waitAccumulation(t *testing.T, api sampleAPI, group string, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var st groupStatus
		api.do("GET", "/api/v1/groups/"+group+"/status", nil, http.StatusOK, &st)
		if st.Accumulation == n {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("group %s: accumulation %d, want %d", group, st.Accumulation, n)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type groupStatus struct {
	Accumulation int
	Clients      []struct{ ClientID string }
}

// sampleMessage is one device message for POST /api/v1/messages.
type sampleMessage struct {
	ProductKey    string  `json:"productKey"`
	DeviceName    string  `json:"deviceName"`
	Topic         string  `json:"topic"`
	Payload       *string `json:"payload,omitempty"`
	PayloadBase64 *string `json:"payloadBase64,omitempty"`
	payload       []byte
}

// samplesMessages returns samplesCount messages: JSON text, binary that is
// not UTF-8 (NUL bytes included), an empty payload and a 100 KiB one that
// pack.ag/amqp receives over many 512-byte frames.
func samplesMessages() []sampleMessage {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	var msgs []sampleMessage
	for i := range samplesCount {
		var p []byte
		switch {
		case i == 0:
			p = nil
		case i == 1:
			p = random(100 << 10)
		case i == 2:
			p = []byte{0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x00, 0xa0, 0xa1}
		case i%3 == 0:
			p = []byte(fmt.Sprintf(`{"seq":%d,"temperature":%d.5,"note":"温度"}`, i, 20+i%10))
		default:
			p = random(1 + rng.IntN(3000))
		}
		m := sampleMessage{ProductKey: samplesProduct, DeviceName: "dev",
			Topic: fmt.Sprintf("/%s/dev/user/t%d", samplesProduct, i), payload: p}
		if i%3 == 0 && i > 0 {
			text := string(p)
			m.Payload = &text
		} else {
			b64 := base64.StdEncoding.EncodeToString(p)
			m.PayloadBase64 = &b64
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// sampleAPI calls the emulator's REST API, failing the test on an unexpected
// status.
type sampleAPI struct {
	t    *testing.T
	base string
}

func (a sampleAPI) do(method, path string, body any, wantStatus int, out any) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		a.t.Fatalf("%s %s: %s: %s", method, path, resp.Status, tail(string(data), 500))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, tail(string(data), 500))
		}
	}
}

// samplesEmulator is a running `amqpemu serve` with every listener it logged.
type samplesEmulator struct {
	cmd   *exec.Cmd
	log   testlog.Buffer // everything it wrote to stderr
	mu    sync.Mutex
	addrs map[string]string // listener name → address
}

func (em *samplesEmulator) addr(t *testing.T, listener string) string {
	t.Helper()
	em.mu.Lock()
	defer em.mu.Unlock()
	a, ok := em.addrs[listener]
	if !ok {
		t.Fatalf("amqpemu logged no %q listener; it logged %v", listener, em.addrs)
	}
	return a
}

// startSamplesEmulator runs the binary with args and waits for "amqpemu
// ready", collecting each {"listener","addr"} log line on the way.
func startSamplesEmulator(t *testing.T, bin string, args ...string) *samplesEmulator {
	t.Helper()
	em := &samplesEmulator{addrs: map[string]string{}}
	em.cmd = exec.Command(bin, args...)
	stderr, err := em.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := em.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() { em.cmd.Process.Kill(); <-exited })
	ready := make(chan struct{})
	go func() {
		defer func() { em.cmd.Wait(); close(exited) }()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			em.log.Write(append(sc.Bytes(), '\n'))
			var line struct{ Listener, Addr, Message string }
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			if line.Listener != "" && line.Addr != "" {
				em.mu.Lock()
				em.addrs[line.Listener] = line.Addr
				em.mu.Unlock()
			}
			if line.Message == "amqpemu ready" {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
		return em
	case <-exited:
		t.Fatalf("amqpemu %s exited before it was ready:\n%s", strings.Join(args, " "), tail(em.log.String(), 4000))
	case <-time.After(60 * time.Second):
		t.Fatalf("amqpemu not ready after 60 s:\n%s", tail(em.log.String(), 4000))
	}
	return nil
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
