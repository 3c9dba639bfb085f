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

	bin := buildBinary(t)
	em := startEmulator(t, bin, t.TempDir())
	id, err := exec.Command(bin, "publish", "--server", "http://"+em.http, "--product", "pk1", "--device", "dev1",
		"--topic", "/pk1/dev1/user/temp", `{"t":21.5}`).CombinedOutput()
	if err != nil {
		t.Fatalf("publish: %v\n%s", err, id)
	}
	out, err = exec.Command(consumer, "amqp://"+em.addr).CombinedOutput()
	want := "/pk1/dev1/user/temp " + strings.TrimSpace(string(id)) + ` {"t":21.5}`
	if err != nil || strings.TrimSpace(string(out)) != want {
		t.Fatalf("consumer: %v\n%s\nwant %s", err, out, want)
	}
	waitMetrics(t, em.http, `amqpemu_acks_total{group="DEFAULT_GROUP"} 1`)
}

// TestReadmeOpenAPIExample: the README's OpenAPI snippet is
// examples/openapi/main.go word for word and, built, manages a group of a
// running emulator through the vendor's SDK.
func TestReadmeOpenAPIExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../../examples/openapi/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+string(src)+"```\n") {
		t.Fatal("README.md's OpenAPI snippet is not examples/openapi/main.go: update one from the other")
	}
	example := filepath.Join(t.TempDir(), "openapi")
	build := exec.Command("go", "build", "-o", example, "./examples/openapi")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build examples/openapi: %v\n%s", err, out)
	}
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
