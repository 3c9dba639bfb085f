package console_test

import (
	"bytes"
	"net/http"
	"testing"
)

type peekBody struct {
	Group    string `json:"group"`
	Messages []struct {
		MessageID     string  `json:"messageId"`
		Topic         string  `json:"topic"`
		ProductKey    string  `json:"productKey"`
		DeviceName    string  `json:"deviceName"`
		Kind          string  `json:"kind"`
		GenerateTime  int64   `json:"generateTime"`
		Seq           uint64  `json:"seq"`
		Delivered     bool    `json:"delivered"`
		Payload       *string `json:"payload"`
		PayloadBase64 []byte  `json:"payloadBase64"`
	} `json:"messages"`
}

func TestPeekMessages(t *testing.T) {
	e := newEnv(t)
	id := e.createGroup("peeked")
	e.want(e.do("PUT", "/api/v1/products/pk1/subscription", map[string]any{"groups": []string{id}}), http.StatusOK, nil)
	ids := e.publish([]map[string]string{
		{"productKey": "pk1", "deviceName": "d1", "payload": `{"temp":21}`},
		{"productKey": "pk1", "deviceName": "d2", "topic": "/pk1/d2/user/raw", "payloadBase64": "/wD+"}, // ff 00 fe
		{"productKey": "pk2", "deviceName": "d1", "payload": "not subscribed"},
	})
	e.waitAccumulation(id, 2)

	var got peekBody
	e.want(e.do("GET", "/api/v1/groups/peeked/messages", nil), http.StatusOK, &got) // by name
	if got.Group != id || len(got.Messages) != 2 {
		t.Fatalf("peeked %+v", got)
	}
	m0, m1 := got.Messages[0], got.Messages[1]
	if m0.MessageID != ids[0] || m0.Payload == nil || *m0.Payload != `{"temp":21}` || m0.Topic != "/pk1/d1/user/update" ||
		m0.ProductKey != "pk1" || m0.DeviceName != "d1" || m0.Kind != "data" || m0.GenerateTime == 0 || m0.Delivered {
		t.Fatalf("first peeked %+v", m0)
	}
	if m1.MessageID != ids[1] || m1.Payload != nil || !bytes.Equal(m1.PayloadBase64, []byte{0xff, 0x00, 0xfe}) ||
		m1.Topic != "/pk1/d2/user/raw" || m1.Seq <= m0.Seq {
		t.Fatalf("second peeked %+v", m1)
	}
	e.want(e.do("GET", "/api/v1/groups/"+id+"/messages?count=1", nil), http.StatusOK, &got)
	if len(got.Messages) != 1 || got.Messages[0].MessageID != ids[0] {
		t.Fatalf("count=1 peeked %+v", got)
	}
	if st := e.status(id); st.Accumulation != 2 {
		t.Fatalf("accumulation %d after peeking, want 2", st.Accumulation)
	}

	for _, c := range []string{"0", "101", "-3", "ten"} {
		e.wantError(e.do("GET", "/api/v1/groups/"+id+"/messages?count="+c, nil), http.StatusBadRequest, "InvalidArgument")
	}
	e.wantError(e.do("GET", "/api/v1/groups/no_such_group/messages", nil), http.StatusNotFound, "GroupNotFound")
}
