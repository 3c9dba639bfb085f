package console_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/amqpemu/amqpemu/alerts"
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
		banner, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById('banner').hidden ? '' : document.getElementById('banner-text').textContent`))
		body, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		b.t.Fatalf("waiting for %s: %v (the banner says %q) %s", what, err, banner, body)
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

// newBrowserEnv is a console as `amqpemu serve` wires it: history
// sampler, alert evaluator (driven by the test: Evaluate, Flush) and the
// development access key shown.
func newBrowserEnv(t *testing.T) (*env, *alerts.Evaluator) {
	t.Helper()
	var ev *alerts.Evaluator
	e := newEnv(t, func(cfg *console.Config) {
		b := cfg.Broker.(*broker.Broker)
		s, err := history.New(history.Config{Source: b})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		t.Cleanup(s.Close)
		ev, err = alerts.New(context.Background(), alerts.Config{Source: b, Store: b.StateBucket("alerts"), Logger: cfg.Logger, RetryWait: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ev.Close(context.Background()) })
		cfg.History, cfg.Alerts = s, ev
		cfg.AccessKeyID, cfg.AccessKeySecret, cfg.ShowAccessKeySecret = "amqpemu-dev-key", "amqpemu-dev-secret", true
	})
	return e, ev
}

// TestWebConsoleInBrowser drives the web console in headless chromium
// against a console on a real broker: overview, live accumulation, peek,
// Delete refused, Clear, and the layout at 390 px.
func TestWebConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	b := newBrowser(t)
	e, _ := newBrowserEnv(t)
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
	if id, secret := eval[string](b, `document.getElementById('key-id').value`), eval[string](b, `document.getElementById('key-secret').value`); id != "amqpemu-dev-key" || secret != "amqpemu-dev-secret" {
		t.Errorf("access key shown %q / %q", id, secret)
	}
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
	b.until("the backlog on the chart", `document.getElementById('chart').dataset.lastAccumulation === '3'`)
	b.run("widening the chart", chromedp.SetValue(chromedp.ID("window"), "1h"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('window').dispatchEvent(new Event('change'))`))
	b.until("the hour's chart", `document.getElementById('chart').dataset.window === '1h' && document.getElementById('chart').dataset.lastAccumulation === '3'`)

	// Peek, on the Messages tab: payloads byte-exact, the backlog untouched.
	b.run("the Messages tab", chromedp.Click(chromedp.ID("tab-link-messages")))
	b.run("peeking", chromedp.WaitVisible(chromedp.ID("peek")), chromedp.SetValue(chromedp.ID("peek-count"), "3"), chromedp.Click(chromedp.ID("peek")))
	b.until("peeked rows", `document.querySelectorAll('#peek-result pre.payload').length === 3`)
	shown := eval[[]string](b, `[...document.querySelectorAll('#peek-result pre.payload')].map(e => e.textContent)`)
	if want := []string{payload, "ff 00 41 fe", "third"}; fmt.Sprint(shown) != fmt.Sprint(want) {
		t.Errorf("peek shows %q, want %q", shown, want)
	}
	// As JSON: the JSON payload indented, the others as they must be shown.
	b.run("peeking as JSON", chromedp.SetValue(chromedp.ID("peek-format"), "json"), chromedp.Click(chromedp.ID("peek")))
	b.until("the JSON rendering", `document.querySelector('#peek-result pre.payload').dataset.format === 'json'`)
	formats := eval[[]string](b, `[...document.querySelectorAll('#peek-result pre.payload')].map(e => e.dataset.format + ':' + e.textContent)`)
	indented := "{\n  \"t\": 21.5,\n  \"note\": \"<b>&amp; é ✓</b>  two spaces\"\n}"
	if want := []string{"json:" + indented, "hex:ff 00 41 fe", "text:third"}; fmt.Sprint(formats) != fmt.Sprint(want) {
		t.Errorf("peek as JSON shows %q, want %q", formats, want)
	}
	if n := accumulation(); n != 3 {
		t.Errorf("accumulation after peek: %d, want 3", n)
	}

	// Delete of a subscribed group, on the Status tab: the guard's reason, in words.
	b.run("the Status tab", chromedp.Click(chromedp.ID("tab-link-status")))
	b.run("deleting", chromedp.WaitVisible(chromedp.ID("delete")), chromedp.Click(chromedp.ID("delete")))
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
	b.run("the Messages tab again", chromedp.Click(chromedp.ID("tab-link-messages")))
	b.run("publishing from the page", chromedp.WaitVisible(chromedp.ID("publish")), chromedp.SetValue(chromedp.ID("pub-product"), "pk1"), chromedp.SetValue(chromedp.ID("pub-device"), "d9"),
		chromedp.SetValue(chromedp.ID("pub-payload"), `{"from":"the console"}`), chromedp.Click(chromedp.ID("publish")))
	b.until("the published id", `document.getElementById('publish-result').textContent.startsWith('Published, message id ')`)
	b.until("accumulation 4", `document.getElementById('accumulation').textContent === '4'`)
	if n := accumulation(); n != 4 {
		t.Errorf("accumulation after publishing from the page: %d, want 4", n)
	}

	b.screenshot("group-messages-1280")

	// A consumer attaching shows in the clients table.
	b.run("the Status tab again", chromedp.Click(chromedp.ID("tab-link-status")))
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
		{"overview-390", "#/", `document.getElementById('ingested')?.textContent === '5'`},                // 3 posted, 1 from the page, the long one
		{"group-390", "#/groups/" + g.ID, `document.getElementById('accumulation')?.textContent === '5'`}, // the 3 reset to, the page's, the long one
		{"group-messages-390", "#/groups/" + g.ID + "/messages", `document.getElementById('accumulation')?.textContent === '5'`},
	} {
		b.run("opening "+p.name, chromedp.Navigate(e.srv.URL+"/"+p.hash), chromedp.Reload())
		b.until(p.name, p.ready)
		if p.name == "group-messages-390" { // by keyboard: Peek is a <button> that takes focus and Enter
			b.run("peeking by keyboard", chromedp.Focus(chromedp.ID("peek")), chromedp.KeyEvent(kb.Enter))
			b.until("the long payload", `document.querySelector('#peek-result pre.payload') !== null`)
		}
		if width := eval[int](b, `document.documentElement.scrollWidth`); width > 390 {
			t.Errorf("%s: scrollWidth %d > 390", p.name, width)
		}
		b.screenshot(p.name)
	}
}

