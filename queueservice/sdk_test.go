package queueservice

// The vendor's Go SDK had a DMS client up to v0.1.42 (services/dms/v2),
// which the module proxy here does not serve. dmsClient below rebuilds the
// calls of that client the way its dms_meta.go declared them (method,
// path, where each field goes, the response models' JSON) on the core of
// the version that is served, v0.1.207: its HTTP client builds, signs
// (SDK-HMAC-SHA256, with X-Project-Id and the project filled in the path
// from the credentials), sends and parses exactly as the v0.1.42 client
// did, errors included.

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/internal/brokertest"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/def"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
)

// The request and response models, as v0.1.42's model package had them.
type (
	createQueueReq struct {
		Name        string  `json:"name"`
		Description *string `json:"description,omitempty"`
		QueueMode   *string `json:"queue_mode,omitempty"`
	}
	createQueueRequest struct {
		Body *createQueueReq `json:"body,omitempty"`
	}
	createQueueResponse struct {
		Id             *string `json:"id,omitempty"`
		Name           *string `json:"name,omitempty"`
		KafkaTopic     *string `json:"kafka_topic,omitempty"`
		HttpStatusCode int     `json:"-"`
	}
	groupEntity struct {
		Name string `json:"name"`
	}
	createConsumerGroupReq struct {
		Groups []groupEntity `json:"groups"`
	}
	createConsumerGroupRequest struct {
		QueueId string                  `json:"queue_id"`
		Body    *createConsumerGroupReq `json:"body,omitempty"`
	}
	createConsumerGroupRespGroups struct {
		Id   *string `json:"id,omitempty"`
		Name *string `json:"name,omitempty"`
	}
	createConsumerGroupResponse struct {
		Groups         *[]createConsumerGroupRespGroups `json:"groups,omitempty"`
		HttpStatusCode int                              `json:"-"`
	}
	listConsumerGroupsRequest struct {
		QueueId            string `json:"queue_id"`
		IncludeDeadletter  *bool  `json:"include_deadletter,omitempty"`
		IncludeMessagesNum *bool  `json:"include_messages_num,omitempty"`
		PageSize           *int32 `json:"page_size,omitempty"`
		CurrentPage        *int32 `json:"current_page,omitempty"`
	}
	listConsumerGroupsRespGroups struct {
		Id                   *string `json:"id,omitempty"`
		Name                 *string `json:"name,omitempty"`
		ProducedMessages     *int32  `json:"produced_messages,omitempty"`
		ConsumedMessages     *int32  `json:"consumed_messages,omitempty"`
		AvailableMessages    *int32  `json:"available_messages,omitempty"`
		ProducedDeadletters  *int32  `json:"produced_deadletters,omitempty"`
		AvailableDeadletters *int32  `json:"available_deadletters,omitempty"`
	}
	listConsumerGroupsResponse struct {
		QueueId        *string                         `json:"queue_id,omitempty"`
		QueueName      *string                         `json:"queue_name,omitempty"`
		Groups         *[]listConsumerGroupsRespGroups `json:"groups,omitempty"`
		RedrivePolicy  *string                         `json:"redrive_policy,omitempty"`
		HttpStatusCode int                             `json:"-"`
	}
	deleteSpecifiedConsumerGroupRequest struct {
		QueueId string `json:"queue_id"`
		GroupId string `json:"group_id"`
	}
	deleteSpecifiedConsumerGroupResponse struct {
		HttpStatusCode int `json:"-"`
	}
	batchMessage struct {
		Body       any       `json:"body,omitempty"`
		Attributes any       `json:"attributes,omitempty"`
		Tags       *[]string `json:"tags,omitempty"`
		DelayTime  *int32    `json:"delay_time,omitempty"`
	}
	sendMessagesReq struct {
		ReturnId *bool          `json:"return_id,omitempty"`
		Messages []batchMessage `json:"messages"`
	}
	sendMessagesRequest struct {
		QueueId string           `json:"queue_id"`
		Body    *sendMessagesReq `json:"body,omitempty"`
	}
	sendMessagesRespMessages struct {
		State     *int32  `json:"state,omitempty"`
		Id        *string `json:"id,omitempty"`
		Error     *string `json:"error,omitempty"`
		ErrorCode *int32  `json:"error_code,omitempty"` // a number in the model
	}
	sendMessagesResponse struct {
		Messages       *[]sendMessagesRespMessages `json:"messages,omitempty"`
		HttpStatusCode int                         `json:"-"`
	}
	consumeMessagesRequest struct {
		QueueId         string  `json:"queue_id"`
		ConsumerGroupId string  `json:"consumer_group_id"`
		MaxMsgs         *int32  `json:"max_msgs,omitempty"`
		TimeWait        *int32  `json:"time_wait,omitempty"`
		AckWait         *int32  `json:"ack_wait,omitempty"`
		Tag             *string `json:"tag,omitempty"`
		TagType         *string `json:"tag_type,omitempty"`
	}
	consumeMessageMessage struct {
		Body       any       `json:"body,omitempty"`
		Attributes any       `json:"attributes,omitempty"`
		Tags       *[]string `json:"tags,omitempty"`
	}
	consumeMessage struct {
		Message *consumeMessageMessage `json:"message,omitempty"`
		Handler *string                `json:"handler,omitempty"`
	}
	consumeMessagesResponse struct {
		Body           *[]consumeMessage `json:"body,omitempty"`
		HttpStatusCode int               `json:"-"`
	}
	confirmMessage struct {
		Handler *string `json:"handler,omitempty"`
		Status  *string `json:"status,omitempty"`
	}
	confirmConsumptionMessagesReq struct {
		Message *[]confirmMessage `json:"message,omitempty"`
	}
	confirmConsumptionMessagesRequest struct {
		QueueId         string                         `json:"queue_id"`
		ConsumerGroupId string                         `json:"consumer_group_id"`
		Body            *confirmConsumptionMessagesReq `json:"body,omitempty"`
	}
	confirmConsumptionMessagesResponse struct {
		Success        *int32 `json:"success,omitempty"`
		Fail           *int32 `json:"fail,omitempty"`
		HttpStatusCode int    `json:"-"`
	}
)

