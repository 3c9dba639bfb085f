package iot_test

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	iotsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/iot"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/openapi/iot"
)

// The vendor's Go SDK (github.com/aliyun/alibaba-cloud-sdk-go, services/iot)
// through every action, with nothing changed but its Domain.

func createGroup(t *testing.T, c *iotsdk.Client, name string) string {
	t.Helper()
	req := iotsdk.CreateCreateConsumerGroupRequest()
	req.GroupName = name
	req.IotInstanceId = "iot-cn-ignored"
	resp, err := c.CreateConsumerGroup(req)
	ok(t, resp, err)
	if len(resp.GroupId) != 26 || !strings.HasSuffix(resp.GroupId, "000100") {
		t.Fatalf("GroupId %q", resp.GroupId)
	}
	return resp.GroupId
}

func TestOldSDKConsumerGroups(t *testing.T) {
	e := newEnv(t)
	c := e.old(testAK, testSecret)

	g1 := createGroup(t, c, "app_group1")
	g2 := createGroup(t, c, "app_group2")

	t.Run("create refusals", func(t *testing.T) {
		req := iotsdk.CreateCreateConsumerGroupRequest()
		req.GroupName = "app_group1"
		resp, err := c.CreateConsumerGroup(req)
		refused(t, resp, err, iot.CodeGroupExists)
		req.GroupName = "ab"
		resp, err = c.CreateConsumerGroup(req)
		if msg := refused(t, resp, err, iot.CodeInvalidGroupName); !strings.Contains(msg, "4 to 30") {
			t.Fatalf("message %q", msg)
		}
		// (A fresh request: the SDK keeps parameters of earlier calls on a request.)
		_, err = c.CreateConsumerGroup(iotsdk.CreateCreateConsumerGroupRequest())
		serverError(t, err, 400, "MissingGroupName")
	})

	t.Run("query by id and by name", func(t *testing.T) {
		req := iotsdk.CreateQueryConsumerGroupByGroupIdRequest()
		req.GroupId = g1
		resp, err := c.QueryConsumerGroupByGroupId(req)
		ok(t, resp, err)
		if resp.Data.GroupId != g1 || resp.Data.GroupName != "app_group1" {
			t.Fatalf("Data %+v", resp.Data)
		}
		if ct, err := time.Parse("2006-01-02T15:04:05.000Z", resp.Data.CreateTime); err != nil || time.Since(ct) > time.Minute {
			t.Fatalf("CreateTime %q: %v", resp.Data.CreateTime, err)
		}
		req.GroupId = "app_group2"
		resp, err = c.QueryConsumerGroupByGroupId(req)
		ok(t, resp, err)
		if resp.Data.GroupId != g2 {
			t.Fatalf("by name: Data %+v", resp.Data)
		}
		for _, unknown := range []string{"nJRaJPn5U1JITGfjqAbc000100", "no_such_group", "bad id!"} {
			req.GroupId = unknown
			resp, err = c.QueryConsumerGroupByGroupId(req)
			refused(t, resp, err, iot.CodeGroupNotFound)
		}
	})

	t.Run("rename", func(t *testing.T) {
		req := iotsdk.CreateUpdateConsumerGroupRequest()
		req.GroupId = g1
		req.NewGroupName = "renamed_1"
		resp, err := c.UpdateConsumerGroup(req)
		ok(t, resp, err)
		if g, _ := e.b.Group(context.Background(), g1); g.Name != "renamed_1" {
			t.Fatalf("group %+v", g)
		}
		req.GroupId = "renamed_1" // by name
		req.NewGroupName = "app_group2"
		resp, err = c.UpdateConsumerGroup(req)
		refused(t, resp, err, iot.CodeGroupExists)
		req.GroupId = "no_such_group"
		req.NewGroupName = "whatever"
		resp, err = c.UpdateConsumerGroup(req)
		refused(t, resp, err, iot.CodeGroupNotFound)
		req.GroupId = broker.DefaultGroupID
		resp, err = c.UpdateConsumerGroup(req)
		refused(t, resp, err, iot.CodeDefaultGroup)
		req = iotsdk.CreateUpdateConsumerGroupRequest()
		req.GroupId = g1
		_, err = c.UpdateConsumerGroup(req)
		serverError(t, err, 400, "MissingNewGroupName")
	})

	t.Run("list", func(t *testing.T) {
		req := iotsdk.CreateQueryConsumerGroupListRequest()
		req.CurrentPage = requests.NewInteger(1)
		req.PageSize = requests.NewInteger(2)
		resp, err := c.QueryConsumerGroupList(req)
		ok(t, resp, err)
		dtos := resp.Data.ConsumerGroupDTO
		if resp.Total != 3 || resp.PageCount != 2 || resp.CurrentPage != 1 || resp.PageSize != 2 || len(dtos) != 2 ||
			dtos[0].GroupId != broker.DefaultGroupID || dtos[1].GroupId != g1 || dtos[1].GroupName != "renamed_1" || dtos[1].CreateTime == "" {
			t.Fatalf("page 1: %+v", resp)
		}
		req.CurrentPage = requests.NewInteger(2)
		resp, err = c.QueryConsumerGroupList(req)
		ok(t, resp, err)
		if len(resp.Data.ConsumerGroupDTO) != 1 || resp.Data.ConsumerGroupDTO[0].GroupId != g2 {
			t.Fatalf("page 2: %+v", resp.Data)
		}
		// Fuzzy searches names, case-insensitively; GroupName alone is
		// ignored, as documented ("false: all consumer groups").
		req = iotsdk.CreateQueryConsumerGroupListRequest()
		req.CurrentPage = requests.NewInteger(1)
		req.GroupName = "GROUP2"
		req.Fuzzy = requests.NewBoolean(true)
		resp, err = c.QueryConsumerGroupList(req)
		ok(t, resp, err)
		if resp.Total != 1 || resp.Data.ConsumerGroupDTO[0].GroupId != g2 || resp.PageSize != broker.MaxPageSize {
			t.Fatalf("fuzzy: %+v", resp)
		}
		req.Fuzzy = requests.NewBoolean(false)
		resp, err = c.QueryConsumerGroupList(req)
		ok(t, resp, err)
		if resp.Total != 3 {
			t.Fatalf("not fuzzy: %+v", resp)
		}
	})

	t.Run("list refusals", func(t *testing.T) {
		for _, tt := range []struct{ page, size string }{{"0", "10"}, {"-1", "10"}, {"1", "0"}, {"1", "1001"}} {
			req := iotsdk.CreateQueryConsumerGroupListRequest()
			req.CurrentPage = requests.Integer(tt.page)
			req.PageSize = requests.Integer(tt.size)
			resp, err := c.QueryConsumerGroupList(req)
			refused(t, resp, err, iot.CodeInvalidPage)
		}
		req := iotsdk.CreateQueryConsumerGroupListRequest()
		req.PageSize = requests.NewInteger(10)
		_, err := c.QueryConsumerGroupList(req)
		serverError(t, err, 400, "MissingCurrentPage")
		req.CurrentPage = requests.Integer("one")
		_, err = c.QueryConsumerGroupList(req)
		serverError(t, err, 400, "InvalidParameter")
		req.CurrentPage = requests.NewInteger(1)
		req.Fuzzy = requests.NewBoolean(true)
		_, err = c.QueryConsumerGroupList(req)
		serverError(t, err, 400, "MissingGroupName")
	})

	t.Run("status of an idle group", func(t *testing.T) {
		req := iotsdk.CreateQueryConsumerGroupStatusRequest()
		req.GroupId = g2
		resp, err := c.QueryConsumerGroupStatus(req)
		ok(t, resp, err)
		if resp.AccumulationCount != 0 || resp.ConsumerSpeed != 0 || resp.LastConsumerTime != "" ||
			resp.ClientConnectionStatusList.ConsumerGroupClientConnectionInfo == nil || len(resp.ClientConnectionStatusList.ConsumerGroupClientConnectionInfo) != 0 {
			t.Fatalf("status %+v", resp)
		}
		req.GroupId = "no_such_group"
		resp, err = c.QueryConsumerGroupStatus(req)
		refused(t, resp, err, iot.CodeGroupNotFound)
	})

	t.Run("reset clears the backlog", func(t *testing.T) {
		if _, err := e.b.Publish(context.Background(), broker.DeviceMessage{ProductKey: "pkR", DeviceName: "d"}, broker.DeviceMessage{ProductKey: "pkR", DeviceName: "d"}); err != nil {
			t.Fatal(err)
		}
		status := func() int {
			req := iotsdk.CreateQueryConsumerGroupStatusRequest()
			req.GroupId = broker.DefaultGroupID
			resp, err := c.QueryConsumerGroupStatus(req)
			ok(t, resp, err)
			return resp.AccumulationCount
		}
		eventually(t, "backlog of 2", func() bool { return status() == 2 })
		req := iotsdk.CreateResetConsumerGroupPositionRequest()
		req.GroupId = broker.DefaultGroupID
		resp, err := c.ResetConsumerGroupPosition(req)
		ok(t, resp, err)
		eventually(t, "backlog cleared", func() bool { return status() == 0 })
		req.GroupId = "no_such_group"
		resp, err = c.ResetConsumerGroupPosition(req)
		refused(t, resp, err, iot.CodeGroupNotFound)
	})

	t.Run("delete", func(t *testing.T) {
		sub := iotsdk.CreateCreateSubscribeRelationRequest()
		sub.ProductKey, sub.Type, sub.ConsumerGroupIds, sub.DeviceDataFlag = "pkDel", "AMQP", &[]string{g2}, requests.NewBoolean(true)
		sresp, err := c.CreateSubscribeRelation(sub)
		ok(t, sresp, err)

		req := iotsdk.CreateDeleteConsumerGroupRequest()
		req.GroupId = broker.DefaultGroupID
		resp, err := c.DeleteConsumerGroup(req)
		refused(t, resp, err, iot.CodeDefaultGroup)
		req.GroupId = g2
		resp, err = c.DeleteConsumerGroup(req)
		if msg := refused(t, resp, err, iot.CodeGroupInUse); !strings.Contains(msg, "pkDel") {
			t.Fatalf("the reason does not name the product: %q", msg)
		}
		req.GroupId = "no_such_group"
		resp, err = c.DeleteConsumerGroup(req)
		refused(t, resp, err, iot.CodeGroupNotFound)
		req.GroupId = "renamed_1" // by name
		resp, err = c.DeleteConsumerGroup(req)
		ok(t, resp, err)
		if _, err := e.b.Group(context.Background(), g1); err == nil {
			t.Fatal("the group is still there")
		}
		_, err = c.ProcessCommonRequest(e.common("DeleteConsumerGroup", nil))
		serverError(t, err, 400, "MissingGroupId")
	})
}

