package queueservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/internal/brokertest"
)

// TestEverySentinelMapped: each broker sentinel this front end can meet has
// its answer, wrapped or not, and anything else is an internal error.
func TestEverySentinelMapped(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want errKind
	}{
		{broker.ErrInvalidName, errInvalidParam},
		{broker.ErrInvalidArgument, errInvalidParam},
		{broker.ErrMessageTooLarge, errTooLarge},
		{broker.ErrQueueStreamNotFound, errQueueNotFound},
		{broker.ErrBadDelivery, errInvalidParam},
		{broker.ErrUnavailable, errUnavailable},
		{broker.ErrClosed, errUnavailable},
		{errors.New("something else"), errInternal},
	} {
		for _, err := range []error{tc.err, fmt.Errorf("wrapped: %w", tc.err)} {
			if got := toError(err); got.Code != tc.want.code || got.Status != tc.want.status {
				t.Errorf("toError(%v) = %d %s, want %d %s", err, got.Status, got.Code, tc.want.status, tc.want.code)
			}
		}
	}
	if len(brokerErrors) != 7 {
		t.Errorf("brokerErrors has %d entries; this test covers 7", len(brokerErrors))
	}
	if !errors.Is(errorf(errQueueNotFound, "x"), ErrQueueNotFound) || !errors.Is(errorf(errGroupNotFound, "x"), ErrGroupNotFound) ||
		!errors.Is(errorf(errBadGroupName, "x"), ErrInvalid) || errors.Is(errorf(errQueueNotFound, "x"), ErrGroupNotFound) {
		t.Error("the sentinels do not match their answers")
	}
}

// TestQueueSignature: the SDK's signer gets in; a wrong secret, a wrong
// key, a stale or future date, no signature and a changed body do not.
func TestQueueSignature(t *testing.T) {
	hs, _ := startServer(t, brokertest.Open(t, t.TempDir()))
	c := newClient(t, hs)
	c.ok(200, nil, "GET", c.base(), nil, nil)
	c.ok(201, nil, "POST", c.base(), nil, map[string]any{"name": "signed-queue"})
	c.ok(200, nil, "GET", "/v2/"+testProject+"/queues", map[string]string{"include_deadletter": "true", "a b": "c/d é"}, nil)
	// Another media type: the SDK signs X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD instead of the body.
	plain := newClient(t, hs)
	plain.mediaType = "text/plain"
	if r := plain.request("GET", plain.base(), nil, nil); r.Header.Get(contentHeader) != "UNSIGNED-PAYLOAD" {
		t.Fatalf("the SDK did not send %s for text/plain", contentHeader)
	}
	plain.ok(200, nil, "GET", plain.base(), nil, nil)

	for _, tc := range []struct {
		name string
		mod  func(*client)
	}{
		{"wrong secret", func(c *client) { c.secret = "not-the-secret" }},
		{"wrong key", func(c *client) { c.ak = "SOMEONEELSE" }},
		{"stale date", func(c *client) { c.date = time.Now().Add(-20 * time.Minute).UTC().Format(dateFormat) }},
		{"future date", func(c *client) { c.date = time.Now().Add(20 * time.Minute).UTC().Format(dateFormat) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := newClient(t, hs)
			tc.mod(bad)
			a := bad.do("POST", bad.base(), nil, map[string]any{"name": "never-made"})
			if a.status != http.StatusUnauthorized || a.err.Code != errUnauthorized.code || a.err.Message == "" {
				t.Errorf("%d %s, want 401 %s", a.status, a.body, errUnauthorized.code)
			}
		})
	}
	// Unsigned, and a signed request whose body was changed on the way.
	resp, err := http.Get(hs.URL + c.base())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned: %d, want 401", resp.StatusCode)
	}
	for _, tc := range []struct {
		name   string
		change func(*http.Request)
	}{
		{"body changed", func(r *http.Request) {
			body := `{"name":"other-queue"}`
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
		}},
		{"path changed", func(r *http.Request) { r.URL.Path = "/v1.0/another-project/queues" }},
		{"query added", func(r *http.Request) { r.URL.RawQuery = "include_deadletter=true" }},
		{"signed header changed", func(r *http.Request) { r.Header.Set("X-Project-Id", "another-project") }},
		{"date not signed", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-sdk-date", "", 1))
		}},
		{"unsigned payload added", func(r *http.Request) { r.Header.Set(contentHeader, "UNSIGNED-PAYLOAD") }},
		{"other algorithm", func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SDK-HMAC-SHA256", "SDK-HMAC-SM3", 1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, hs)
			r := c.request("POST", c.base(), nil, map[string]any{"name": "tampered"})
			tc.change(r)
			if a := c.roundTrip(r); a.status != http.StatusUnauthorized || a.err.Code != errUnauthorized.code {
				t.Errorf("%d %s, want 401 %s", a.status, a.body, errUnauthorized.code)
			}
		})
	}
	var qs struct{ Queues []Queue }
	c.ok(200, &qs, "GET", c.base(), nil, nil)
	if len(qs.Queues) != 1 || qs.Queues[0].Name != "signed-queue" {
		t.Errorf("queues %+v: only signed-queue should exist", qs.Queues)
	}
}

