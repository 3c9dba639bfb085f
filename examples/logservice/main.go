// Command logservice writes a log with the log service's own Go SDK and
// reads it back with its consumer library, in consumer group "readers",
// unchanged but for where the SDK sends its requests: run it with
// HTTP_PROXY=http://127.0.0.1:8080 (amqpemu's --http) and it talks to
// amqpemu, without it to the cloud. A second run reads only what came
// since the first: the group's checkpoints hold its place.
package main

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	consumerLibrary "github.com/aliyun/aliyun-log-go-sdk/consumer"
	"github.com/gogo/protobuf/proto"
)

const (
	endpoint          = "cn-hangzhou.log.aliyuncs.com"
	key, secret       = "amqpemu-dev-key", "amqpemu-dev-secret"
	project, logstore = "my-project", "app-log"
)

func main() {
	client := sls.CreateNormalInterface(endpoint, key, secret, "")
	if _, err := client.CreateProject(project, "logs of my app"); err != nil && !exists(err) {
		fail(err)
	}
	if err := client.CreateLogStore(project, logstore, 1, 2, false, 0); err != nil && !exists(err) {
		fail(err)
	}
	stamp := strconv.FormatInt(time.Now().UnixNano(), 10)
	group := &sls.LogGroup{Topic: proto.String("demo"), Logs: []*sls.Log{{
		Time:     proto.Uint32(uint32(time.Now().Unix())),
		Contents: []*sls.LogContent{{Key: proto.String("stamp"), Value: proto.String(stamp)}},
	}}}
	if err := client.PutLogs(project, logstore, group); err != nil {
		fail(err)
	}

	var mu sync.Mutex
	read, done := 0, make(chan struct{})
	worker := consumerLibrary.InitConsumerWorkerWithCheckpointTracker(consumerLibrary.LogHubConfig{
		Endpoint: endpoint, AccessKeyID: key, AccessKeySecret: secret,
		Project: project, Logstore: logstore,
		ConsumerGroupName: "readers", ConsumerName: "reader-1",
		CursorPosition: consumerLibrary.BEGIN_CURSOR, AllowLogLevel: "error",
	}, func(shard int, logs *sls.LogGroupList, tracker consumerLibrary.CheckPointTracker) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, g := range logs.LogGroups {
			for _, l := range g.Logs {
				read++
				if l.Contents[0].GetValue() == stamp {
					close(done) // this run's log came through
				}
			}
		}
		return "", tracker.SaveCheckPoint(true)
	})
	worker.Start()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		fail(fmt.Errorf("the log put was not read back"))
	}
	worker.StopAndWait()
	fmt.Printf("group readers read %d new logs of %s/%s\n", read, project, logstore)
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
