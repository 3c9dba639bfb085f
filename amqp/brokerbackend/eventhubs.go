package brokerbackend

import (
	"fmt"
	"strings"

	"github.com/amqpemu/amqpemu/amqp/frames"
	"github.com/amqpemu/amqpemu/broker"
)

// ehDefaultGroup is the consumer group every Event Hub has.
const ehDefaultGroup = "$Default"

// eventHubSource maps an Event Hubs receiver's source,
// "<hub>/ConsumerGroups/<group>/Partitions/<id>", to the consumer group it
// names ($Default is DEFAULT_GROUP; the hub name is free). Any other
// address is returned as it is, with eventHub false.
func eventHubSource(addr string) (group string, eventHub bool, err error) {
	parts := strings.Split(addr, "/")
	if len(parts) != 5 || !strings.EqualFold(parts[1], "ConsumerGroups") || !strings.EqualFold(parts[3], "Partitions") {
		return addr, false, nil
	}
	if parts[4] != ehPartition {
		return "", true, &frames.Error{Condition: frames.ErrCondNotFound,
			Description: fmt.Sprintf("partition %q of %q does not exist: the emulator's hubs have one partition, %q", parts[4], parts[0], ehPartition)}
	}
	group = parts[2]
	if strings.EqualFold(group, ehDefaultGroup) {
		group = broker.DefaultGroupID
	}
	return group, true, nil
}