// TestQueueValidation: bad identifiers and bodies get the documented
// status and an error body, and nothing is made.
func TestQueueValidation(t *testing.T) {
	hs, _ := startServer(t, brokertest.Open(t, t.TempDir()))
	c := newClient(t, hs)
	q := c.createQueue("valid")
	g := c.createGroups(q, "g1")[0]
	base := c.base()
	long := strings.Repeat("a", 33)
	for _, tc := range []struct {
		name, method, path string
		query              map[string]string
		body               any
		status             int
		code               string
	}{
		{"queue name empty", "POST", base, nil, map[string]any{"name": ""}, 400, errInvalidParam.code},
		{"queue name too long", "POST", base, nil, map[string]any{"name": strings.Repeat("q", 65)}, 400, errInvalidParam.code},
		{"description with brackets", "POST", base, nil, map[string]any{"name": "d", "description": "<b>"}, 400, errInvalidParam.code},
		{"queue name with a dot", "POST", base, nil, map[string]any{"name": "a.b"}, 400, errInvalidParam.code},
		{"queue name taken", "POST", base, nil, map[string]any{"name": "valid"}, 400, errQueueExists.code},
		{"queue mode unknown", "POST", base, nil, map[string]any{"name": "m", "queue_mode": "LIFO"}, 400, errInvalidParam.code},
		{"retention too long", "POST", base, nil, map[string]any{"name": "r", "retention_hours": 73}, 400, errInvalidParam.code},
		{"body not JSON", "POST", base, nil, "not an object", 400, errInvalidBody.code},
		{"project with a dot", "GET", "/v1.0/a.b/queues", nil, nil, 400, errInvalidParam.code},
		{"unknown queue", "GET", base + "/nope", nil, nil, 404, errQueueNotFound.code},
		{"queue id with a star", "GET", base + "/a*b", nil, nil, 404, errQueueNotFound.code},
		{"unknown group", "GET", base + "/" + q + "/groups/g-nope/messages", nil, nil, 404, errGroupNotFound.code},
		{"group id too long", "DELETE", base + "/" + q + "/groups/" + strings.Repeat("g", 65), nil, nil, 404, errGroupNotFound.code},
		{"group name too long", "POST", base + "/" + q + "/groups", nil, map[string]any{"groups": []map[string]string{{"name": long}}}, 400, errBadGroupName.code},
		{"group name with a space", "POST", base + "/" + q + "/groups", nil, map[string]any{"groups": []map[string]string{{"name": "a b"}}}, 400, errBadGroupName.code},
		{"group name empty", "POST", base + "/" + q + "/groups", nil, map[string]any{"groups": []map[string]string{{"name": ""}}}, 400, errBadGroupName.code},
		{"no groups", "POST", base + "/" + q + "/groups", nil, map[string]any{"groups": []map[string]string{}}, 400, errInvalidBody.code},
		{"group name taken", "POST", base + "/" + q + "/groups", nil, map[string]any{"groups": []map[string]string{{"name": "g1"}}}, 400, errGroupExists.code},
		{"group name twice", "POST", base + "/" + q + "/groups", nil, map[string]any{"groups": []map[string]string{{"name": "x"}, {"name": "x"}}}, 400, errGroupExists.code},
		{"max_msgs 0", "GET", base + "/" + q + "/groups/" + g + "/messages", map[string]string{"max_msgs": "0"}, nil, 400, errInvalidParam.code},
		{"max_msgs 11", "GET", base + "/" + q + "/groups/" + g + "/messages", map[string]string{"max_msgs": "11"}, nil, 400, errInvalidParam.code},
		{"time_wait 61", "GET", base + "/" + q + "/groups/" + g + "/messages", map[string]string{"time_wait": "61"}, nil, 400, errInvalidParam.code},
		{"ack_wait 10", "GET", base + "/" + q + "/groups/" + g + "/messages", map[string]string{"ack_wait": "10"}, nil, 400, errInvalidParam.code},
		{"tag_type xor", "GET", base + "/" + q + "/groups/" + g + "/messages", map[string]string{"tag_type": "xor"}, nil, 400, errInvalidParam.code},
		{"no messages", "POST", base + "/" + q + "/messages", nil, map[string]any{"messages": []any{}}, 400, errInvalidBody.code},
		{"eleven messages", "POST", base + "/" + q + "/messages", nil, map[string]any{"messages": slices.Repeat([]any{map[string]any{"body": 1}}, 11)}, 400, errInvalidBody.code},
		{"four tags", "POST", base + "/" + q + "/messages", nil, map[string]any{"messages": []any{map[string]any{"body": 1, "tags": []string{"a", "b", "c", "d"}}}}, 400, errInvalidBody.code},
		{"a bad tag", "POST", base + "/" + q + "/messages", nil, map[string]any{"messages": []any{map[string]any{"body": 1, "tags": []string{"a b"}}}}, 400, errInvalidBody.code},
		{"negative delay", "POST", base + "/" + q + "/messages", nil, map[string]any{"messages": []any{map[string]any{"body": 1, "delay_time": -1}}}, 400, errInvalidBody.code},
		{"delay over 7 days", "POST", base + "/" + q + "/messages", nil, map[string]any{"messages": []any{map[string]any{"body": 1, "delay_time": 604800001}}}, 400, errInvalidBody.code},
		{"message without a body", "POST", base + "/" + q + "/messages", nil, map[string]any{"messages": []any{map[string]any{"attributes": map[string]string{}}}}, 400, errInvalidBody.code},
		{"messages over 512 KB", "POST", base + "/" + q + "/messages", nil, map[string]any{"messages": slices.Repeat([]any{map[string]any{"body": strings.Repeat("x", 60<<10)}}, 10)}, 400, errTooLarge.code},
		{"send to an unknown queue", "POST", base + "/nope/messages", nil, map[string]any{"messages": []any{map[string]any{"body": 1}}}, 404, errQueueNotFound.code},
		{"ack status unknown", "POST", base + "/" + q + "/groups/" + g + "/ack", nil, map[string]any{"message": []Ack{{Handler: "x", Status: "maybe"}}}, 400, errInvalidBody.code},
		{"ack without handler", "POST", base + "/" + q + "/groups/" + g + "/ack", nil, map[string]any{"message": []Ack{{Status: "success"}}}, 400, errInvalidBody.code},
		{"ack of nothing", "POST", base + "/" + q + "/groups/" + g + "/ack", nil, map[string]any{"message": []Ack{}}, 400, errInvalidBody.code},
		{"unknown path", "GET", base + "/" + q + "/other", nil, nil, 404, errNoRoute.code},
		{"unknown version", "GET", "/v3/" + testProject + "/queues", nil, nil, 404, errNoRoute.code},
		{"wrong method", "PUT", base + "/" + q, nil, nil, 405, errMethod.code},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := c.do(tc.method, tc.path, tc.query, tc.body)
			if a.status != tc.status || a.err.Code != tc.code || a.err.Message == "" {
				t.Errorf("%d %s, want %d %s", a.status, a.body, tc.status, tc.code)
			}
		})
	}
	var list GroupList
	c.ok(200, &list, "GET", base+"/"+q+"/groups", nil, nil)
	if len(list.Groups) != 1 {
		t.Errorf("groups after the failures: %+v, want g1 alone", list.Groups)
	}
	var qs struct{ Queues []Queue }
	c.ok(200, &qs, "GET", base, nil, nil)
	if len(qs.Queues) != 1 {
		t.Errorf("queues after the failures: %+v, want valid alone", qs.Queues)
	}
}

