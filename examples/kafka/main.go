// Command kafka consumes the device messages of product pk1 from topic pk1
// with franz-go in consumer group "billing", commits and leaves; then,
// with the Kafka service's own Go SDK (alikafka), it moves the empty group
// back to the earliest offsets and asks how far behind it is: the
// README's Kafka snippet. Run amqpemu with --kafka 127.0.0.1:9092.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/alikafka"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	kafkaAddr, httpAddr := "127.0.0.1:9092", "127.0.0.1:8080" // amqpemu's --kafka and --http
	if len(os.Args) > 2 {
		kafkaAddr, httpAddr = os.Args[1], os.Args[2]
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(kafkaAddr), kgo.ConsumerGroup("billing"), kgo.ConsumeTopics("pk1"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		fail(err)
	}
	consumed := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		fetches := cl.PollFetches(ctx)
		cancel()
		if err := fetches.Err0(); err != nil && err != context.DeadlineExceeded {
			fail(err)
		}
		if fetches.NumRecords() == 0 {
			break // caught up
		}
		fetches.EachRecord(func(r *kgo.Record) {
			fmt.Printf("partition %d offset %d device %s: %s\n", r.Partition, r.Offset, r.Key, r.Value)
			consumed++
		})
	}
	if err := cl.CommitUncommittedOffsets(context.Background()); err != nil {
		fail(err)
	}
	cl.Close() // leaves the group: offsets can be reset only while it is empty

	client, err := alikafka.NewClientWithAccessKey("cn-hangzhou", "amqpemu-dev-key", "amqpemu-dev-secret")
	if err != nil {
		fail(err)
	}
	client.Domain = httpAddr // unset it to reach the cloud
	reset := alikafka.CreateUpdateConsumerOffsetRequest()
	reset.InstanceId, reset.ConsumerId, reset.Topic = "alikafka_pre-cn-local", "billing", "pk1"
	reset.ResetType, reset.Time = "timestamp", "-2" // -2 earliest, -1 latest, or epoch ms
	if resp, err := client.UpdateConsumerOffset(reset); err != nil || !resp.Success {
		fail(fmt.Errorf("UpdateConsumerOffset: %v %+v", err, resp))
	}
	progress := alikafka.CreateGetConsumerProgressRequest()
	progress.InstanceId, progress.ConsumerId = "alikafka_pre-cn-local", "billing"
	p, err := client.GetConsumerProgress(progress)
	if err != nil {
		fail(err)
	}
	fmt.Printf("consumed %d; after the reset to earliest the group is %d behind\n", consumed, p.ConsumerProgress.TotalDiff)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kafka:", err, "(is amqpemu running with --kafka?)")
	os.Exit(1)
}