func TestOldSDKSubscriptions(t *testing.T) {
	e := newEnv(t)
	c := e.old(testAK, testSecret)
	ctx := context.Background()
	g1 := createGroup(t, c, "sub_group1")
	g2 := createGroup(t, c, "sub_group2")
	const pk = "a1ProductKey"

	create := func(mod func(*iotsdk.CreateSubscribeRelationRequest)) (*iotsdk.CreateSubscribeRelationResponse, error) {
		req := iotsdk.CreateCreateSubscribeRelationRequest()
		req.ProductKey, req.Type, req.ConsumerGroupIds = pk, "AMQP", &[]string{g1}
		req.DeviceDataFlag, req.DeviceStatusChangeFlag = requests.NewBoolean(true), requests.NewBoolean(true)
		req.SubscribeFlags = `{"jt808DeviceDataFlag":true}`
		if mod != nil {
			mod(req)
		}
		return c.CreateSubscribeRelation(req)
	}

	t.Run("create refusals", func(t *testing.T) {
		resp, err := create(func(r *iotsdk.CreateSubscribeRelationRequest) {
			r.Type = "MNS"
			r.MnsConfiguration = `{"queueName":"q"}`
		})
		if msg := refused(t, resp, err, iot.CodeTypeNotSupported); !strings.Contains(msg, "AMQP") {
			t.Fatalf("message %q", msg)
		}
		_, err = create(func(r *iotsdk.CreateSubscribeRelationRequest) { r.ConsumerGroupIds = nil })
		serverError(t, err, 400, "MissingConsumerGroupIds")
		resp, err = create(func(r *iotsdk.CreateSubscribeRelationRequest) {
			r.DeviceDataFlag, r.DeviceStatusChangeFlag = requests.NewBoolean(false), ""
		})
		if msg := refused(t, resp, err, iot.CodeNoMessageType); !strings.Contains(msg, "DeviceDataFlag") {
			t.Fatalf("message %q", msg)
		}
		resp, err = create(func(r *iotsdk.CreateSubscribeRelationRequest) { r.ConsumerGroupIds = &[]string{"no_such_group"} })
		refused(t, resp, err, iot.CodeGroupNotFound)
		_, err = create(func(r *iotsdk.CreateSubscribeRelationRequest) { r.Type = "KAFKA" })
		serverError(t, err, 400, "InvalidParameter")
		_, err = create(func(r *iotsdk.CreateSubscribeRelationRequest) { r.Type = "" })
		serverError(t, err, 400, "MissingType")
		_, err = create(func(r *iotsdk.CreateSubscribeRelationRequest) { r.SubscribeFlags = "{not json" })
		serverError(t, err, 400, "InvalidParameter")
		_, err = create(func(r *iotsdk.CreateSubscribeRelationRequest) { r.OtaJobFlag = "maybe" })
		serverError(t, err, 400, "InvalidParameter")
		resp, err = create(func(r *iotsdk.CreateSubscribeRelationRequest) { r.ProductKey = "bad key" })
		refused(t, resp, err, iot.CodeInvalidProductKey)
	})

	t.Run("create and query", func(t *testing.T) {
		resp, err := create(nil)
		ok(t, resp, err)
		s, _ := e.b.Subscription(ctx, pk)
		if !slices.Equal(s.Groups, []string{g1}) || !slices.Equal(s.Kinds, []string{broker.KindData, broker.KindStatus}) || !s.Flags["jt808DeviceDataFlag"] {
			t.Fatalf("subscription %+v", s)
		}
		resp, err = create(nil)
		refused(t, resp, err, iot.CodeRelationExists)

		q := iotsdk.CreateQuerySubscribeRelationRequest()
		q.ProductKey, q.Type = pk, "AMQP"
		qr, err := c.QuerySubscribeRelation(q)
		ok(t, qr, err)
		if qr.ProductKey != pk || qr.Type != "AMQP" || !qr.DeviceDataFlag || !qr.DeviceStatusChangeFlag || qr.DeviceLifeCycleFlag || qr.OtaJobFlag ||
			!slices.Equal(qr.ConsumerGroupIds, []string{g1}) || qr.SubscribeFlags != `{"jt808DeviceDataFlag":true}` || qr.MnsConfiguration != "" {
			t.Fatalf("query %+v", qr)
		}
		q.ProductKey = "otherProduct"
		qr, err = c.QuerySubscribeRelation(q)
		refused(t, qr, err, iot.CodeRelationNotFound)
		q.ProductKey, q.Type = pk, "MNS"
		qr, err = c.QuerySubscribeRelation(q)
		refused(t, qr, err, iot.CodeTypeNotSupported)
	})

	t.Run("update sets every flag", func(t *testing.T) {
		req := iotsdk.CreateUpdateSubscribeRelationRequest()
		req.ProductKey, req.Type = pk, "AMQP"
		req.ConsumerGroupIds = &[]string{g1, "sub_group2"} // a name where an id is taken
		yes := requests.NewBoolean(true)
		req.DeviceDataFlag, req.DeviceStatusChangeFlag, req.DeviceLifeCycleFlag, req.DeviceTopoLifeCycleFlag, req.FoundDeviceListFlag = yes, yes, yes, yes, yes
		req.OtaEventFlag, req.ThingHistoryFlag, req.DeviceTagFlag, req.OtaVersionFlag, req.OtaJobFlag = yes, yes, yes, yes, yes
		resp, err := c.UpdateSubscribeRelation(req)
		ok(t, resp, err)
		s, _ := e.b.Subscription(ctx, pk)
		if !slices.Equal(s.Groups, []string{g1, g2}) || !slices.Equal(s.Kinds, broker.Kinds) || s.Flags != nil {
			t.Fatalf("subscription %+v", s)
		}
		q := iotsdk.CreateQuerySubscribeRelationRequest()
		q.ProductKey, q.Type = pk, "AMQP"
		qr, err := c.QuerySubscribeRelation(q)
		ok(t, qr, err)
		if !(qr.DeviceDataFlag && qr.DeviceStatusChangeFlag && qr.DeviceLifeCycleFlag && qr.DeviceTopoLifeCycleFlag && qr.FoundDeviceListFlag &&
			qr.OtaEventFlag && qr.ThingHistoryFlag && qr.DeviceTagFlag && qr.OtaVersionFlag && qr.OtaJobFlag) || qr.SubscribeFlags != "" {
			t.Fatalf("query %+v", qr)
		}
		req.ProductKey = "otherProduct"
		resp, err = c.UpdateSubscribeRelation(req)
		refused(t, resp, err, iot.CodeRelationNotFound)
		req.ProductKey, req.Type = pk, "MNS"
		resp, err = c.UpdateSubscribeRelation(req)
		refused(t, resp, err, iot.CodeTypeNotSupported)
	})

	t.Run("one group at a time", func(t *testing.T) {
		g3 := createGroup(t, c, "sub_group3")
		add := iotsdk.CreateCreateConsumerGroupSubscribeRelationRequest()
		add.ConsumerGroupId, add.ProductKey = g3, pk
		resp, err := c.CreateConsumerGroupSubscribeRelation(add)
		ok(t, resp, err)
		if s, _ := e.b.Subscription(ctx, pk); !slices.Equal(s.Groups, []string{g1, g2, g3}) {
			t.Fatalf("groups %v", s.Groups)
		}
		resp, err = c.CreateConsumerGroupSubscribeRelation(add) // already in: stays
		ok(t, resp, err)
		add.ConsumerGroupId = "no_such_group"
		resp, err = c.CreateConsumerGroupSubscribeRelation(add)
		refused(t, resp, err, iot.CodeGroupNotFound)
		add.ConsumerGroupId, add.ProductKey = g3, "otherProduct"
		resp, err = c.CreateConsumerGroupSubscribeRelation(add)
		refused(t, resp, err, iot.CodeRelationNotFound)

		del := iotsdk.CreateDeleteConsumerGroupSubscribeRelationRequest()
		del.ProductKey = pk
		for _, ref := range []string{"sub_group3", g2} {
			del.ConsumerGroupId = ref
			dresp, err := c.DeleteConsumerGroupSubscribeRelation(del)
			ok(t, dresp, err)
		}
		if s, _ := e.b.Subscription(ctx, pk); !slices.Equal(s.Groups, []string{g1}) {
			t.Fatalf("groups %v", s.Groups)
		}
		del.ConsumerGroupId = g1
		dresp, err := c.DeleteConsumerGroupSubscribeRelation(del)
		if msg := refused(t, dresp, err, iot.CodeOnlyGroup); !strings.Contains(msg, "DeleteSubscribeRelation") {
			t.Fatalf("message %q", msg)
		}
		del.ConsumerGroupId = g2
		dresp, err = c.DeleteConsumerGroupSubscribeRelation(del)
		refused(t, dresp, err, iot.CodeGroupNotSubscribed)
		del.ConsumerGroupId, del.ProductKey = g1, "otherProduct"
		dresp, err = c.DeleteConsumerGroupSubscribeRelation(del)
		refused(t, dresp, err, iot.CodeRelationNotFound)
		del = iotsdk.CreateDeleteConsumerGroupSubscribeRelationRequest()
		del.ProductKey = pk
		_, err = c.DeleteConsumerGroupSubscribeRelation(del)
		serverError(t, err, 400, "MissingConsumerGroupId")
	})

	t.Run("delete", func(t *testing.T) {
		req := iotsdk.CreateDeleteSubscribeRelationRequest()
		req.ProductKey, req.Type = pk, "AMQP"
		resp, err := c.DeleteSubscribeRelation(req)
		ok(t, resp, err)
		if s, _ := e.b.Subscription(ctx, pk); len(s.Kinds) != 0 {
			t.Fatalf("subscription %+v", s)
		}
		resp, err = c.DeleteSubscribeRelation(req)
		refused(t, resp, err, iot.CodeRelationNotFound)
		req = iotsdk.CreateDeleteSubscribeRelationRequest()
		req.Type = "AMQP"
		_, err = c.DeleteSubscribeRelation(req)
		serverError(t, err, 400, "MissingProductKey")
		// The group is free to go now.
		dg := iotsdk.CreateDeleteConsumerGroupRequest()
		dg.GroupId = g1
		dresp, err := c.DeleteConsumerGroup(dg)
		ok(t, dresp, err)
	})
}