// TestQueueGroupBatches: one to three groups per request are made with
// g-<uuid> ids; four fail and make none; list and delete.
func TestQueueGroupBatches(t *testing.T) {
	hs, _ := startServer(t, brokertest.Open(t, t.TempDir()))
	c := newClient(t, hs)
	q := c.createQueue("batches")
	var all []string
	for n := 1; n <= 3; n++ {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("group-%d_%d", n, i)
		}
		ids := c.createGroups(q, names...)
		if len(ids) != n {
			t.Fatalf("made %d groups, want %d", len(ids), n)
		}
		for _, id := range ids {
			if len(id) != 38 || !strings.HasPrefix(id, "g-") || strings.Count(id, "-") != 5 {
				t.Errorf("group id %q is not g- and a UUID", id)
			}
		}
		all = append(all, ids...)
	}
	a := c.do("POST", c.base()+"/"+q+"/groups", nil, map[string]any{"groups": []map[string]string{{"name": "a"}, {"name": "b"}, {"name": "c"}, {"name": "d"}}})
	if a.status != 400 || a.err.Code != errTooManyInBatch.code {
		t.Errorf("four at once: %d %s, want 400 %s", a.status, a.body, errTooManyInBatch.code)
	}
	var list GroupList
	c.ok(200, &list, "GET", c.base()+"/"+q+"/groups", map[string]string{"include_messages_num": "true"}, nil)
	if len(list.Groups) != 6 || list.QueueID != q || list.QueueName != "batches" || list.RedrivePolicy != "disable" {
		t.Fatalf("list %+v, want the 6 groups", list)
	}
	for _, g := range list.Groups {
		if strings.HasPrefix(g.Name, "a") || strings.HasPrefix(g.Name, "b") {
			t.Errorf("group %s of the failed request exists", g.Name)
		}
	}
	var paged GroupList
	c.ok(200, &paged, "GET", c.base()+"/"+q+"/groups", map[string]string{"page_size": "4", "current_page": "2"}, nil)
	if len(paged.Groups) != 2 || paged.Total != 6 {
		t.Errorf("page 2 of 4: %+v", paged)
	}
	for _, params := range []map[string]string{
		{"page_size": "4611686018427387904", "current_page": "3"},
		{"page_size": "9223372036854775807", "current_page": "9223372036854775807"},
		{"page_size": "1", "current_page": "7"},
	} {
		var far GroupList
		c.ok(200, &far, "GET", c.base()+"/"+q+"/groups", params, nil)
		if len(far.Groups) != 0 {
			t.Errorf("page %v: %+v, want none", params, far.Groups)
		}
	}
	c.ok(204, nil, "DELETE", c.base()+"/"+q+"/groups/"+all[0], nil, nil)
	if a := c.do("DELETE", c.base()+"/"+q+"/groups/"+all[0], nil, nil); a.status != 404 || a.err.Code != errGroupNotFound.code {
		t.Errorf("deleting it again: %d %s", a.status, a.body)
	}
	var one Queue
	c.ok(200, &one, "GET", c.base()+"/"+q, nil, nil)
	if one.GroupCount != 5 || one.Name != "batches" || one.QueueMode != "NORMAL" || one.Reservation != 72*60 {
		t.Errorf("queue %+v", one)
	}
	c.ok(204, nil, "DELETE", c.base()+"/"+q, nil, nil)
	if a := c.do("GET", c.base()+"/"+q+"/groups", nil, nil); a.status != 404 || a.err.Code != errQueueNotFound.code {
		t.Errorf("groups of a deleted queue: %d %s", a.status, a.body)
	}
}