// dmsClient makes v0.1.42's calls on an HcHttpClient.
type dmsClient struct{ hc *core.HcHttpClient }

func newDMSClient(t *testing.T, hs *httptest.Server, ak, sk string) *dmsClient {
	t.Helper()
	cred, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(testProject).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := core.NewHcHttpClientBuilder().WithEndpoint(hs.URL).WithCredential(cred).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return &dmsClient{hc: hc}
}

// reqDef declares a call as dms_meta.go did: path fields by JSON tag,
// query fields, a JSON body, the response.
func reqDef(method, path string, resp any, path_, query []string, reqBody, respBody bool) *def.HttpRequestDef {
	b := def.NewHttpRequestDefBuilder().WithMethod(method).WithPath(path).WithResponse(resp).WithContentType("application/json")
	field := func(name, tag string, loc def.LocationType) {
		b.WithRequestField(def.NewFieldDef().WithName(name).WithJsonTag(tag).WithLocationType(loc))
	}
	for i := 0; i+1 < len(path_); i += 2 {
		field(path_[i], path_[i+1], def.Path)
	}
	for i := 0; i+1 < len(query); i += 2 {
		field(query[i], query[i+1], def.Query)
	}
	if reqBody {
		b.WithRequestField(def.NewFieldDef().WithName("Body").WithLocationType(def.Body))
	}
	if respBody {
		b.WithResponseField(def.NewFieldDef().WithName("Body").WithLocationType(def.Body))
	}
	return b.Build()
}

func (c *dmsClient) CreateQueue(r *createQueueRequest) (*createQueueResponse, error) {
	resp, err := c.hc.Sync(r, reqDef(http.MethodPost, "/v2/{project_id}/queues", new(createQueueResponse), nil, nil, true, false))
	if err != nil {
		return nil, err
	}
	return resp.(*createQueueResponse), nil
}

func (c *dmsClient) CreateConsumerGroup(r *createConsumerGroupRequest) (*createConsumerGroupResponse, error) {
	resp, err := c.hc.Sync(r, reqDef(http.MethodPost, "/v2/{project_id}/queues/{queue_id}/groups", new(createConsumerGroupResponse),
		[]string{"QueueId", "queue_id"}, nil, true, false))
	if err != nil {
		return nil, err
	}
	return resp.(*createConsumerGroupResponse), nil
}

func (c *dmsClient) ListConsumerGroups(r *listConsumerGroupsRequest) (*listConsumerGroupsResponse, error) {
	resp, err := c.hc.Sync(r, reqDef(http.MethodGet, "/v2/{project_id}/queues/{queue_id}/groups", new(listConsumerGroupsResponse),
		[]string{"QueueId", "queue_id"}, []string{"IncludeDeadletter", "include_deadletter", "IncludeMessagesNum", "include_messages_num",
			"PageSize", "page_size", "CurrentPage", "current_page"}, false, false))
	if err != nil {
		return nil, err
	}
	return resp.(*listConsumerGroupsResponse), nil
}

