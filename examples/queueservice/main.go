// Command queueservice makes a queue with two consumer groups on the queue
// service's API, sends three messages, and has each group consume and
// acknowledge all three: every group gets every message. Requests are
// signed as the vendor's Go SDK signs them (its core/auth/signer,
// SDK-HMAC-SHA256). QUEUE_ENDPOINT is where they go: amqpemu's --http,
// http://127.0.0.1:8080 by default.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

const (
	key, secret = "amqpemu-dev-key", "amqpemu-dev-secret"
	project     = "0123456789abcdef0123456789abcdef"
)

func main() {
	endpoint := os.Getenv("QUEUE_ENDPOINT")
	if endpoint == "" {
		endpoint = "http://127.0.0.1:8080"
	}
	base := "/v1.0/" + project + "/queues"
	var queue struct{ ID string }
	call(endpoint, "POST", base, nil, map[string]any{"name": fmt.Sprintf("orders-%d", time.Now().UnixNano())}, 201, &queue)

	var made struct{ Groups []struct{ ID, Name string } }
	call(endpoint, "POST", base+"/"+queue.ID+"/groups", nil,
		map[string]any{"groups": []map[string]string{{"name": "billing"}, {"name": "shipping"}}}, 201, &made)

	msgs := []map[string]any{{"body": "order 1"}, {"body": map[string]int{"order": 2}}, {"body": "order 3", "attributes": map[string]string{"priority": "high"}}}
	call(endpoint, "POST", base+"/"+queue.ID+"/messages", nil, map[string]any{"messages": msgs}, 201, nil)

	for _, g := range made.Groups {
		path := base + "/" + queue.ID + "/groups/" + g.ID
		acked := 0
		for acked < len(msgs) {
			var got []struct {
				Message struct{ Body json.RawMessage }
				Handler string
			}
			// A long poll: up to 10 messages, waiting at most 3 s for the first.
			call(endpoint, "GET", path+"/messages", map[string]string{"max_msgs": "10", "time_wait": "3"}, nil, 200, &got)
			if len(got) == 0 {
				fail(fmt.Errorf("group %s: %d of %d messages came", g.Name, acked, len(msgs)))
			}
			acks := make([]map[string]string, len(got))
			for i, m := range got {
				fmt.Printf("%s got %s\n", g.Name, m.Message.Body)
				acks[i] = map[string]string{"handler": m.Handler, "status": "success"}
			}
			var res struct{ Success, Fail int }
			call(endpoint, "POST", path+"/ack", nil, map[string]any{"message": acks}, 200, &res)
			if res.Fail > 0 {
				fail(fmt.Errorf("group %s: %d acknowledgements failed", g.Name, res.Fail))
			}
			acked += res.Success
		}
		fmt.Printf("group %s consumed and acknowledged %d messages\n", g.Name, acked)
	}
}

// call sends a signed request and decodes the answer into out, exiting
// unless the status is want.
func call(endpoint, method, path string, query map[string]string, body any, want int, out any) {
	b := request.NewHttpRequestBuilder().WithEndpoint(endpoint).WithPath(path).WithMethod(method).
		AddHeaderParam("Content-Type", "application/json;charset=UTF-8").
		AddHeaderParam("X-Project-Id", project)
	for k, v := range query {
		b = b.AddQueryParam(k, reflect.ValueOf(v))
	}
	if body != nil {
		b = b.WithBody("json", body)
	}
	req := b.Build()
	headers, err := signer.Sign(req, key, secret) // X-Sdk-Date and Authorization
	if err != nil {
		fail(err)
	}
	hr, err := req.ConvertRequest()
	if err != nil {
		fail(err)
	}
	for k, v := range headers {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		fail(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		fail(err)
	}
	if resp.StatusCode != want {
		fail(fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "queueservice:", err)
	os.Exit(1)
}
