package console_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/console"
	"github.com/amqpemu/amqpemu/history"
	"github.com/amqpemu/amqpemu/internal/interop"
)

func TestMain(m *testing.M) { interop.Main(m) }

// browser is headless chromium driven over CDP: every confirm dialog is
// accepted and recorded, and uncaught JavaScript exceptions are kept for
// the test to fail on.
type browser struct {
	ctx context.Context
	t   *testing.T

	mu         sync.Mutex
	dialogs    []string // messages of the dialogs accepted
	exceptions []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	interop.Require(t, "chromium", "sudo apt-get install chromium", err == nil)
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // runs last: after the browser is gone
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancel)
	b := &browser{ctx: ctx, t: t}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	messages := chromedp.Console(ctx)
	wg.Add(2)
	go func() { // a confirm blocks the click that opened it: accept it here
		defer wg.Done()
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil && ctx.Err() == nil {
				b.exception("accepting the dialog: " + err.Error())
			}
		}
	}()
	go func() {
		defer wg.Done()
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException {
				b.exception(m.Text)
			}
		}
	}()
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.exceptions {
			t.Errorf("JavaScript: %s", e)
		}
	})
	return b
}

func (b *browser) exception(s string) {
	b.mu.Lock()
	b.exceptions = append(b.exceptions, s)
	b.mu.Unlock()
}

func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// until waits for the JavaScript condition cond to hold.
func (b *browser) until(what, cond string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		b.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// eval runs expr in the page; its value is decoded into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

// screenshot writes the page to $AMQPEMU_SCREENSHOTS or t.TempDir().
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("AMQPEMU_SCREENSHOTS")
	if dir == "" {
		dir = b.t.TempDir()
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", filepath.Join(dir, name+".png"))
}

func (b *browser) dialogsSeen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.dialogs...)
}

