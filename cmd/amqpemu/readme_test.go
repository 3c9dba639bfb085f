package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeGoConsumer: the README's Go snippet is examples/readme/main.go
// word for word; built, it reports (never panics) when no server runs, and
// consumes and accepts a published message when one does.
func TestReadmeGoConsumer(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../../examples/readme/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+string(src)+"```\n") {
		t.Fatal("README.md's Go snippet is not examples/readme/main.go: update one from the other")
	}

	consumer := filepath.Join(t.TempDir(), "readme")
	build := exec.Command("go", "build", "-o", consumer, "./examples/readme")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build examples/readme: %v\n%s", err, out)
	}
	out, err := exec.Command(consumer, "amqp://127.0.0.1:1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is amqpemu running?") || strings.Contains(string(out), "panic") {
		t.Fatalf("with no server: %v\n%s", err, out)
	}

	// The walkthrough: a registered device signs in over MQTT and publishes;
	// then a message ingested through the HTTP API.
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir())
	server := "--server=http://" + em.http
	cliCase{args: []string{"devices", "create", "pk1", "dev1", server}, want: []string{"dev1"}}.run(t, bin)
	cliCase{args: []string{"simulate", server, "--product", "pk1", "--device-prefix", "dev", "--devices", "1", "--count", "1",
		"--topic", "user/temp", "--payload", `{"t":21.5}`}, want: []string{"published: 1 in"}}.run(t, bin)
	id, err := exec.Command(bin, "publish", "--server", "http://"+em.http, "--product", "pk1", "--device", "dev1",
		"--topic", "/pk1/dev1/user/temp", `{"t":22}`).CombinedOutput()
	if err != nil {
		t.Fatalf("publish: %v\n%s", err, id)
	}
	out, err = exec.Command(consumer, "amqp://"+em.addr).CombinedOutput()
	if err != nil {
		t.Fatalf("consumer: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	prefixes := []string{"/pk1/dev1/thing/lifecycle ", "/as/mqtt/status/pk1/dev1 ", "/pk1/dev1/user/temp ", "/as/mqtt/status/pk1/dev1 "}
	if len(lines) != 5 {
		t.Fatalf("consumer printed %d lines, want 5:\n%s", len(lines), out)
	}
	for i, p := range prefixes {
		if !strings.HasPrefix(lines[i], p) {
			t.Errorf("line %d is %q, want it to start with %q", i+1, lines[i], p)
		}
	}
	if !strings.HasSuffix(lines[2], ` {"t":21.5}`) || lines[4] != "/pk1/dev1/user/temp "+strings.TrimSpace(string(id))+` {"t":22}` {
		t.Errorf("the device's and the HTTP message's lines:\n%s", out)
	}
	waitMetrics(t, em.http, `amqpemu_acks_total{group="DEFAULT_GROUP"} 5`)
}

// TestReadmeOpenAPIExample: the README's OpenAPI snippet is
// examples/openapi/main.go word for word and, built, manages a group of a
// running emulator through the vendor's SDK.
func TestReadmeOpenAPIExample(t *testing.T) {
	example := readmeExample(t, "openapi")
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir())
	out, err := exec.Command(example, em.http).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "000100: 0 accumulated, 0 online clients") {
		t.Fatalf("example: %v\n%s", err, out)
	}
	list, err := exec.Command(bin, "subs", "get", "pk1", "--server", "http://"+em.http).CombinedOutput()
	if err != nil || !strings.Contains(string(list), "000100") {
		t.Fatalf("the example's subscription: %v\n%s", err, list)
	}
}

// readmeExample checks that the README holds examples/<name>/main.go word
// for word as a Go snippet, and builds it.
func readmeExample(t *testing.T, name string) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../../examples/" + name + "/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+string(src)+"```\n") {
		t.Fatalf("README.md's %s snippet is not examples/%s/main.go: update one from the other", name, name)
	}
	example := filepath.Join(t.TempDir(), name)
	build := exec.Command("go", "build", "-o", example, "./examples/"+name)
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build examples/%s: %v\n%s", name, err, out)
	}
	return example
}

// TestReadmeKafkaExample: the README's Kafka snippet is
// examples/kafka/main.go word for word and, built, consumes device
// messages in a group, then resets the group with the alikafka SDK.
func TestReadmeKafkaExample(t *testing.T) {
	example := readmeExample(t, "kafka")
	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir(), "--kafka", "127.0.0.1:0")
	for _, payload := range []string{`{"t":1}`, `{"t":2}`, `{"t":3}`} {
		if out, err := exec.Command(bin, "publish", "--server", "http://"+em.http, "--product", "pk1", "--device", "dev1", payload).CombinedOutput(); err != nil {
			t.Fatalf("publish: %v\n%s", err, out)
		}
	}
	out, err := exec.Command(example, em.addrs["kafka"], em.http).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "device dev1: {\"t\":3}") || !strings.Contains(string(out), "consumed 3; after the reset to earliest the group is 3 behind") {
		t.Fatalf("example: %v\n%s", err, out)
	}
}
