package console_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/console"
)

// devicePerPartition names one device in each partition of a product topic.
func devicePerPartition() []string {
	out := make([]string, broker.DefaultPartitions)
	for i, found := 0, 0; found < len(out); i++ {
		dn := fmt.Sprintf("d%d", i)
		if p := broker.DevicePartition(dn, broker.DefaultPartitions); out[p] == "" {
			out[p] = dn
			found++
		}
	}
	return out
}

// TestResetPartitionsBodies: POST /api/v1/groups/{id}/reset with a topic
// and partitions, valid and not.
func TestResetPartitionsBodies(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup("parts_app")
	e.want(e.do("PUT", "/api/v1/products/pkq/subscription", map[string][]string{"groups": {id}}), http.StatusOK, nil)
	var msgs []map[string]string
	for _, dn := range devicePerPartition() {
		msgs = append(msgs, map[string]string{"productKey": "pkq", "deviceName": dn})
	}
	e.publish(msgs)
	e.waitAccumulation(id, len(msgs))
	path := "/api/v1/groups/" + id + "/reset"
	ms := time.Now().Add(-time.Hour).UnixMilli()

	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"an offset", `{"topic":"pkq","partitions":[{"partition":0,"offset":1}]}`, 204, ""},
		{"offset 0 is the log start", `{"topic":"pkq","partitions":[{"partition":0,"offset":0}]}`, 204, ""},
		{"earliest and latest", `{"topic":"pkq","partitions":[{"partition":1,"to":"earliest"},{"partition":2,"to":"latest"}]}`, 204, ""},
		{"a timestamp", fmt.Sprintf(`{"topic":"pkq","partitions":[{"partition":3,"timestamp":%d}]}`, ms), 204, ""},
		{"by group name", `{"topic":"pkq","partitions":[{"partition":0,"offset":2}]}`, 204, ""},

		{"unknown topic", `{"topic":"nosuchpk","partitions":[{"partition":0,"offset":1}]}`, 400, console.CodeTopicNotFound},
		{"bad topic name", `{"topic":"a b","partitions":[{"partition":0,"offset":1}]}`, 400, console.CodeInvalidName},
		{"partition out of range", `{"topic":"pkq","partitions":[{"partition":4,"offset":1}]}`, 400, console.CodePartitionNotFound},
		{"partition far out of range", `{"topic":"pkq","partitions":[{"partition":99999999999,"offset":1}]}`, 400, console.CodePartitionNotFound},
		{"negative partition", `{"topic":"pkq","partitions":[{"partition":-1,"offset":1}]}`, 400, console.CodePartitionNotFound},
		{"negative offset", `{"topic":"pkq","partitions":[{"partition":0,"offset":-1}]}`, 400, console.CodeInvalidArgument},
		{"offset past the end", `{"topic":"pkq","partitions":[{"partition":0,"offset":1000000}]}`, 400, console.CodeOffsetOutOfRange},
		{"no partition number", `{"topic":"pkq","partitions":[{"offset":1}]}`, 400, console.CodeInvalidArgument},
		{"no position", `{"topic":"pkq","partitions":[{"partition":0}]}`, 400, console.CodeInvalidArgument},
		{"offset and to", `{"topic":"pkq","partitions":[{"partition":0,"offset":1,"to":"latest"}]}`, 400, console.CodeInvalidArgument},
		{"bad to", `{"topic":"pkq","partitions":[{"partition":0,"to":"start"}]}`, 400, console.CodeInvalidArgument},
		{"bad timestamp", `{"topic":"pkq","partitions":[{"partition":0,"timestamp":0}]}`, 400, console.CodeInvalidArgument},
		{"partition twice", `{"topic":"pkq","partitions":[{"partition":0,"offset":1},{"partition":0,"offset":2}]}`, 400, console.CodeInvalidArgument},
		{"no topic", `{"partitions":[{"partition":0,"offset":1}]}`, 400, console.CodeInvalidArgument},
		{"empty topic", `{"topic":"","partitions":[{"partition":0,"offset":1}]}`, 400, console.CodeInvalidArgument},
		{"no partitions", `{"topic":"pkq"}`, 400, console.CodeInvalidArgument},
		{"empty partitions", `{"topic":"pkq","partitions":[]}`, 400, console.CodeInvalidArgument},
		{"topic and a group position", `{"to":"latest","topic":"pkq","partitions":[{"partition":0,"offset":1}]}`, 400, console.CodeInvalidArgument},
		{"offset as text", `{"topic":"pkq","partitions":[{"partition":0,"offset":"5"}]}`, 400, console.CodeInvalidJSON},
		{"unknown partition field", `{"topic":"pkq","partitions":[{"partition":0,"offset":1,"lag":3}]}`, 400, console.CodeUnknownField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := *e
			e.t = t
			p := path
			if tt.name == "by group name" {
				p = "/api/v1/groups/parts_app/reset"
			}
			r := e.do("POST", p, tt.body)
			if tt.status == 204 {
				e.want(r, http.StatusNoContent, nil)
				return
			}
			e.wantError(r, tt.status, tt.code)
		})
	}
	e.wantError(e.do("POST", "/api/v1/groups/nosuchgroup/reset", `{"topic":"pkq","partitions":[{"partition":0,"offset":1}]}`), 404, console.CodeGroupNotFound)

	// Partitions 0 and 1 from the start, 2 and 3 skipped: a client gets
	// the first two devices' messages only.
	e.want(e.do("POST", path, `{"topic":"pkq","partitions":[{"partition":0,"to":"earliest"},{"partition":1,"to":"earliest"},{"partition":2,"to":"latest"},{"partition":3,"to":"latest"}]}`), http.StatusNoContent, nil)
	type partsBody struct {
		Group      string `json:"group"`
		Topic      string `json:"topic"`
		Partitions []struct {
			Partition int32 `json:"partition"`
			Offset    int64 `json:"offset"`
			Pending   int   `json:"pending"`
		} `json:"partitions"`
	}
	var pb partsBody
	e.want(e.do("GET", "/api/v1/groups/parts_app/partitions?topic=pkq", nil), http.StatusOK, &pb)
	if pb.Group != id || pb.Topic != "pkq" || len(pb.Partitions) != broker.DefaultPartitions {
		t.Fatalf("partitions %+v", pb)
	}
	for p, want := range []int{1, 1, 0, 0} {
		if got := pb.Partitions[p]; got.Partition != int32(p) || got.Pending != want || got.Offset < 1 {
			t.Errorf("partition %d: %+v, want %d pending", p, got, want)
		}
	}
	e.wantError(e.do("GET", "/api/v1/groups/"+id+"/partitions", nil), 400, console.CodeInvalidArgument)
	e.wantError(e.do("GET", "/api/v1/groups/"+id+"/partitions?topic=nosuchpk", nil), 400, console.CodeTopicNotFound)
	e.wantError(e.do("GET", "/api/v1/groups/nosuchgroup/partitions?topic=pkq", nil), 404, console.CodeGroupNotFound)

	in := make(inbox, 100)
	m, err := e.b.Join(context.Background(), id, broker.MemberInfo{ClientID: "parts-client"}, in)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	e.wantError(e.do("POST", path, `{"topic":"pkq","partitions":[{"partition":0,"offset":1}]}`), 409, console.CodeGroupActive)
	m.Credit(100)
	var got []string
	for len(got) < 2 {
		select {
		case d := <-in:
			got = append(got, d.Message.DeviceName)
			m.Settle(d.Token, broker.Ack)
		case <-time.After(10 * time.Second):
			t.Fatalf("got %v, want 2 messages", got)
		}
	}
	select {
	case d := <-in:
		t.Fatalf("after %v: unexpected %s", got, d.Message.DeviceName)
	case <-time.After(300 * time.Millisecond):
	}
	slices.Sort(got)
	want := devicePerPartition()[:2]
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	e.waitAccumulation(id, 0)
	e.want(e.do("GET", "/api/v1/groups/"+id+"/partitions?topic=pkq", nil), http.StatusOK, &pb)
	for _, p := range pb.Partitions {
		if p.Pending != 0 {
			t.Errorf("after consuming: %+v", pb)
		}
	}
}
