package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
)

// TestLogServiceSDKThroughProxy runs examples/logservice (the README's
// log service snippet), the log service's official SDK and consumer
// library unchanged, against `amqpemu serve` with HTTP_PROXY pointing at
// --http; then again after a restart on the same data, when it finds its
// project and logstore and its group reads only the new log, from the
// checkpoints. A run with the wrong secret is refused.
func TestLogServiceSDKThroughProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the binary")
	}
	example := readmeExample(t, "logservice")
	bin := buildBinary(t)
	dir := t.TempDir()
	run := func(em *emulator, extra ...string) (string, error) {
		cmd := exec.Command(example)
		cmd.Env = append(proxyFreeEnv(), "HTTP_PROXY=http://"+em.http)
		cmd.Env = append(cmd.Env, extra...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	em := startEmulator(t, bin, dir)
	if out, err := run(em); err != nil || !strings.Contains(out, "group readers read 1 new logs of my-project/app-log") {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	em.cmd.Process.Signal(syscall.SIGTERM) // a clean stop, then a restart
	em.cmd.Wait()

	em = startEmulator(t, bin, dir)
	if out, err := run(em); err != nil || !strings.Contains(out, "group readers read 1 new logs of my-project/app-log") {
		t.Fatalf("run after restart: %v\n%s", err, out)
	}
	// The same client signing for another key pair is refused.
	refused := startEmulator(t, bin, t.TempDir(), "--access-key-secret", "another-secret")
	if out, err := run(refused); err == nil || !strings.Contains(out, "SignatureNotMatch") {
		t.Fatalf("run against another secret: %v\n%s", err, out)
	}
}

// proxyFreeEnv is the environment less any proxy settings, so that only
// the test's HTTP_PROXY applies.
func proxyFreeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// TestLogForwardThroughBinary: a forwarding rule set over REST sends the
// messages of a simulated MQTT device and of `amqpemu publish` into a
// logstore, read back with the SDK; the log service's group and the rule
// show in /metrics (every family in the README); after a restart the rule
// is there and forwarding goes on.
func TestLogForwardThroughBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	em := startEmulator(t, bin, dir)
	c := slsClient(t, em)
	if _, err := c.CreateProject("fwd-project", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateLogStore("fwd-project", "telemetry", 1, 2, false, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateConsumerGroup("fwd-project", "telemetry", sls.ConsumerGroup{ConsumerGroupName: "apps", Timeout: 60}); err != nil {
		t.Fatal(err)
	}
	server := "http://" + em.http
	putRule := func(body string) (int, string) {
		req, _ := http.NewRequest("PUT", server+"/api/v1/products/pkL/logforward", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := putRule(`{"project": "fwd-project", "logstore": "missing"}`); code != 404 || !strings.Contains(body, `"LogstoreNotFound"`) {
		t.Fatalf("a rule to a missing logstore: %d %s", code, body)
	}
	if code, body := putRule(`{"project": "fwd-project", "logstore": "telemetry"}`); code != 200 {
		t.Fatalf("PUT rule: %d %s", code, body)
	}
	// cli runs bin with --server after the first words (flags come before
	// a payload, after a subcommand's verb).
	cli := func(words int, args ...string) string {
		t.Helper()
		args = append(append(args[:words:words], "--server", server), args[words:]...)
		r := runCLI(t, bin, nil, "", args...)
		if r.exit != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, r.exit, r.stdout, r.stderr)
		}
		return r.stdout
	}
	cli(2, "devices", "create", "pkL", "dev1")
	cli(1, "simulate", "--product", "pkL", "--device-prefix", "dev", "--devices", "1", "--count", "1", "--topic", "user/temp", "--payload", `{"t":21.5}`)
	cli(1, "publish", "--product", "pkL", "--device", "dev2", "--topic", "/pkL/dev2/user/raw", "from publish")

	want := map[string]string{"/pkL/dev1/user/temp": `{"t":21.5}`, "/pkL/dev2/user/raw": "from publish"}
	waitLogs(t, c, want)
	var groups struct {
		Groups []struct {
			Name    string
			Backlog int
			Shards  []struct{ Shard, Backlog int }
		}
	}
	resp, err := http.Get(server + "/api/v1/logservice/consumergroups")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&groups)
	resp.Body.Close()
	if len(groups.Groups) != 1 || groups.Groups[0].Name != "apps" || groups.Groups[0].Backlog != 2 || len(groups.Groups[0].Shards) != 2 {
		t.Fatalf("GET /api/v1/logservice/consumergroups: %+v; want apps with the 2 logs behind it", groups)
	}
	shardLine := func(id int) string {
		sh := groups.Groups[0].Shards[id]
		return fmt.Sprintf(`amqpemu_logservice_group_backlog{group="apps",logstore="telemetry",project="fwd-project",shard="%d"} %d`, sh.Shard, sh.Backlog)
	}
	waitMetrics(t, em.http, shardLine(0), shardLine(1),
		`amqpemu_logservice_group_consumers{group="apps",logstore="telemetry",project="fwd-project"} 0`,
		`amqpemu_logforward_backlog{logstore="telemetry",product="pkL",project="fwd-project"} 0`)
	readmeNamesEveryMetric(t, em.http)

	em.cmd.Process.Signal(syscall.SIGTERM)
	em.cmd.Wait()
	em = startEmulator(t, bin, dir)
	c = slsClient(t, em)
	server = "http://" + em.http
	resp, err = http.Get(server + "/api/v1/products/pkL/logforward")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"logstore":"telemetry"`) {
		t.Fatalf("the rule after a restart: %d %s", resp.StatusCode, body)
	}
	cli(1, "publish", "--product", "pkL", "--device", "dev2", "--topic", "/pkL/dev2/user/again", "after the restart")
	want["/pkL/dev2/user/again"] = "after the restart"
	waitLogs(t, c, want)
}

// slsClient is the log service's SDK reaching em through its HTTP proxy
// setting, with the development key.
func slsClient(t *testing.T, em *emulator) sls.ClientInterface {
	t.Helper()
	proxy, _ := url.Parse("http://" + em.http)
	c := sls.CreateNormalInterface("cn-hangzhou.log.aliyuncs.com", defaultAccessKeyID, defaultAccessKeySecret, "")
	c.SetHTTPClient(&http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxy)}, Timeout: 30 * time.Second})
	c.SetRetryTimeout(5 * time.Second)
	return c
}

// waitLogs waits until the logstore telemetry holds exactly want: payload
// by topic, each once.
func waitLogs(t *testing.T, c sls.ClientInterface, want map[string]string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := map[string]string{}
		n := 0
		for shard := range 2 {
			begin, err := c.GetCursor("fwd-project", "telemetry", shard, "begin")
			if err != nil {
				t.Fatal(err)
			}
			gl, _, err := c.PullLogs("fwd-project", "telemetry", shard, begin, "", 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range gl.LogGroups {
				for _, l := range g.Logs {
					n++
					for _, ct := range l.Contents {
						if ct.GetKey() == "payload" {
							got[g.GetTopic()] = ct.GetValue()
						}
					}
				}
			}
		}
		if maps.Equal(got, want) && n == len(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the logstore holds %d logs %v; want %v", n, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
