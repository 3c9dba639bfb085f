// Command openapi manages consumer groups with the IoT platform's own Go
// SDK, pointed at amqpemu: the README's OpenAPI snippet.
package main

import (
	"fmt"
	"os"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/iot"
)

func main() {
	endpoint := "127.0.0.1:8080" // amqpemu's --http; unset it to reach the cloud
	if len(os.Args) > 1 {
		endpoint = os.Args[1]
	}
	client, err := iot.NewClientWithAccessKey("cn-shanghai", "amqpemu-dev-key", "amqpemu-dev-secret")
	if err != nil {
		fail(err)
	}
	client.Domain = endpoint
	client.GetConfig().Scheme = "http"

	create := iot.CreateCreateConsumerGroupRequest()
	create.GroupName = "billing_app"
	created, err := client.CreateConsumerGroup(create)
	if err != nil {
		fail(err)
	}
	if !created.Success {
		fail(fmt.Errorf("%s: %s", created.Code, created.ErrorMessage))
	}

	sub := iot.CreateCreateSubscribeRelationRequest()
	sub.ProductKey = "pk1"
	sub.Type = "AMQP"
	sub.ConsumerGroupIds = &[]string{created.GroupId}
	sub.DeviceDataFlag = "true"
	if resp, err := client.CreateSubscribeRelation(sub); err != nil || !resp.Success {
		fail(fmt.Errorf("subscribe: %v %+v", err, resp))
	}

	status := iot.CreateQueryConsumerGroupStatusRequest()
	status.GroupId = created.GroupId
	st, err := client.QueryConsumerGroupStatus(status)
	if err != nil || !st.Success {
		fail(fmt.Errorf("status: %v %+v", err, st))
	}
	fmt.Printf("group %s: %d accumulated, %d online clients\n",
		created.GroupId, st.AccumulationCount, len(st.ClientConnectionStatusList.ConsumerGroupClientConnectionInfo))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "openapi:", err, "(is amqpemu running?)")
	os.Exit(1)
}
