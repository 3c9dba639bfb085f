package alikafka_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	sdk "github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/kafka"
	"github.com/amqpemu/amqpemu/openapi"
	"github.com/amqpemu/amqpemu/openapi/alikafka"
)

const (
	testAK     = "LTAI5tAmqpemuTestKey"
	testSecret = "amqpemu-test-secret-value"
	region     = "cn-hangzhou"
	instance   = "alikafka_pre-cn-any"
)

// env is the control plane and a Kafka listener on one broker.
type env struct {
	b     *broker.Broker
	c     *sdk.Client
	host  string
	kafka string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := broker.Open(ctx, broker.Config{DataDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ks := kafka.NewServer(kafka.Config{Backend: b, Logger: log})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- ks.Serve(ln) }()
	rpc := openapi.New(openapi.Config{AccessKeys: map[string]string{testAK: testSecret}, Logger: log})
	rpc.Register(alikafka.Version, alikafka.Product(b, ks))
	srv := httptest.NewServer(rpc)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ks.Shutdown(ctx)
		<-served
		b.Close(ctx)
	})
	c, err := sdk.NewClientWithAccessKey(region, testAK, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	c.Domain = host
	return &env{b: b, c: c, host: host, kafka: ln.Addr().String()}
}

func must(t *testing.T, _ any, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("call failed: %v", err)
	}
}

func serverError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) || se.HttpStatus() != status || se.ErrorCode() != code || se.Message() == "" {
		t.Fatalf("error %v, want ServerError %d %s", err, status, code)
	}
}

func progress(t *testing.T, e *env, group string) sdk.ConsumerProgress {
	t.Helper()
	req := sdk.CreateGetConsumerProgressRequest()
	req.InstanceId, req.ConsumerId = instance, group
	resp, err := e.c.GetConsumerProgress(req)
	must(t, resp, err)
	if !resp.Success || resp.Code != 200 {
		t.Fatalf("GetConsumerProgress %+v", resp)
	}
	return resp.ConsumerProgress
}

// offsets is the ConsumerOffset of each partition of topic in p.
func offsets(p sdk.ConsumerProgress, topic string) map[int]int64 {
	out := map[int]int64{}
	for _, tl := range p.TopicList.TopicListItem {
		if tl.Topic == topic {
			for _, o := range tl.OffsetList.OffsetListItem {
				out[o.Partition] = o.ConsumerOffset
			}
		}
	}
	return out
}

func TestTopicsAndGroups(t *testing.T) {
	e := newEnv(t)
	ct := sdk.CreateCreateTopicRequest()
	ct.InstanceId, ct.Topic, ct.PartitionNum, ct.Remark = instance, "orders", "6", "the orders"
	resp, err := e.c.CreateTopic(ct)
	must(t, resp, err)
	if !resp.Success || resp.Code != 200 || resp.Message != "operation success" || len(resp.RequestId) != 36 {
		t.Fatalf("CreateTopic %+v", resp)
	}
	_, err = e.c.CreateTopic(ct)
	serverError(t, err, 409, alikafka.CodeTopicExists)
	ct = sdk.CreateCreateTopicRequest()
	ct.Topic, ct.PartitionNum = "bad topic", "1"
	_, err = e.c.CreateTopic(ct)
	serverError(t, err, 400, alikafka.CodeInvalidName)

	tl := sdk.CreateGetTopicListRequest()
	tl.InstanceId = instance
	tresp, err := e.c.GetTopicList(tl)
	must(t, tresp, err)
	if tresp.Total != 1 || tresp.TopicList.TopicVO[0].Topic != "orders" || tresp.TopicList.TopicVO[0].PartitionNum != 6 || tresp.TopicList.TopicVO[0].Remark != "the orders" {
		t.Fatalf("GetTopicList %+v", tresp)
	}

	cg := sdk.CreateCreateConsumerGroupRequest()
	cg.InstanceId, cg.ConsumerId, cg.Remark = "any-instance", "CID-app", "app"
	gresp, err := e.c.CreateConsumerGroup(cg)
	must(t, gresp, err)
	_, err = e.c.CreateConsumerGroup(cg)
	serverError(t, err, 409, alikafka.CodeGroupExists)
	gl := sdk.CreateGetConsumerListRequest()
	gl.InstanceId = instance
	lresp, err := e.c.GetConsumerList(gl)
	must(t, lresp, err)
	if lresp.Total != 1 || lresp.ConsumerList.ConsumerVO[0].ConsumerId != "CID-app" || lresp.ConsumerList.ConsumerVO[0].Remark != "app" {
		t.Fatalf("GetConsumerList %+v", lresp)
	}
	dg := sdk.CreateDeleteConsumerGroupRequest()
	dg.InstanceId, dg.ConsumerId = instance, "CID-app"
	dresp, err := e.c.DeleteConsumerGroup(dg)
	must(t, dresp, err)
	_, err = e.c.DeleteConsumerGroup(dg)
	serverError(t, err, 404, alikafka.CodeGroupNotFound)
}