// TestWebConsoleInBrowser drives the web console in headless chromium
// against a console on a real broker: overview, live accumulation, peek,
// Delete refused, Clear, and the layout at 390 px.
func TestWebConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	b := newBrowser(t)
	e := newEnv(t, func(cfg *console.Config) {
		s, err := history.New(history.Config{Source: cfg.Broker})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		t.Cleanup(s.Close)
		cfg.History = s
	})
	r := e.do("POST", "/api/v1/groups", map[string]string{"name": "web_group"})
	if r.status != http.StatusCreated {
		t.Fatalf("creating the group: %d %s", r.status, r)
	}
	var g struct{ ID string }
	if err := json.Unmarshal(r.body, &g); err != nil {
		t.Fatal(err)
	}
	if r := e.do("PUT", "/api/v1/products/pk1/subscription", map[string]any{"groups": []string{g.ID}}); r.status != 200 {
		t.Fatalf("subscribing: %d %s", r.status, r)
	}
	accumulation := func() int {
		t.Helper()
		var s struct{ Accumulation int }
		r := e.do("GET", "/api/v1/groups/"+g.ID+"/status", nil)
		if err := json.Unmarshal(r.body, &s); err != nil || r.status != 200 {
			t.Fatalf("status: %d %s %v", r.status, r, err)
		}
		return s.Accumulation
	}

	// Overview: the created group is listed.
	b.run("opening the overview", chromedp.Navigate(e.srv.URL+"/#/"))
	row := fmt.Sprintf(`tr[data-group=%q]`, g.ID)
	b.run("the group's row", chromedp.WaitVisible(chromedp.CSS(row)))
	if text := b.text(row); !strings.Contains(text, "web_group") {
		t.Errorf("overview row %q lacks the name", text)
	}
	b.until("the listeners", `document.body.innerText.includes('127.0.0.1:5672')`)
	b.screenshot("overview-1280")

	// Group page, reached by its link; publishing moves the number without a reload.
	b.run("opening the group", chromedp.Click(chromedp.CSS(row+" a")))
	b.until("accumulation 0", `document.getElementById('accumulation')?.textContent === '0'`)
	eval[bool](b, `window.notReloaded = true`)
	payload := `{"t":21.5,"note":"<b>&amp; é ✓</b>  two spaces"}`
	binary := []byte{0xff, 0x00, 0x41, 0xfe}
	msgs := []map[string]string{
		{"productKey": "pk1", "deviceName": "d1", "topic": "/pk1/d1/user/temp", "payload": payload},
		{"productKey": "pk1", "deviceName": "d1", "topic": "/pk1/d1/user/raw", "payloadBase64": base64.StdEncoding.EncodeToString(binary)},
		{"productKey": "pk1", "deviceName": "d1", "topic": "/pk1/d1/user/temp", "payload": "third"},
	}
	if r := e.do("POST", "/api/v1/messages", msgs); r.status != http.StatusAccepted {
		t.Fatalf("publishing: %d %s", r.status, r)
	}
	b.until("accumulation 3", `document.getElementById('accumulation').textContent === '3'`)
	if !eval[bool](b, `window.notReloaded === true`) {
		t.Error("the page reloaded to show the accumulation")
	}
	b.until("the chart", `document.querySelector('#chart canvas') !== null`)

	// Peek: payloads byte-exact, the backlog untouched.
	b.run("peeking", chromedp.SetValue(chromedp.ID("peek-count"), "3"), chromedp.Click(chromedp.ID("peek")))
	b.until("peeked rows", `document.querySelectorAll('#peek-result pre.payload').length === 3`)
	shown := eval[[]string](b, `[...document.querySelectorAll('#peek-result pre.payload')].map(e => e.textContent)`)
	if want := []string{payload, "ff 00 41 fe", "third"}; fmt.Sprint(shown) != fmt.Sprint(want) {
		t.Errorf("peek shows %q, want %q", shown, want)
	}
	if n := accumulation(); n != 3 {
		t.Errorf("accumulation after peek: %d, want 3", n)
	}

	// Delete of a subscribed group: the guard's reason, in words.
	b.run("deleting", chromedp.Click(chromedp.ID("delete")))
	b.until("the refusal", `!document.getElementById('banner').hidden && document.getElementById('banner-text').textContent.includes('GroupInUse')`)
	banner := b.text("#banner-text")
	if !strings.Contains(banner, "pk1") || !strings.Contains(banner, "409") {
		t.Errorf("banner %q does not name the subscribing product and the 409", banner)
	}
	if r := e.do("GET", "/api/v1/groups/"+g.ID, nil); r.status != 200 {
		t.Errorf("group after the refused delete: %d %s", r.status, r)
	}
	b.screenshot("group-1280")

	// Clear, confirmed: the backlog is gone and Clear hidden.
	b.run("clearing", chromedp.Click(chromedp.ID("clear")))
	b.until("accumulation 0 after Clear", `document.getElementById('accumulation').textContent === '0' && document.getElementById('clear').hidden`)
	if n := accumulation(); n != 0 {
		t.Errorf("accumulation after Clear: %d, want 0", n)
	}
	d := b.dialogsSeen()
	if len(d) != 2 || !strings.Contains(d[0], "Delete") || !strings.Contains(d[1], "Clear the 3 accumulated messages") {
		t.Errorf("dialogs %q, want a Delete and a Clear confirmation", d)
	}

	// Reset to earliest, confirmed: the cleared messages are back.
	b.run("resetting", chromedp.SetValue(chromedp.ID("reset-to"), "earliest"), chromedp.Click(chromedp.ID("reset")))
	b.until("accumulation 3 after Reset", `document.getElementById('accumulation').textContent === '3' && !document.getElementById('clear').hidden`)
	if n := accumulation(); n != 3 {
		t.Errorf("accumulation after Reset to earliest: %d, want 3", n)
	}
	if d := b.dialogsSeen(); len(d) != 3 || !strings.Contains(d[2], "Reset web_group to the earliest retained message") {
		t.Errorf("dialogs %q, want a Reset confirmation third", d)
	}

	// Rename: the title follows; a bad name is refused in words.
	b.run("renaming", chromedp.SetValue(chromedp.ID("rename-name"), "web_renamed"), chromedp.Click(chromedp.ID("rename")))
	b.until("the new name", `document.querySelector('h1').textContent.startsWith('web_renamed')`)
	b.run("renaming badly", chromedp.SetValue(chromedp.ID("rename-name"), "x"), chromedp.Click(chromedp.ID("rename")))
	b.until("the refused rename", `!document.getElementById('banner').hidden && document.getElementById('banner-text').textContent.includes('InvalidGroupName')`)

	// Publish from the Messages tab: the group's backlog grows by one.
	b.run("publishing from the page", chromedp.SetValue(chromedp.ID("pub-product"), "pk1"), chromedp.SetValue(chromedp.ID("pub-device"), "d9"),
		chromedp.SetValue(chromedp.ID("pub-payload"), `{"from":"the console"}`), chromedp.Click(chromedp.ID("publish")))
	b.until("the published id", `document.getElementById('publish-result').textContent.startsWith('Published, message id ')`)
	b.until("accumulation 4", `document.getElementById('accumulation').textContent === '4'`)
	if n := accumulation(); n != 4 {
		t.Errorf("accumulation after publishing from the page: %d, want 4", n)
	}

	// A consumer attaching shows in the clients table.
	in := make(inbox, 10)
	m, err := e.b.Join(context.Background(), g.ID, broker.MemberInfo{ClientID: "browser-test-client", Address: "192.0.2.7:5555"}, in)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	b.until("the client", `document.body.innerText.includes('browser-test-client') && document.body.innerText.includes('192.0.2.7:5555')`)
	if got := b.text("#online-clients"); got != "1" {
		t.Errorf("online clients %q, want 1", got)
	}

	// 390 px: no horizontal scroll on either page.
	long := strings.Repeat("a-long-unbroken-payload-", 20)
	if r := e.do("POST", "/api/v1/messages", map[string]string{"productKey": "pk1", "deviceName": "a-device-with-a-rather-long-name", "topic": "/pk1/a-device-with-a-rather-long-name/user/some/deep/topic/path", "payload": long}); r.status != http.StatusAccepted {
		t.Fatalf("publishing: %d %s", r.status, r)
	}
	b.run("narrowing", chromedp.EmulateViewport(390, 844))
	for _, p := range []struct{ name, hash, ready string }{
		{"overview-390", "#/", `document.querySelector('tr[data-group]') !== null`},
		{"group-390", "#/groups/" + g.ID, `document.getElementById('accumulation')?.textContent === '5'`}, // the 3 reset to, the page's, the long one
	} {
		b.run("opening "+p.name, chromedp.Navigate(e.srv.URL+"/"+p.hash), chromedp.Reload())
		b.until(p.name, p.ready)
		if p.name == "group-390" { // by keyboard: Peek is a <button> that takes focus and Enter
			b.run("peeking by keyboard", chromedp.Focus(chromedp.ID("peek")), chromedp.KeyEvent(kb.Enter))
			b.until("the long payload", `document.querySelector('#peek-result pre.payload') !== null`)
		}
		if width := eval[int](b, `document.documentElement.scrollWidth`); width > 390 {
			t.Errorf("%s: scrollWidth %d > 390", p.name, width)
		}
		b.screenshot(p.name)
	}
}