// TestQueueGroupLimit: a request that would pass the queue's limit makes
// none of its groups.
func TestQueueGroupLimit(t *testing.T) {
	hs, _ := startServer(t, brokertest.Open(t, t.TempDir()), func(c *Config) { c.MaxGroupsPerQueue = 4 })
	c := newClient(t, hs)
	q := c.createQueue("limited")
	c.createGroups(q, "a", "b", "c")
	a := c.do("POST", c.base()+"/"+q+"/groups", nil, map[string]any{"groups": []map[string]string{{"name": "d"}, {"name": "e"}}})
	if a.status != 400 || a.err.Code != errGroupQuota.code {
		t.Errorf("over the limit: %d %s", a.status, a.body)
	}
	c.createGroups(q, "d")
}

// TestQueueConsumeAck: acked messages never come again, fail-acked ones
// at once, unacked ones after the ack wait; the long poll answers the
// first message that arrives.
func TestQueueConsumeAck(t *testing.T) {
	hs, _ := startServer(t, brokertest.Open(t, t.TempDir()), func(c *Config) { c.AckWait = 2 * time.Second })
	c := newClient(t, hs)
	q := c.createQueue("work")
	g := c.createGroups(q, "workers")[0]
	if got := c.consume(q, g, 10, 1); len(got) != 0 {
		t.Fatalf("an empty queue gave %v", bodies(got))
	}
	c.send(q, "m0", "m1", "m2", map[string]any{"k": "m3"})
	got := c.consumeN(q, g, 4, 5)
	if want := []string{"m0", "m1", "m2", `{"k":"m3"}`}; !slices.Equal(bodies(got), want) {
		t.Fatalf("consumed %v, want %v", bodies(got), want)
	}
	if string(got[0].Message.Attributes) != `{"n":"v"}` {
		t.Errorf("attributes %s", got[0].Message.Attributes)
	}
	if res := c.ack(q, g, "success", got[0], got[3]); res != (AckResult{Success: 2}) {
		t.Errorf("ack: %+v", res)
	}
	if res := c.ack(q, g, "fail", got[1]); res != (AckResult{Success: 1}) {
		t.Errorf("fail-ack: %+v", res)
	}
	// m1 is back at once (long before the 2 s ack wait): consume waits 1 s at most.
	again := c.consume(q, g, 10, 1)
	if !slices.Equal(bodies(again), []string{"m1"}) {
		t.Fatalf("after a fail-ack: %v, want m1", bodies(again))
	}
	if res := c.ack(q, g, "success", again[0]); res != (AckResult{Success: 1}) {
		t.Errorf("ack: %+v", res)
	}
	// m2 was never acked: it comes back after the ack wait, within 10 s.
	late := c.consume(q, g, 10, 10)
	if !slices.Equal(bodies(late), []string{"m2"}) {
		t.Fatalf("after the ack wait: %v, want m2", bodies(late))
	}
	if res := c.ack(q, g, "success", late[0]); res != (AckResult{Success: 1}) {
		t.Errorf("ack: %+v", res)
	}
	// A handler acked once more, one of nowhere, and what follows fail.
	bad := Consumed{Handler: "bm90LWEtaGFuZGxlcg"}
	if res := c.ack(q, g, "success", bad, got[0]); res != (AckResult{Fail: 2}) {
		t.Errorf("a bad handler first: %+v, want both failed", res)
	}
	// Everything acked: nothing comes again, even past the ack wait.
	if none := c.consume(q, g, 10, 3); len(none) != 0 {
		t.Errorf("after acking all: %v", bodies(none))
	}
	var list GroupList
	c.ok(200, &list, "GET", c.base()+"/"+q+"/groups", nil, nil)
	if gr := list.Groups[0]; gr.ProducedMessages != 4 || gr.ConsumedMessages != 4 || gr.AvailableMessages != 0 {
		t.Errorf("group counters %+v", gr)
	}
	// The long poll: a message sent while a consumer waits is answered at once.
	done := make(chan []Consumed, 1)
	go func() {
		var out []Consumed
		a := c.do("GET", c.base()+"/"+q+"/groups/"+g+"/messages", map[string]string{"max_msgs": "10", "time_wait": "30"}, nil)
		if a.status == 200 {
			_ = jsonUnmarshal(a.body, &out)
		}
		done <- out
	}()
	c.send(q, "late")
	if got := <-done; !slices.Equal(bodies(got), []string{"late"}) {
		t.Errorf("the long poll answered %v", bodies(got))
	}
}

