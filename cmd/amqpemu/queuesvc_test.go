package main

import (
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// TestQueueServiceExample runs examples/queueservice (the README's queue
// service snippet), signing with the vendor SDK's signer, against
// `amqpemu serve`: a queue, two groups made in one request, three
// messages each group consumes and acknowledges; /metrics then shows the
// groups' backlogs. Against another secret it is refused.
func TestQueueServiceExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the binary")
	}
	example := readmeExample(t, "queueservice")
	bin := buildBinary(t)
	run := func(em *emulator) (string, error) {
		cmd := exec.Command(example)
		cmd.Env = append(proxyFreeEnv(), "QUEUE_ENDPOINT=http://"+em.http)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	em := startEmulator(t, bin, t.TempDir())
	out, err := run(em)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	for _, want := range []string{
		"billing got \"order 1\"", `shipping got {"order":2}`,
		"group billing consumed and acknowledged 3 messages",
		"group shipping consumed and acknowledged 3 messages",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	resp, err := http.Get("http://" + em.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `amqpemu_queueservice_group_backlog{group=`) || !strings.Contains(string(body), `group_name="shipping"`) {
		t.Errorf("/metrics has no queue service backlog of the groups:\n%s", body)
	}
	readmeNamesEveryMetric(t, em.http)
	refused := startEmulator(t, bin, t.TempDir(), "--access-key-secret", "another-secret")
	if out, err := run(refused); err == nil || !strings.Contains(out, "APIGW.0301") {
		t.Fatalf("run against another secret: %v\n%s", err, out)
	}
}
