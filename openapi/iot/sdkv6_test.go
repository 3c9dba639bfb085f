package iot_test

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	darabonba "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	iotv6 "github.com/alibabacloud-go/iot-20180120/v6/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/openapi/iot"
)

// The new-style SDK (github.com/alibabacloud-go/iot-20180120/v6, ACS3-HMAC-
// SHA256, the action in the x-acs-action header) with its Endpoint set to
// the emulator.

func (e *env) v6(secret string) *iotv6.Client {
	e.t.Helper()
	c, err := iotv6.NewClient(&darabonba.Config{
		AccessKeyId: tea.String(testAK), AccessKeySecret: tea.String(secret),
		Endpoint: tea.String(e.host), Protocol: tea.String("http"), RegionId: tea.String(region),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// v6ok fails unless a v6 call succeeded.
func v6ok(t *testing.T, success *bool, code *string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("call failed: %v", err)
	}
	if !tea.BoolValue(success) || tea.StringValue(code) != "" {
		t.Fatalf("Success %v, Code %q", tea.BoolValue(success), tea.StringValue(code))
	}
}

// sdkError fails unless err is the new SDK's error with status and code.
func sdkError(t *testing.T, err error, status int, code string) *tea.SDKError {
	t.Helper()
	var se *tea.SDKError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want an SDKError %d %s", err, err, status, code)
	}
	if tea.IntValue(se.StatusCode) != status || tea.StringValue(se.Code) != code || !strings.Contains(tea.StringValue(se.Message), "request id: ") {
		t.Fatalf("SDKError %d %q %q, want %d %s", tea.IntValue(se.StatusCode), tea.StringValue(se.Code), tea.StringValue(se.Message), status, code)
	}
	return se
}

func TestNewSDK(t *testing.T) {
	e := newEnv(t)
	c := e.v6(testSecret)
	ctx := context.Background()

	cr, err := c.CreateConsumerGroup(&iotv6.CreateConsumerGroupRequest{GroupName: tea.String("v6_group")})
	v6ok(t, cr.Body.Success, cr.Body.Code, err)
	gid := tea.StringValue(cr.Body.GroupId)
	if len(gid) != 26 {
		t.Fatalf("GroupId %q", gid)
	}

	lr, err := c.QueryConsumerGroupList(&iotv6.QueryConsumerGroupListRequest{CurrentPage: tea.Int32(1), PageSize: tea.Int32(10), Fuzzy: tea.Bool(true), GroupName: tea.String("v6_")})
	v6ok(t, lr.Body.Success, lr.Body.Code, err)
	if tea.Int32Value(lr.Body.Total) != 1 || len(lr.Body.Data.ConsumerGroupDTO) != 1 || tea.StringValue(lr.Body.Data.ConsumerGroupDTO[0].GroupId) != gid {
		t.Fatalf("list %s", lr.Body)
	}

	br, err := c.QueryConsumerGroupByGroupId(&iotv6.QueryConsumerGroupByGroupIdRequest{GroupId: tea.String("v6_group")})
	v6ok(t, br.Body.Success, br.Body.Code, err)
	if tea.StringValue(br.Body.Data.GroupId) != gid {
		t.Fatalf("by name %s", br.Body)
	}

	ur, err := c.UpdateConsumerGroup(&iotv6.UpdateConsumerGroupRequest{GroupId: tea.String(gid), NewGroupName: tea.String("v6_renamed")})
	v6ok(t, ur.Body.Success, ur.Body.Code, err)

	sr, err := c.QueryConsumerGroupStatus(&iotv6.QueryConsumerGroupStatusRequest{GroupId: tea.String(gid)})
	v6ok(t, sr.Body.Success, sr.Body.Code, err)
	if tea.Int32Value(sr.Body.AccumulationCount) != 0 || len(sr.Body.ClientConnectionStatusList.ConsumerGroupClientConnectionInfo) != 0 {
		t.Fatalf("status %s", sr.Body)
	}

	const pk = "v6Product"
	csr, err := c.CreateSubscribeRelation(&iotv6.CreateSubscribeRelationRequest{
		ProductKey: tea.String(pk), Type: tea.String("AMQP"), ConsumerGroupIds: []*string{tea.String(gid)},
		DeviceDataFlag: tea.Bool(true), OtaJobFlag: tea.Bool(true), DeviceTagFlag: tea.Bool(false),
	})
	v6ok(t, csr.Body.Success, csr.Body.Code, err)
	if s, _ := e.b.Subscription(ctx, pk); !slices.Equal(s.Kinds, []string{broker.KindData, broker.KindOTAJob}) || !slices.Equal(s.Groups, []string{gid}) {
		t.Fatalf("subscription %+v", s)
	}
	mns, err := c.CreateSubscribeRelation(&iotv6.CreateSubscribeRelationRequest{
		ProductKey: tea.String("mnsProduct"), Type: tea.String("MNS"), DeviceDataFlag: tea.Bool(true),
	})
	if err != nil || tea.BoolValue(mns.Body.Success) || tea.StringValue(mns.Body.Code) != iot.CodeTypeNotSupported {
		t.Fatalf("MNS: %v %s", err, mns)
	}

	qsr, err := c.QuerySubscribeRelation(&iotv6.QuerySubscribeRelationRequest{ProductKey: tea.String(pk), Type: tea.String("AMQP")})
	v6ok(t, qsr.Body.Success, qsr.Body.Code, err)
	if !tea.BoolValue(qsr.Body.DeviceDataFlag) || !tea.BoolValue(qsr.Body.OtaJobFlag) || tea.BoolValue(qsr.Body.DeviceTagFlag) ||
		len(qsr.Body.ConsumerGroupIds) != 1 || tea.StringValue(qsr.Body.ConsumerGroupIds[0]) != gid {
		t.Fatalf("query %s", qsr.Body)
	}

	usr, err := c.UpdateSubscribeRelation(&iotv6.UpdateSubscribeRelationRequest{
		ProductKey: tea.String(pk), Type: tea.String("AMQP"), ConsumerGroupIds: []*string{tea.String(gid), tea.String(broker.DefaultGroupID)},
		DeviceStatusChangeFlag: tea.Bool(true), SubscribeFlags: tea.String(`{"lvDeviceStatusFlag":true}`),
	})
	v6ok(t, usr.Body.Success, usr.Body.Code, err)
	if s, _ := e.b.Subscription(ctx, pk); !slices.Equal(s.Kinds, []string{broker.KindStatus}) || len(s.Groups) != 2 || !s.Flags["lvDeviceStatusFlag"] {
		t.Fatalf("subscription %+v", s)
	}

	dgr, err := c.DeleteConsumerGroupSubscribeRelation(&iotv6.DeleteConsumerGroupSubscribeRelationRequest{ConsumerGroupId: tea.String(broker.DefaultGroupID), ProductKey: tea.String(pk)})
	v6ok(t, dgr.Body.Success, dgr.Body.Code, err)
	cgr, err := c.CreateConsumerGroupSubscribeRelation(&iotv6.CreateConsumerGroupSubscribeRelationRequest{ConsumerGroupId: tea.String(broker.DefaultGroupID), ProductKey: tea.String(pk)})
	v6ok(t, cgr.Body.Success, cgr.Body.Code, err)

	// A business refusal: the group is still subscribed.
	del, err := c.DeleteConsumerGroup(&iotv6.DeleteConsumerGroupRequest{GroupId: tea.String(gid)})
	if err != nil || tea.BoolValue(del.Body.Success) || tea.StringValue(del.Body.Code) != iot.CodeGroupInUse || !strings.Contains(tea.StringValue(del.Body.ErrorMessage), pk) {
		t.Fatalf("delete of a subscribed group: %v %s", err, del)
	}
	dsr, err := c.DeleteSubscribeRelation(&iotv6.DeleteSubscribeRelationRequest{ProductKey: tea.String(pk), Type: tea.String("AMQP")})
	v6ok(t, dsr.Body.Success, dsr.Body.Code, err)
	del, err = c.DeleteConsumerGroup(&iotv6.DeleteConsumerGroupRequest{GroupId: tea.String(gid)})
	v6ok(t, del.Body.Success, del.Body.Code, err)

	// Pub puts MessageContent in the form body, signed through x-acs-content-sha256.
	pr, err := c.Pub(&iotv6.PubRequest{ProductKey: tea.String("pk6"), TopicFullName: tea.String("/pk6/dev/user/get"),
		MessageContent: tea.String(base64.StdEncoding.EncodeToString([]byte("hello v6"))), Qos: tea.Int32(0)})
	v6ok(t, pr.Body.Success, pr.Body.Code, err)
	if msgs := e.rec.Messages("pk6", "dev"); len(msgs) != 1 || string(msgs[0].Payload) != "hello v6" || msgs[0].MessageID != tea.StringValue(pr.Body.MessageId) {
		t.Fatalf("recorded %+v", msgs)
	}

	// Refusals of the door.
	_, err = c.QueryConsumerGroupStatus(&iotv6.QueryConsumerGroupStatusRequest{})
	sdkError(t, err, 400, "MissingGroupId")
	_, err = e.v6("not-the-secret").QueryConsumerGroupStatus(&iotv6.QueryConsumerGroupStatusRequest{GroupId: tea.String(broker.DefaultGroupID)})
	se := sdkError(t, err, 400, "SignatureDoesNotMatch")
	if strings.Contains(se.Error(), testSecret) || !strings.Contains(tea.StringValue(se.Message), "server string to sign is:ACS3-HMAC-SHA256") {
		t.Fatalf("message %q", tea.StringValue(se.Message))
	}
	if !strings.Contains(e.log.String(), `"scheme":"ACS3"`) {
		t.Fatal("no call was checked as ACS3")
	}
}