// TestQueueTwoGroups: each group gets every message; within a group each
// message goes to one consumer.
func TestQueueTwoGroups(t *testing.T) {
	hs, _ := startServer(t, brokertest.Open(t, t.TempDir()))
	c := newClient(t, hs)
	q := c.createQueue("fanout")
	ids := c.createGroups(q, "ga", "gb")
	want := []string{"a", "b", "c", "d", "e", "f"}
	for _, m := range want {
		c.send(q, m)
	}
	for _, g := range ids {
		first := c.consumeN(q, g, 3, 5)
		second := c.consumeN(q, g, 3, 5)
		got := append(bodies(first), bodies(second)...)
		if !slices.Equal(got, want) {
			t.Errorf("group %s: the two consumers got %v and %v, want %v between them once each", g, bodies(first), bodies(second), want)
		}
		c.ack(q, g, "success", append(first, second...)...)
	}
}

// TestQueueAckElsewhere: a handler from one server is acknowledged
// through another on the same engine, and the /v2 paths reach the same
// queues as /v1.0.
func TestQueueAckElsewhere(t *testing.T) {
	b := brokertest.Open(t, t.TempDir())
	hs1, _ := startServer(t, b, func(c *Config) { c.AckWait = 2 * time.Second })
	hs2, _ := startServer(t, b, func(c *Config) { c.AckWait = 2 * time.Second })
	c1, c2 := newClient(t, hs1), newClient(t, hs2)
	q := c1.createQueue("shared")
	var v2 struct{ Groups []CreatedGroup }
	c2.ok(201, &v2, "POST", "/v2/"+testProject+"/queues/"+q+"/groups", nil, map[string]any{"groups": []map[string]string{{"name": "v2group"}}})
	g := v2.Groups[0].ID
	c1.send(q, "x")
	got := c1.consume(q, g, 10, 5)
	if len(got) != 1 {
		t.Fatalf("consumed %v", bodies(got))
	}
	var res AckResult
	c2.ok(200, &res, "POST", "/v2/"+testProject+"/queues/"+q+"/groups/"+g+"/ack", nil, map[string]any{"message": []Ack{{Handler: got[0].Handler, Status: "success"}}})
	if res != (AckResult{Success: 1}) {
		t.Errorf("ack through the other server: %+v", res)
	}
	if again := c2.consume(q, g, 10, 4); len(again) != 0 {
		t.Errorf("acked elsewhere, yet delivered again: %v", bodies(again))
	}
	// A handler of another group is not this group's to settle.
	other := c1.createGroups(q, "other")[0]
	c1.send(q, "y")
	mine := c1.consume(q, g, 1, 5)
	if len(mine) != 1 {
		t.Fatalf("consumed %v", bodies(mine))
	}
	if res := c2.ack(q, other, "success", mine[0]); res != (AckResult{Fail: 1}) {
		t.Errorf("acking another group's handler: %+v", res)
	}
	c2.ok(204, nil, "DELETE", "/v2/"+testProject+"/queues/"+q+"/groups/"+g, nil, nil)
	c2.ok(204, nil, "DELETE", "/v2/"+testProject+"/queues/"+q, nil, nil)
}