// consumeAll runs a franz-go group member over topic until it has n
// records and has committed them, then leaves.
func consumeAll(t *testing.T, e *env, group, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.kafka), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := 0
	for got < n && ctx.Err() == nil {
		got += len(cl.PollFetches(ctx).Records())
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil || got != n {
		t.Fatalf("consumed %d of %d, commit: %v", got, n, err)
	}
}

func TestUpdateConsumerOffsetFiveWays(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var msgs []broker.DeviceMessage
	for i := range 20 {
		msgs = append(msgs, broker.DeviceMessage{ProductKey: "pkA", DeviceName: fmt.Sprintf("d%d", i%5)})
	}
	if _, err := e.b.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	consumeAll(t, e, "CID-g", "pkA", 20)
	p := progress(t, e, "CID-g")
	if p.TotalDiff != 0 || len(p.TopicList.TopicListItem) != 1 || len(p.TopicList.TopicListItem[0].OffsetList.OffsetListItem) != broker.DefaultPartitions {
		t.Fatalf("progress after consuming %+v", p)
	}
	bd, _ := e.b.Bounds(ctx)
	mid := time.Now()
	if _, err := e.b.Publish(ctx, msgs[:4]...); err != nil { // 4 more, after mid
		t.Fatal(err)
	}
	if p := progress(t, e, "CID-g"); p.TotalDiff != 4 {
		t.Fatalf("lag %d, want 4", p.TotalDiff)
	}

	reset := func(topic, resetType, tm string, offs *[]sdk.UpdateConsumerOffsetOffsets) error {
		req := sdk.CreateUpdateConsumerOffsetRequest()
		req.InstanceId, req.ConsumerId, req.Topic, req.ResetType, req.Time, req.Offsets = instance, "CID-g", topic, resetType, tm, offs
		resp, err := e.c.UpdateConsumerOffset(req)
		if err == nil && (!resp.Success || resp.Code != 200 || resp.Message != "operation success") {
			t.Fatalf("UpdateConsumerOffset %+v", resp)
		}
		return err
	}
	cases := []struct {
		name           string
		topic, typ, tm string
		offs           *[]sdk.UpdateConsumerOffsetOffsets
		wantLag        int64
		wantPartition0 int64 // -3: not checked
	}{
		{"all topics, earliest", "", "", "-2", nil, 24, bd.Start},
		{"all topics, latest", "", "timestamp", "-1", nil, 0, -3},
		{"all topics, a time", "", "timestamp", fmt.Sprint(mid.UnixMilli()), nil, 4, -3},
		{"one topic, latest", "pkA", "timestamp", "-1", nil, 0, -3},
		{"one topic, a time", "pkA", "", fmt.Sprint(mid.UnixMilli()), nil, 4, -3},
		{"one topic, offsets", "pkA", "offset", "", &[]sdk.UpdateConsumerOffsetOffsets{{Partition: "0", Offset: "1"}}, -1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := reset(c.topic, c.typ, c.tm, c.offs); err != nil {
				t.Fatal(err)
			}
			p := progress(t, e, "CID-g")
			if c.wantLag >= 0 && p.TotalDiff != c.wantLag {
				t.Fatalf("TotalDiff %d, want %d", p.TotalDiff, c.wantLag)
			}
			if c.wantPartition0 != -3 && offsets(p, "pkA")[0] != c.wantPartition0 {
				t.Fatalf("partition 0 at %d, want %d", offsets(p, "pkA")[0], c.wantPartition0)
			}
		})
	}

	// The Offsets forms SDKs and the docs send, through a CommonRequest.
	for _, form := range []string{`[{"Partition":"2","Offset":"3"}]`, `[{"partition":2,"offset":3}]`, `[{"Offset":3,"Partition":2}]`} {
		r := requests.NewCommonRequest()
		r.Method, r.Scheme, r.Domain, r.Version, r.ApiName = "POST", "http", e.host, alikafka.Version, "UpdateConsumerOffset"
		r.QueryParams["InstanceId"], r.QueryParams["ConsumerId"], r.QueryParams["Topic"] = instance, "CID-g", "pkA"
		r.QueryParams["ResetType"], r.QueryParams["Offsets"] = "offset", form
		resp, err := e.c.ProcessCommonRequest(r)
		if err != nil || !strings.Contains(resp.GetHttpContentString(), `"Code":200`) {
			t.Fatalf("Offsets %s: %v %v", form, err, contentOf(resp))
		}
		if got := offsets(progress(t, e, "CID-g"), "pkA")[2]; got != 3 {
			t.Fatalf("Offsets %s: partition 2 at %d", form, got)
		}
	}
	// Refusals: offset without Offsets (the SDK sends Offsets=null), or
	// without a topic, or a partition the topic lacks; an unknown group.
	serverError(t, reset("pkA", "offset", "", nil), 400, "MissingOffsets")
	serverError(t, reset("", "offset", "", &[]sdk.UpdateConsumerOffsetOffsets{{Partition: "0", Offset: "1"}}), 400, "MissingTopic")
	serverError(t, reset("pkA", "offset", "", &[]sdk.UpdateConsumerOffsetOffsets{{Partition: "9", Offset: "1"}}), 400, alikafka.CodePartition)
	serverError(t, reset("pkA", "offset", "", &[]sdk.UpdateConsumerOffsetOffsets{{Partition: "x", Offset: "1"}}), 400, alikafka.CodeInvalidArgument)
	serverError(t, reset("pkA", "timestamp", "", nil), 400, "MissingTime")
	serverError(t, reset("nope", "timestamp", "-1", nil), 404, alikafka.CodeTopicNotFound)
	req := sdk.CreateUpdateConsumerOffsetRequest()
	req.ConsumerId, req.Time = "CID-none", "-1"
	_, err := e.c.UpdateConsumerOffset(req)
	serverError(t, err, 404, alikafka.CodeGroupNotFound)
}