// TestWebConsoleSubscriptionsAndAlerts drives the Subscriptions and Alert
// rules pages: a subscription added, edited and deleted; a rule created
// from the form, seen firing with its notification, edited and deleted.
func TestWebConsoleSubscriptionsAndAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	b := newBrowser(t)
	e, ev := newBrowserEnv(t)
	var g struct{ ID string }
	e.want(e.do("POST", "/api/v1/groups", map[string]string{"name": "subs_group"}), http.StatusCreated, &g)
	type subscription struct{ Groups, Kinds []string }
	subscriptionOf := func(pk string) subscription {
		t.Helper()
		var s subscription
		e.want(e.do("GET", "/api/v1/products/"+pk+"/subscription", nil), http.StatusOK, &s)
		return s
	}

	// Subscribe pkA to subs_group from the form.
	b.run("opening subscriptions", chromedp.Navigate(e.srv.URL+"/#/subscriptions"))
	b.until("the empty list and the group's checkbox", `document.getElementById('no-subscriptions') !== null && document.querySelector('#sub-groups input[value="`+g.ID+`"]') !== null`)
	b.run("subscribing pkA", chromedp.SetValue(chromedp.ID("sub-product"), "pkA"), chromedp.Click(chromedp.CSS(`#sub-groups input[value="`+g.ID+`"]`)),
		chromedp.Click(chromedp.ID("sub-save")))
	b.until("pkA's row", `document.querySelector('tr[data-product="pkA"]')?.innerText.includes('subs_group')`)
	if s := subscriptionOf("pkA"); fmt.Sprint(s.Groups, s.Kinds) != fmt.Sprint([]string{g.ID}, []string{"data"}) {
		t.Errorf("pkA after saving: %+v", s)
	}

	// Edit: add the status kind and DEFAULT_GROUP.
	b.run("editing pkA", chromedp.Click(chromedp.CSS(`button[data-edit="pkA"]`)))
	b.until("the form in edit mode", `document.getElementById('sub-product').readOnly && document.querySelector('#sub-kinds input[value="data"]').checked`)
	b.run("ticking", chromedp.Click(chromedp.CSS(`#sub-kinds input[value="status"]`)), chromedp.Click(chromedp.CSS(`#sub-groups input[value="DEFAULT_GROUP"]`)),
		chromedp.Click(chromedp.ID("sub-save")))
	b.until("pkA's kinds", `document.querySelector('tr[data-product="pkA"]')?.innerText.includes('data, status')`)
	if s := subscriptionOf("pkA"); len(s.Groups) != 2 || fmt.Sprint(s.Kinds) != "[data status]" {
		t.Errorf("pkA after editing: %+v", s)
	}

	// A refusal in words: a product key the API rejects.
	b.run("saving a bad product key", chromedp.SetValue(chromedp.ID("sub-product"), "bad key!"),
		chromedp.Click(chromedp.CSS(`#sub-groups input[value="`+g.ID+`"]`)), chromedp.Click(chromedp.ID("sub-save")))
	b.until("the refusal", `!document.getElementById('banner').hidden && document.getElementById('banner-text').textContent.includes('400')`)
	b.screenshot("subscriptions-1280")

	// Delete, confirmed: pkA has no subscription any more.
	b.run("deleting pkA", chromedp.Click(chromedp.CSS(`button[data-delete="pkA"]`)))
	b.until("the row gone", `document.querySelector('tr[data-product="pkA"]') === null`)
	if s := subscriptionOf("pkA"); len(s.Groups) != 0 {
		t.Errorf("pkA after deleting: %+v", s)
	}
	if d := b.dialogsSeen(); len(d) != 1 || !strings.Contains(d[0], "Delete the subscription of product pkA") {
		t.Errorf("dialogs %q", d)
	}

	// Alert rules: create one from the form on subs_group's accumulation.
	hook := newHookServer(t)
	b.run("opening alert rules", chromedp.Navigate(e.srv.URL+"/#/alerts"))
	b.until("the empty list and the group option", `document.getElementById('no-alerts') !== null && document.querySelector('#rule-group option[value="`+g.ID+`"]') !== null`)
	b.run("filling the rule", chromedp.SetValue(chromedp.ID("rule-name"), "backlog high"), chromedp.SetValue(chromedp.ID("rule-group"), g.ID),
		chromedp.SetValue(chromedp.ID("rule-threshold"), "0"), chromedp.SetValue(chromedp.ID("rule-period"), "60"),
		chromedp.SetValue(chromedp.ID("rule-times"), "1"), chromedp.SetValue(chromedp.ID("rule-webhook"), hook.URL),
		chromedp.SetValue(chromedp.ID("rule-format"), "json"), chromedp.Click(chromedp.ID("rule-save")))
	b.until("the created rule", `document.getElementById('rule-result').textContent.startsWith('Created the rule backlog high')`)
	var list struct {
		Alerts []struct {
			ID, Name, Group, Metric, Comparison, WebhookFormat string
			Threshold                                          float64
			Period, Times                                      int
		}
	}
	e.want(e.do("GET", "/api/v1/alerts", nil), http.StatusOK, &list)
	if len(list.Alerts) != 1 {
		t.Fatalf("rules after creating: %+v", list)
	}
	rule := list.Alerts[0]
	if rule.Name != "backlog high" || rule.Group != g.ID || rule.Metric != "AccumulationCount" || rule.Comparison != "GreaterThanOrEqualToThreshold" ||
		rule.Threshold != 0 || rule.Period != 60 || rule.Times != 1 || rule.WebhookFormat != "json" {
		t.Errorf("created rule %+v", rule)
	}

	// Two evaluations a period apart: it fires; the page shows ALERT and the notification.
	t0 := time.Date(2030, 1, 7, 12, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{t0, t0.Add(time.Minute)} {
		if err := ev.Evaluate(context.Background(), at); err != nil {
			t.Fatal(err)
		}
	}
	if err := ev.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := hook.count(); n != 1 {
		t.Fatalf("webhook calls: %d, want 1", n)
	}
	row := fmt.Sprintf(`tr[data-rule=%q]`, rule.ID)
	b.until("the ALERT state", `document.querySelector('`+row+` .rule-state .state-ALERT') !== null`)
	b.run("showing notifications", chromedp.Click(chromedp.CSS(`button[data-history="`+rule.ID+`"]`)))
	b.until("the notification", `document.getElementById('alert-history').innerText.includes('HTTP 200')`)
	b.screenshot("alerts-1280")

	// Edit: the threshold changes, the rest stays.
	b.run("editing the rule", chromedp.Click(chromedp.CSS(`button[data-edit="`+rule.ID+`"]`)))
	b.until("the form filled", `document.getElementById('rule-name').value === 'backlog high' && document.getElementById('rule-format').value === 'json'`)
	b.run("saving", chromedp.SetValue(chromedp.ID("rule-threshold"), "250"), chromedp.Click(chromedp.ID("rule-save")))
	b.until("the saved rule", `document.getElementById('rule-result').textContent.startsWith('Saved the rule backlog high')`)
	e.want(e.do("GET", "/api/v1/alerts", nil), http.StatusOK, &list)
	if len(list.Alerts) != 1 || list.Alerts[0].Threshold != 250 || list.Alerts[0].WebhookFormat != "json" || list.Alerts[0].Period != 60 {
		t.Errorf("rule after editing: %+v", list.Alerts)
	}

	// A bad field is refused in words.
	b.run("a bad interval", chromedp.SetValue(chromedp.ID("rule-name"), "bad"), chromedp.SetValue(chromedp.ID("rule-webhook"), hook.URL),
		chromedp.SetValue(chromedp.ID("rule-interval"), "25:00-26:00"), chromedp.Click(chromedp.ID("rule-save")))
	b.until("the refusal", `!document.getElementById('banner').hidden && document.getElementById('banner-text').textContent.includes('effectiveInterval')`)

	// Delete, confirmed.
	b.run("deleting the rule", chromedp.Click(chromedp.CSS(`button[data-delete="`+rule.ID+`"]`)))
	b.until("the list empty", `document.getElementById('no-alerts') !== null`)
	if r := e.do("GET", "/api/v1/alerts/"+rule.ID, nil); r.status != http.StatusNotFound {
		t.Errorf("the rule after deleting: %d %s", r.status, r)
	}

	// 390 px: no horizontal scroll on either page.
	b.run("narrowing", chromedp.EmulateViewport(390, 844))
	for _, p := range []string{"subscriptions", "alerts"} {
		b.run("opening "+p, chromedp.Navigate(e.srv.URL+"/#/"+p), chromedp.Reload())
		b.until(p+" at 390 px", `document.querySelector('main .form') !== null && document.querySelector('main h1') !== null`)
		if width := eval[int](b, `document.documentElement.scrollWidth`); width > 390 {
			t.Errorf("%s: scrollWidth %d > 390", p, width)
		}
		b.screenshot(p + "-390")
	}
}