// TestQueueRestart: queues, groups, their positions and unacknowledged
// messages are in --data and survive a restart.
func TestQueueRestart(t *testing.T) {
	dir := t.TempDir()
	b := brokertest.Open(t, dir)
	hs, _ := startServer(t, b)
	c := newClient(t, hs)
	q := c.createQueue("durable")
	g := c.createGroups(q, "keeper")[0]
	c.send(q, "acked", "pending")
	got := c.consume(q, g, 1, 5)
	c.ack(q, g, "success", got...)
	hs.Close()
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	hs2, s2 := startServer(t, brokertest.Open(t, dir))
	c2 := newClient(t, hs2)
	var one Queue
	c2.ok(200, &one, "GET", c2.base()+"/"+q, nil, nil)
	if one.Name != "durable" || one.GroupCount != 1 || one.ProducedMessages != 2 {
		t.Errorf("after restart: %+v", one)
	}
	if got := c2.consume(q, g, 10, 5); !slices.Equal(bodies(got), []string{"pending"}) {
		t.Errorf("after restart the group got %v, want pending alone", bodies(got))
	}
	backlogs, err := s2.Backlogs(t.Context())
	if err != nil || len(backlogs) != 1 || backlogs[0].GroupName != "keeper" || backlogs[0].QueueName != "durable" || backlogs[0].AckPending != 1 {
		t.Errorf("Backlogs = %+v, %v", backlogs, err)
	}
}

