package iot_test

import (
	"context"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	iotsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/iot"

	"github.com/amqpemu/amqpemu/broker"
)

// TestStatusAfterConsumption: a real member of the group takes messages
// and settles them; QueryConsumerGroupStatus reports the backlog, both
// rates, the last consumption and the client as the console shows them.
func TestStatusAfterConsumption(t *testing.T) {
	e := newEnv(t)
	c := e.old(testAK, testSecret)
	ctx := context.Background()
	gid := createGroup(t, c, "status_group")
	sub := iotsdk.CreateCreateSubscribeRelationRequest()
	sub.ProductKey, sub.Type, sub.ConsumerGroupIds, sub.DeviceDataFlag = "pkStatus", "AMQP", &[]string{gid}, requests.NewBoolean(true)
	sresp, err := c.CreateSubscribeRelation(sub)
	ok(t, sresp, err)

	status := func() *iotsdk.QueryConsumerGroupStatusResponse {
		t.Helper()
		req := iotsdk.CreateQueryConsumerGroupStatusRequest()
		req.GroupId = "status_group"
		resp, err := c.QueryConsumerGroupStatus(req)
		ok(t, resp, err)
		return resp
	}

	msgs := make([]broker.DeviceMessage, 5)
	for i := range msgs {
		msgs[i] = broker.DeviceMessage{ProductKey: "pkStatus", DeviceName: "dev1", Payload: []byte{byte(i)}}
	}
	if _, err := e.b.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a backlog of 5", func() bool { return status().AccumulationCount == 5 })

	joined := time.Now()
	in := make(inbox, 10)
	m, err := e.b.Join(ctx, gid, broker.MemberInfo{ClientID: "app-1", Address: "192.0.2.7:40000"}, in)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Leave()
	m.Credit(10)
	// Four are acknowledged at once (real-time consumption); one is
	// released and acknowledged when it comes again (a redelivery counts
	// as consumption of the backlog).
	for i := range 5 {
		d := in.next(t)
		if i == 2 {
			m.Settle(d.Token, broker.Requeue)
			continue
		}
		m.Settle(d.Token, broker.Ack)
	}
	d := in.next(t)
	if !d.Redelivered {
		t.Fatalf("delivery %+v, want the redelivery", d)
	}
	m.Settle(d.Token, broker.Ack)

	var st *iotsdk.QueryConsumerGroupStatusResponse
	eventually(t, "the backlog consumed", func() bool {
		st = status()
		return st.AccumulationCount == 0 && st.ConsumerSpeed == 5
	})
	if st.RealTimeConsumeCountPerMinute != 4 || st.AccumulatedConsumeCountPerMinute != 1 {
		t.Fatalf("rates: real-time %d, accumulated %d, speed %d", st.RealTimeConsumeCountPerMinute, st.AccumulatedConsumeCountPerMinute, st.ConsumerSpeed)
	}
	last, err := time.Parse("2006-01-02T15:04:05.000Z", st.LastConsumerTime)
	if err != nil || time.Since(last) > time.Minute || last.Before(joined.Add(-time.Second)) {
		t.Fatalf("LastConsumerTime %q: %v", st.LastConsumerTime, err)
	}
	clients := st.ClientConnectionStatusList.ConsumerGroupClientConnectionInfo
	if len(clients) != 1 {
		t.Fatalf("clients %+v", clients)
	}
	cl := clients[0]
	online := time.UnixMilli(cl.OnlineTime)
	if cl.ClientId != "app-1" || cl.ClientIpPort != "192.0.2.7:40000" || online.Before(joined.Add(-time.Second)) || time.Since(online) > time.Minute ||
		cl.RealTimeConsumeCountPerMinute != 4 || cl.AccumulatedConsumeCountPerMinute != 1 {
		t.Fatalf("client %+v (online %s, joined %s)", cl, online, joined)
	}

	m.Leave()
	eventually(t, "the client gone", func() bool {
		return len(status().ClientConnectionStatusList.ConsumerGroupClientConnectionInfo) == 0
	})
}