func (c *dmsClient) DeleteSpecifiedConsumerGroup(r *deleteSpecifiedConsumerGroupRequest) (*deleteSpecifiedConsumerGroupResponse, error) {
	resp, err := c.hc.Sync(r, reqDef(http.MethodDelete, "/v2/{project_id}/queues/{queue_id}/groups/{group_id}", new(deleteSpecifiedConsumerGroupResponse),
		[]string{"QueueId", "queue_id", "GroupId", "group_id"}, nil, false, false))
	if err != nil {
		return nil, err
	}
	return resp.(*deleteSpecifiedConsumerGroupResponse), nil
}

func (c *dmsClient) SendMessages(r *sendMessagesRequest) (*sendMessagesResponse, error) {
	resp, err := c.hc.Sync(r, reqDef(http.MethodPost, "/v2/{project_id}/queues/{queue_id}/messages", new(sendMessagesResponse),
		[]string{"QueueId", "queue_id"}, nil, true, false))
	if err != nil {
		return nil, err
	}
	return resp.(*sendMessagesResponse), nil
}

func (c *dmsClient) ConsumeMessages(r *consumeMessagesRequest) (*consumeMessagesResponse, error) {
	resp, err := c.hc.Sync(r, reqDef(http.MethodGet, "/v2/{project_id}/queues/{queue_id}/groups/{consumer_group_id}/messages", new(consumeMessagesResponse),
		[]string{"QueueId", "queue_id", "ConsumerGroupId", "consumer_group_id"},
		[]string{"MaxMsgs", "max_msgs", "TimeWait", "time_wait", "AckWait", "ack_wait", "Tag", "tag", "TagType", "tag_type"}, false, true))
	if err != nil {
		return nil, err
	}
	return resp.(*consumeMessagesResponse), nil
}

func (c *dmsClient) ConfirmConsumptionMessages(r *confirmConsumptionMessagesRequest) (*confirmConsumptionMessagesResponse, error) {
	resp, err := c.hc.Sync(r, reqDef(http.MethodPost, "/v2/{project_id}/queues/{queue_id}/groups/{consumer_group_id}/ack", new(confirmConsumptionMessagesResponse),
		[]string{"QueueId", "queue_id", "ConsumerGroupId", "consumer_group_id"}, nil, true, false))
	if err != nil {
		return nil, err
	}
	return resp.(*confirmConsumptionMessagesResponse), nil
}

func ptr[T any](v T) *T { return &v }