func contentOf(r *responses.CommonResponse) string {
	if r == nil {
		return ""
	}
	return r.GetHttpContentString()
}

func TestUpdateConsumerOffsetRefusedWhileActive(t *testing.T) {
	e := newEnv(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.kafka), kgo.ConsumerGroup("CID-live"), kgo.ConsumeTopics("pkL"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Poll until the member has joined (its first poll joins the group).
	for ctx.Err() == nil {
		pctx, pcancel := context.WithTimeout(ctx, 100*time.Millisecond)
		cl.PollFetches(pctx)
		pcancel()
		if id, gen := cl.GroupMetadata(); id != "" && gen > 0 {
			break
		}
	}
	req := sdk.CreateUpdateConsumerOffsetRequest()
	req.InstanceId, req.ConsumerId, req.Topic, req.Time = instance, "CID-live", "pkL", "-2"
	_, err = e.c.UpdateConsumerOffset(req)
	serverError(t, err, 409, alikafka.CodeGroupActive)
	cl.Close() // leaves: the group is empty
	req = sdk.CreateUpdateConsumerOffsetRequest()
	req.InstanceId, req.ConsumerId, req.Topic, req.Time = instance, "CID-live", "pkL", "-2"
	if _, err := e.c.UpdateConsumerOffset(req); err != nil {
		t.Fatal(err)
	}
}