func TestOldSDKPub(t *testing.T) {
	e := newEnv(t)
	c := e.old(testAK, testSecret)
	pub := func(mod func(*iotsdk.PubRequest)) (*iotsdk.PubResponse, error) {
		req := iotsdk.CreatePubRequest()
		req.ProductKey = "a1pk"
		req.TopicFullName = "/a1pk/device1/user/get"
		req.MessageContent = base64.StdEncoding.EncodeToString([]byte(`{"switch":1}`))
		req.Qos = requests.NewInteger(1)
		if mod != nil {
			mod(req)
		}
		return c.Pub(req)
	}
	resp, err := pub(nil)
	ok(t, resp, err)
	if resp.MessageId == "" || strings.Trim(resp.MessageId, "0123456789") != "" {
		t.Fatalf("MessageId %q", resp.MessageId)
	}
	// Every optional parameter of the SDK is taken.
	resp2, err := pub(func(r *iotsdk.PubRequest) {
		r.MessageContent = base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe})
		r.Qos = requests.NewInteger(0)
		r.ContentType, r.CorrelationData, r.ResponseTopic = "application/octet-stream", "Y29ycg==", "/a1pk/device1/user/reply"
		r.MessageExpiryInterval, r.TopicAlias, r.PayloadFormatIndicator = requests.NewInteger(60), requests.NewInteger(3), requests.NewInteger(0)
		r.Retained, r.DeviceName, r.IotInstanceId = requests.NewBoolean(false), "gateway", "iot-x"
		r.UserProp = &[]iotsdk.PubUserProp{{Key: "k", Value: "v"}}
	})
	ok(t, resp2, err)

	var out struct {
		Messages []struct {
			MessageID     string  `json:"messageId"`
			Topic         string  `json:"topic"`
			Payload       *string `json:"payload"`
			PayloadBase64 string  `json:"payloadBase64"`
			QoS           int     `json:"qos"`
		} `json:"messages"`
	}
	e.get("/api/v1/products/a1pk/devices/device1/downlink", &out)
	if len(out.Messages) != 2 {
		t.Fatalf("read back %+v", out)
	}
	m := out.Messages[0]
	if m.MessageID != resp.MessageId || m.Topic != "/a1pk/device1/user/get" || m.Payload == nil || *m.Payload != `{"switch":1}` || m.QoS != 1 {
		t.Fatalf("first message %+v", m)
	}
	if m := out.Messages[1]; m.MessageID != resp2.MessageId || m.Payload != nil || m.PayloadBase64 != "//4=" || m.QoS != 0 {
		t.Fatalf("second message %+v", m)
	}

	t.Run("refusals", func(t *testing.T) {
		resp, err := pub(func(r *iotsdk.PubRequest) { r.TopicFullName = "/otherPk/device1/user/get" })
		refused(t, resp, err, iot.CodeInvalidTopic)
		resp, err = pub(func(r *iotsdk.PubRequest) { r.TopicFullName = "/a1pk/device1" })
		refused(t, resp, err, iot.CodeInvalidTopic)
		resp, err = pub(func(r *iotsdk.PubRequest) {
			r.MessageContent = base64.StdEncoding.EncodeToString(make([]byte, 256<<10+1))
		})
		refused(t, resp, err, iot.CodeMessageTooLarge)
		_, err = pub(func(r *iotsdk.PubRequest) { r.Qos = requests.NewInteger(2) })
		serverError(t, err, 400, "InvalidParameter")
		_, err = pub(func(r *iotsdk.PubRequest) { r.MessageContent = "not base64!" })
		serverError(t, err, 400, "InvalidParameter")
		_, err = pub(func(r *iotsdk.PubRequest) { r.MessageContent = "" })
		serverError(t, err, 400, "MissingMessageContent")
		_, err = pub(func(r *iotsdk.PubRequest) { r.TopicFullName = "" })
		serverError(t, err, 400, "MissingTopicFullName")
		_, err = pub(func(r *iotsdk.PubRequest) { r.TopicAlias = "x" })
		serverError(t, err, 400, "InvalidParameter")
	})
}