// TestQueueSDKClient: v0.1.42's DMS calls, made by the SDK core, get what
// their models expect; errors arrive as the SDK's ServiceResponseError
// with the code as a string.
func TestQueueSDKClient(t *testing.T) {
	hs, _ := startServer(t, brokertest.Open(t, t.TempDir()), func(c *Config) { c.AckWait = 2 * time.Second })
	c := newDMSClient(t, hs, testAK, testSecret)

	q, err := c.CreateQueue(&createQueueRequest{Body: &createQueueReq{Name: "sdk-queue", Description: ptr("made by the SDK")}})
	if err != nil || q.HttpStatusCode != 201 || q.Id == nil || *q.Name != "sdk-queue" {
		t.Fatalf("CreateQueue: %+v, %v", q, err)
	}
	queue := *q.Id
	g, err := c.CreateConsumerGroup(&createConsumerGroupRequest{QueueId: queue, Body: &createConsumerGroupReq{Groups: []groupEntity{{"group-aa"}, {"group-bb"}}}})
	if err != nil || g.HttpStatusCode != 201 || g.Groups == nil || len(*g.Groups) != 2 || *(*g.Groups)[0].Name != "group-aa" {
		t.Fatalf("CreateConsumerGroup: %+v, %v", g, err)
	}
	group := *(*g.Groups)[0].Id

	_, err = c.CreateConsumerGroup(&createConsumerGroupRequest{QueueId: queue, Body: &createConsumerGroupReq{Groups: []groupEntity{{"a"}, {"b"}, {"c"}, {"d"}}}})
	var se *sdkerr.ServiceResponseError
	if !errors.As(err, &se) || se.StatusCode != 400 || se.ErrorCode != errTooManyInBatch.code || se.RequestId == "" {
		t.Errorf("four groups: %v, want a ServiceResponseError 400 %s with a request id", err, errTooManyInBatch.code)
	}

	sent, err := c.SendMessages(&sendMessagesRequest{QueueId: queue, Body: &sendMessagesReq{ReturnId: ptr(true), Messages: []batchMessage{
		{Body: "hello", Attributes: map[string]string{"k": "v"}}, {Body: map[string]any{"n": 2}}}}})
	if err != nil || sent.Messages == nil || len(*sent.Messages) != 2 || (*sent.Messages)[0].Id == nil || *(*sent.Messages)[0].State != 0 {
		t.Fatalf("SendMessages: %+v, %v", sent, err)
	}

	got, err := c.ConsumeMessages(&consumeMessagesRequest{QueueId: queue, ConsumerGroupId: group, MaxMsgs: ptr(int32(10)), TimeWait: ptr(int32(3)), AckWait: ptr(int32(30))})
	if err == nil && got.Body != nil && len(*got.Body) == 1 { // the second may not be counted yet: once more
		var more *consumeMessagesResponse
		if more, err = c.ConsumeMessages(&consumeMessagesRequest{QueueId: queue, ConsumerGroupId: group, MaxMsgs: ptr(int32(1)), TimeWait: ptr(int32(3)), AckWait: ptr(int32(30))}); err == nil && more.Body != nil {
			*got.Body = append(*got.Body, *more.Body...)
		}
	}
	if err != nil || got.HttpStatusCode != 200 || got.Body == nil || len(*got.Body) != 2 {
		t.Fatalf("ConsumeMessages: %+v (%d), %v", got, len(*got.Body), err)
	}
	first := (*got.Body)[0]
	if first.Message.Body != "hello" || first.Handler == nil || *first.Handler == "" {
		t.Errorf("first message %+v", first.Message)
	}
	if attrs, ok := first.Message.Attributes.(map[string]any); !ok || attrs["k"] != "v" {
		t.Errorf("attributes %#v", first.Message.Attributes)
	}
	acks := []confirmMessage{{Handler: first.Handler, Status: ptr("success")}, {Handler: (*got.Body)[1].Handler, Status: ptr("fail")}}
	res, err := c.ConfirmConsumptionMessages(&confirmConsumptionMessagesRequest{QueueId: queue, ConsumerGroupId: group, Body: &confirmConsumptionMessagesReq{Message: &acks}})
	if err != nil || res.Success == nil || *res.Success != 2 || res.Fail != nil && *res.Fail != 0 {
		t.Fatalf("ConfirmConsumptionMessages: %+v, %v", res, err)
	}
	again, err := c.ConsumeMessages(&consumeMessagesRequest{QueueId: queue, ConsumerGroupId: group, TimeWait: ptr(int32(1))})
	if err != nil || again.Body == nil || len(*again.Body) != 1 {
		t.Fatalf("after a fail-ack: %+v, %v", again, err)
	}
	if body, _ := (*again.Body)[0].Message.Body.(map[string]any); body["n"] != float64(2) {
		t.Errorf("redelivered %#v, want the second message", (*again.Body)[0].Message.Body)
	}

	list, err := c.ListConsumerGroups(&listConsumerGroupsRequest{QueueId: queue, IncludeMessagesNum: ptr(true), PageSize: ptr(int32(10)), CurrentPage: ptr(int32(1))})
	if err != nil || list.Groups == nil || len(*list.Groups) != 2 || *list.QueueName != "sdk-queue" || *list.RedrivePolicy != "disable" {
		t.Fatalf("ListConsumerGroups: %+v, %v", list, err)
	}
	var names []string
	for _, g := range *list.Groups {
		names = append(names, *g.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"group-aa", "group-bb"}) {
		t.Errorf("groups %v", names)
	}

	del, err := c.DeleteSpecifiedConsumerGroup(&deleteSpecifiedConsumerGroupRequest{QueueId: queue, GroupId: group})
	if err != nil || del.HttpStatusCode != 204 {
		t.Fatalf("DeleteSpecifiedConsumerGroup: %+v, %v", del, err)
	}
	_, err = c.ConsumeMessages(&consumeMessagesRequest{QueueId: queue, ConsumerGroupId: group})
	if !errors.As(err, &se) || se.StatusCode != 404 || se.ErrorCode != errGroupNotFound.code {
		t.Errorf("consuming a deleted group: %v", err)
	}

	wrong := newDMSClient(t, hs, testAK, "wrong-secret")
	_, err = wrong.ListConsumerGroups(&listConsumerGroupsRequest{QueueId: queue})
	if !errors.As(err, &se) || se.StatusCode != 401 || se.ErrorCode != errUnauthorized.code {
		t.Errorf("a wrong secret: %v", err)
	}
}
