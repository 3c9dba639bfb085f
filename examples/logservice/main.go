// Command logservice writes logs with the log service's own Go SDK and
// reads them back, unchanged but for where it sends them: run it with
// HTTP_PROXY=http://127.0.0.1:8080 (amqpemu's --http) and it talks to
// amqpemu, without it to the cloud.
package main

import (
	"fmt"
	"os"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"
)

func main() {
	const project, logstore = "my-project", "app-log"
	client := sls.CreateNormalInterface("cn-hangzhou.log.aliyuncs.com", "amqpemu-dev-key", "amqpemu-dev-secret", "")

	if _, err := client.CreateProject(project, "logs of my app"); err != nil && !exists(err) {
		fail(err)
	}
	if err := client.CreateLogStore(project, logstore, 1, 2, false, 0); err != nil && !exists(err) {
		fail(err)
	}
	group := &sls.LogGroup{Topic: proto.String("demo"), Logs: []*sls.Log{{
		Time:     proto.Uint32(uint32(time.Now().Unix())),
		Contents: []*sls.LogContent{{Key: proto.String("msg"), Value: proto.String("hello from the SDK")}},
	}}}
	if err := client.PutLogs(project, logstore, group); err != nil {
		fail(err)
	}

	total := 0
	for shard := range 2 {
		cursor, err := client.GetCursor(project, logstore, shard, "begin")
		if err != nil {
			fail(err)
		}
		logs, _, err := client.PullLogs(project, logstore, shard, cursor, "", 1000)
		if err != nil {
			fail(err)
		}
		for _, g := range logs.LogGroups {
			total += len(g.Logs)
		}
	}
	fmt.Printf("%s/%s holds %d logs\n", project, logstore, total)
}

// exists is true for the "already there" answers of a second run.
func exists(err error) bool {
	e, ok := err.(*sls.Error)
	return ok && (e.Code == "ProjectAlreadyExist" || e.Code == "LogStoreAlreadyExist")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "logservice example:", err)
	os.Exit(1)
}