func TestOldSDKSignatureRefusals(t *testing.T) {
	e := newEnv(t)

	t.Run("wrong secret", func(t *testing.T) {
		_, err := e.old(testAK, "not-the-secret").QueryConsumerGroupByGroupId(groupByID(broker.DefaultGroupID))
		se := serverError(t, err, 400, "SignatureDoesNotMatch")
		// The SDK compares the server's string to sign with its own: equal
		// strings mean the secret is wrong, and it says so.
		if !strings.Contains(se.Recommend(), "InvalidAccessKeySecret") {
			t.Fatalf("Recommend %q: the string to sign differs from the SDK's (message %q)", se.Recommend(), se.Message())
		}
	})
	t.Run("unknown access key", func(t *testing.T) {
		_, err := e.old("LTAI5tNobody", testSecret).QueryConsumerGroupByGroupId(groupByID(broker.DefaultGroupID))
		serverError(t, err, 404, "InvalidAccessKeyId.NotFound")
	})
	c := e.old(testAK, testSecret)
	t.Run("unknown action", func(t *testing.T) {
		_, err := c.ProcessCommonRequest(e.common("QueryDeviceDetail", map[string]string{"ProductKey": "pk"}))
		serverError(t, err, 404, "InvalidAction.NotFound")
	})
	t.Run("unknown version", func(t *testing.T) {
		r := e.common("QueryConsumerGroupByGroupId", map[string]string{"GroupId": broker.DefaultGroupID})
		r.Version = "2017-04-20"
		_, err := c.ProcessCommonRequest(r)
		serverError(t, err, 400, "InvalidVersion")
	})
	t.Run("a common request succeeds", func(t *testing.T) {
		resp, err := c.ProcessCommonRequest(e.common("QueryConsumerGroupByGroupId", map[string]string{"GroupId": broker.DefaultGroupID}))
		if err != nil || !strings.Contains(resp.GetHttpContentString(), `"GroupId":"DEFAULT_GROUP"`) {
			t.Fatalf("%v %v", resp, err)
		}
	})
	t.Run("XML answers", func(t *testing.T) {
		req := iotsdk.CreateQueryConsumerGroupListRequest()
		req.CurrentPage = requests.NewInteger(1)
		req.AcceptFormat = "XML"
		resp, err := c.QueryConsumerGroupList(req)
		ok(t, resp, err)
		if !strings.HasPrefix(resp.GetHttpContentString(), "<?xml") || resp.Total != 1 || len(resp.Data.ConsumerGroupDTO) != 1 || resp.Data.ConsumerGroupDTO[0].GroupId != broker.DefaultGroupID {
			t.Fatalf("XML answer decoded to %+v from %s", resp, resp.GetHttpContentString())
		}
	})
}