// TestQueueAckWait: a consumer asking for a longer ack_wait keeps its
// messages past the group's ack wait, and its ack still counts.
func TestQueueAckWait(t *testing.T) {
	hs, _ := startServer(t, brokertest.Open(t, t.TempDir()), func(c *Config) { c.AckWait = time.Second })
	c := newClient(t, hs)
	q := c.createQueue("slow")
	g := c.createGroups(q, "patient")[0]
	c.send(q, "long", "short")
	var long []Consumed
	c.ok(200, &long, "GET", c.base()+"/"+q+"/groups/"+g+"/messages", map[string]string{"max_msgs": "1", "ack_wait": "15"}, nil)
	short := c.consume(q, g, 1, 5)
	if !slices.Equal(bodies(long), []string{"long"}) || !slices.Equal(bodies(short), []string{"short"}) {
		t.Fatalf("consumed %v and %v", bodies(long), bodies(short))
	}
	// Past the group's 1 s, only the message consumed without ack_wait comes back.
	if again := c.consume(q, g, 10, 4); !slices.Equal(bodies(again), []string{"short"}) {
		t.Fatalf("after the group's ack wait: %v, want short alone", bodies(again))
	} else if res := c.ack(q, g, "success", append(long, again...)...); res != (AckResult{Success: 2}) {
		t.Errorf("ack: %+v", res)
	}
	if none := c.consume(q, g, 10, 2); len(none) != 0 {
		t.Errorf("after acking both: %v", bodies(none))
	}
}

// TestQueueDelay: a delayed message reaches no consumer before its time,
// then does; Kafka queues refuse delays.
func TestQueueDelay(t *testing.T) {
	hs, _ := startServer(t, brokertest.Open(t, t.TempDir()))
	c := newClient(t, hs)
	q := c.createQueue("later")
	g := c.createGroups(q, "g")[0]
	var out struct{ Messages []SendResult }
	c.ok(201, &out, "POST", c.base()+"/"+q+"/messages", nil, map[string]any{"messages": []any{
		map[string]any{"body": "delayed", "delay_time": 2500.7, "tags": []string{"t1"}}, map[string]any{"body": "now"}}})
	start := time.Now()
	first := c.consumeN(q, g, 1, 5)
	if !slices.Equal(bodies(first), []string{"now"}) {
		t.Fatalf("first consume: %v, want now alone", bodies(first))
	}
	later := c.consumeN(q, g, 1, 10)
	if !slices.Equal(bodies(later), []string{"delayed"}) || !slices.Equal(later[0].Message.Tags, []string{"t1"}) {
		t.Fatalf("then: %+v, want delayed with tag t1", later)
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("the delayed message came after %v, before its 2.5 s", waited)
	}
	if res := c.ack(q, g, "success", append(first, later...)...); res != (AckResult{Success: 2}) {
		t.Errorf("ack: %+v", res)
	}
	var kq struct{ ID string }
	c.ok(201, &kq, "POST", c.base(), nil, map[string]any{"name": "kafka-like", "queue_mode": "KAFKA_HA", "retention_hours": 1})
	a := c.do("POST", c.base()+"/"+kq.ID+"/messages", nil, map[string]any{"messages": []any{map[string]any{"body": 1, "delay_time": 1000}}})
	if a.status != 400 || a.err.Code != errKafkaDelay.code {
		t.Errorf("a delay on a Kafka queue: %d %s", a.status, a.body)
	}
}