// hookServer is a webhook that answers 200 and counts its calls.
type hookServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls int
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.calls++
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

// TestWebConsoleLogService: the Log service page lists a log service
// consumer group with its backlog per shard and its live consumer, and the
// forwarding rules; a rule is set from the form (a refusal shown in
// words) and deleted, confirmed; no horizontal scroll at 390 px.
func TestWebConsoleLogService(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	b := newBrowser(t)
	e, c := newLogEnv(t)
	if err := c.CreateConsumerGroup("rest-project", "iot-data", sls.ConsumerGroup{ConsumerGroupName: "app", Timeout: 120}); err != nil {
		t.Fatal(err)
	}
	for _, held := range [][]int{nil, {0, 1}} { // assigned both shards, then reports running them
		if _, err := c.HeartBeat("rest-project", "iot-data", "app", "worker-1", held); err != nil {
			t.Fatal(err)
		}
	}

	b.run("opening the log service page", chromedp.Navigate(e.srv.URL+"/#/logservice"))
	b.until("the group and no rule", `document.querySelector('tr[data-log-group="rest-project/iot-data/app"]') !== null && document.getElementById('no-log-forwards') !== null`)
	b.run("a rule to a missing logstore", chromedp.SetValue(chromedp.ID("fwd-product"), "pkW"), chromedp.SetValue(chromedp.ID("fwd-project"), "rest-project"),
		chromedp.SetValue(chromedp.ID("fwd-logstore"), "nowhere"), chromedp.Click(chromedp.ID("fwd-save")))
	b.until("the refusal", `!document.getElementById('banner').hidden && document.getElementById('banner-text').textContent.includes('LogstoreNotFound')`)
	b.run("the rule", chromedp.SetValue(chromedp.ID("fwd-logstore"), "iot-data"), chromedp.Click(chromedp.ID("fwd-save")))
	b.until("the rule's row", `document.querySelector('tr[data-log-forward="pkW"]')?.innerText.includes('iot-data')`)

	e.publish([]map[string]string{
		{"productKey": "pkW", "deviceName": "d1", "payload": "one"},
		{"productKey": "pkW", "deviceName": "d2", "payload": "two"},
		{"productKey": "pkW", "deviceName": "d3", "payload": "three"},
	})
	row := `tr[data-log-group="rest-project/iot-data/app"]`
	b.until("a backlog of 3", `document.querySelector('`+row+` td[data-backlog]')?.textContent === '3' && document.getElementById('ls-total-backlog').textContent === '3'`)
	if text := b.text(row); !strings.Contains(text, "worker-1") {
		t.Errorf("group row %q lacks the live consumer", text)
	}
	b.until("shard 0 run by worker-1", `document.querySelector('tr[data-log-shard="rest-project/iot-data/app/0"]')?.innerText.includes('worker-1')`)
	b.screenshot("logservice-1280")

	b.run("narrowing", chromedp.EmulateViewport(390, 844), chromedp.Reload())
	b.until("the page at 390 px", `document.querySelector('`+row+`') !== null && document.querySelector('tr[data-log-forward="pkW"]') !== null`)
	if width := eval[int](b, `document.documentElement.scrollWidth`); width > 390 {
		t.Errorf("logservice: scrollWidth %d > 390", width)
	}
	b.screenshot("logservice-390")

	b.run("deleting the rule", chromedp.Click(chromedp.CSS(`button[data-delete="pkW"]`)))
	b.until("no rule", `document.getElementById('no-log-forwards') !== null`)
	if d := b.dialogsSeen(); len(d) != 1 || !strings.Contains(d[0], "pkW") {
		t.Errorf("dialogs %q", d)
	}
	e.wantError(e.do("GET", "/api/v1/products/pkW/logforward", nil), http.StatusNotFound, console.CodeLogForwardNotFound)
}