func groupByID(id string) *iotsdk.QueryConsumerGroupByGroupIdRequest {
	req := iotsdk.CreateQueryConsumerGroupByGroupIdRequest()
	req.GroupId = id
	return req
}

// TestOldSDKThroughHTTPProxy: unmodified code, the SDK's default endpoint
// (iot.cn-shanghai.aliyuncs.com) and HTTP_PROXY pointing at the emulator.
func TestOldSDKThroughHTTPProxy(t *testing.T) {
	e := newEnv(t)
	t.Setenv("HTTP_PROXY", e.srv.URL)
	t.Setenv("http_proxy", e.srv.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	c, err := iotsdk.NewClientWithAccessKey(region, testAK, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	req := iotsdk.CreateCreateConsumerGroupRequest()
	req.GroupName = "via_proxy"
	resp, err := c.CreateConsumerGroup(req)
	ok(t, resp, err)
	if g, err := e.b.Group(context.Background(), "via_proxy"); err != nil || g.ID != resp.GroupId {
		t.Fatalf("group %+v: %v", g, err)
	}
	if !strings.Contains(e.log.String(), `"host":"iot.cn-shanghai.aliyuncs.com","version":"2018-01-20","action":"CreateConsumerGroup"`) {
		t.Fatal("the call did not reach the emulator's OpenAPI")
	}
}
