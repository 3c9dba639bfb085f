package kafka

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/amqpemu/amqpemu/broker"
)

const apiVersionsKey = int16(kmsg.ApiVersions)

// versions is a range of versions of one API.
type versions struct{ min, max int16 }

// supported are the APIs answered and their versions: up to where Kafka
// moved to topic ids (Produce v13, Fetch v13) or batched group requests the
// clients do not need (OffsetFetch v8), and without KIP-848's consumer
// group heartbeat, so clients use the classic group protocol. franz-go
// v1.22, sarama v1.61 and librdkafka 1.x/2.x negotiate within these.
var supported = map[int16]versions{
	int16(kmsg.Produce):         {3, 11},
	int16(kmsg.Fetch):           {4, 12},
	int16(kmsg.ListOffsets):     {1, 7},
	int16(kmsg.Metadata):        {0, 12},
	int16(kmsg.OffsetCommit):    {0, 8},
	int16(kmsg.OffsetFetch):     {0, 7},
	int16(kmsg.FindCoordinator): {0, 4},
	int16(kmsg.JoinGroup):       {0, 9},
	int16(kmsg.Heartbeat):       {0, 4},
	int16(kmsg.LeaveGroup):      {0, 5},
	int16(kmsg.SyncGroup):       {0, 5},
	int16(kmsg.DescribeGroups):  {0, 5},
	int16(kmsg.ListGroups):      {0, 4},
	int16(kmsg.ApiVersions):     {0, 3},
	int16(kmsg.InitProducerID):  {0, 4},
}

func apiKeys() []kmsg.ApiVersionsResponseApiKey {
	var out []kmsg.ApiVersionsResponseApiKey
	for k := int16(0); k < 100; k++ {
		if v, ok := supported[k]; ok {
			out = append(out, kmsg.ApiVersionsResponseApiKey{ApiKey: k, MinVersion: v.min, MaxVersion: v.max})
		}
	}
	return out
}

func (c *conn) apiVersions(r *kmsg.ApiVersionsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.ApiVersionsResponse)
	resp.ApiKeys = apiKeys()
	return resp
}

// apiVersionsUnsupported answers an ApiVersions request of a version the
// server does not know, in v0, so that the client retries with one it does.
func apiVersionsUnsupported() kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = apiKeys()
	return resp
}

// self is the broker's host and port: as configured, or as the client
// reached it.
func (c *conn) self() (string, int32) {
	addr := c.s.cfg.Advertised
	if addr == "" {
		addr = c.nc.LocalAddr().String()
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	return host, int32(p)
}

const nodeID = 0

var clusterID = "amqpemu"

func (c *conn) metadata(ctx context.Context, r *kmsg.MetadataRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.MetadataResponse)
	host, port := c.self()
	resp.Brokers = []kmsg.MetadataResponseBroker{{NodeID: nodeID, Host: host, Port: port}}
	resp.ClusterID = &clusterID
	resp.ControllerID = nodeID
	var topics []broker.KafkaTopic
	if r.Topics == nil || (r.Version == 0 && len(r.Topics) == 0) {
		all, err := c.s.b.Topics(ctx)
		if err != nil {
			c.log.Warn().Err(err).Msg("kafka metadata: listing topics")
		}
		topics = all
	} else {
		for _, rt := range r.Topics {
			if rt.Topic == nil {
				continue
			}
			// Every valid name is a topic: product topics (and others, as
			// with auto.create.topics.enable) are made on first use.
			t, err := c.s.b.EnsureTopic(ctx, *rt.Topic)
			if err != nil {
				name := *rt.Topic
				mt := kmsg.NewMetadataResponseTopic()
				mt.Topic, mt.ErrorCode = &name, codeOf(err)
				resp.Topics = append(resp.Topics, mt)
				continue
			}
			topics = append(topics, t)
		}
	}
	for _, t := range topics {
		name := t.Name
		mt := kmsg.NewMetadataResponseTopic()
		mt.Topic = &name
		mt.TopicID = topicID(name)
		for p := range int32(t.Partitions) {
			mp := kmsg.NewMetadataResponseTopicPartition()
			mp.Partition, mp.Leader, mp.LeaderEpoch = p, nodeID, 0
			mp.Replicas, mp.ISR = []int32{nodeID}, []int32{nodeID}
			mt.Partitions = append(mt.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, mt)
	}
	return resp
}

// topicID is a stable non-zero id for a topic name.
func topicID(name string) [16]byte {
	var id [16]byte
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	for i := range 8 {
		id[i] = byte(h >> (8 * i))
		id[8+i] = byte(h>>(8*i)) ^ 0x5a
	}
	return id
}

func (c *conn) produce(ctx context.Context, r *kmsg.ProduceRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.ProduceResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LogAppendTime = -1
			base, err := c.produceOne(ctx, rt.Topic, rp)
			sp.BaseOffset, sp.ErrorCode = base, codeOf(err)
			if err != nil {
				msg := err.Error()
				sp.ErrorMessage = &msg
				c.log.Debug().Err(err).Str("topic", rt.Topic).Int32("partition", rp.Partition).Msg("kafka produce refused")
			}
			if bd, err := c.s.b.Bounds(ctx); err == nil {
				sp.LogStartOffset = bd.Start
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if r.Acks == 0 {
		return nil
	}
	return resp
}

func (c *conn) produceOne(ctx context.Context, topic string, rp kmsg.ProduceRequestTopicPartition) (int64, error) {
	batches, err := decodeBatches(rp.Records, c.s.cfg.MaxRequestSize)
	if err != nil {
		return -1, err
	}
	base := int64(-1)
	for _, b := range batches {
		key := seqKey{b.producerID, topic, rp.Partition}
		if b.producerID >= 0 && b.baseSequence >= 0 {
			if off, dup := c.s.producers.duplicate(key, b.baseSequence); dup {
				if base < 0 {
					base = off
				}
				continue
			}
		}
		off, err := c.s.b.Produce(ctx, topic, rp.Partition, b.records)
		if err != nil {
			return -1, err
		}
		if b.producerID >= 0 && b.baseSequence >= 0 {
			c.s.producers.record(key, b.baseSequence, off)
		}
		if base < 0 {
			base = off
		}
	}
	return base, nil
}

// seqKey identifies an idempotent producer's partition.
type seqKey struct {
	producer  int64
	topic     string
	partition int32
}

// producers remembers each idempotent producer's last batch per partition,
// so that a batch sent again (a retry after a lost answer) is not stored
// twice.
type producers struct {
	mu   sync.Mutex
	next int64
	last map[seqKey][2]int64 // base sequence, base offset
}

func (p *producers) duplicate(k seqKey, seq int32) (int64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.last[k]
	return l[1], ok && int64(seq) == l[0]
}

func (p *producers) record(k seqKey, seq int32, off int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil || len(p.last) > 100000 {
		p.last = map[seqKey][2]int64{}
	}
	p.last[k] = [2]int64{int64(seq), off}
}

func (p *producers) newID() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next == 0 {
		p.next = time.Now().UnixMilli() // ids differ across restarts
	}
	p.next++
	return p.next
}

func (c *conn) initProducerID(r *kmsg.InitProducerIDRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
	if r.TransactionalID != nil {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code // transactions are not emulated
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = c.s.producers.newID(), 0
	return resp
}

func (c *conn) fetch(ctx context.Context, r *kmsg.FetchRequest) kmsg.Response {
	wait := min(time.Duration(r.MaxWaitMillis)*time.Millisecond, c.s.cfg.MaxWait)
	deadline := time.Now().Add(wait)
	for {
		// Watch before reading, so that nothing stored in between is missed.
		arrived, stop := c.watch(r)
		resp, size := c.fetchOnce(ctx, r)
		if size > 0 || size >= int(r.MinBytes) || wait <= 0 {
			stop()
			return resp
		}
		left := time.Until(deadline)
		if left <= 0 {
			stop()
			return resp
		}
		t := time.NewTimer(left)
		select {
		case <-arrived:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		stop()
		if ctx.Err() != nil || time.Now().After(deadline) {
			resp, _ = c.fetchOnce(ctx, r)
			return resp
		}
	}
}

// watch is told when anything of the fetched topics is stored.
func (c *conn) watch(r *kmsg.FetchRequest) (<-chan struct{}, func()) {
	topics := make([]string, 0, len(r.Topics))
	for _, t := range r.Topics {
		topics = append(topics, t.Topic)
	}
	ch, stop, err := c.s.b.NotifyTopics(topics...)
	if err != nil {
		return nil, func() {} // a nil channel: wait out the time
	}
	return ch, stop
}

// fetchOnce reads what each requested partition has now.
func (c *conn) fetchOnce(ctx context.Context, r *kmsg.FetchRequest) (*kmsg.FetchResponse, int) {
	resp := r.ResponseKind().(*kmsg.FetchResponse)
	size := 0
	budget := int(r.MaxBytes)
	if budget <= 0 {
		budget = 50 << 20
	}
	for _, rt := range r.Topics {
		st := kmsg.NewFetchResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.PreferredReadReplica = -1
			sp.RecordBatches = []byte{} // not null: librdkafka refuses a null record set
			maxBytes := int(rp.PartitionMaxBytes)
			if budget-size < maxBytes {
				maxBytes = max(budget-size, 1)
			}
			res, err := c.s.b.Read(ctx, broker.ReadRequest{Topic: rt.Topic, Partition: rp.Partition, Offset: rp.FetchOffset, MaxBytes: maxBytes})
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = res.Bounds.End, res.Bounds.End, res.Bounds.Start
			if err != nil {
				sp.ErrorCode = codeOf(err)
				if !errors.Is(err, broker.ErrOffsetOutOfRange) {
					c.log.Debug().Err(err).Str("topic", rt.Topic).Int32("partition", rp.Partition).Msg("kafka fetch")
				}
			} else if size < budget {
				sp.RecordBatches = appendBatch(sp.RecordBatches, res.Records)
				size += len(sp.RecordBatches)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, size
}

func (c *conn) listOffsets(ctx context.Context, r *kmsg.ListOffsetsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.ListOffsetsResponse)
	bd, bdErr := c.s.b.Bounds(ctx)
	for _, rt := range r.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		t, topicErr := c.s.b.Topic(ctx, rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition, sp.Timestamp, sp.LeaderEpoch = rp.Partition, -1, 0
			err := cmpErr(bdErr, topicErr)
			if err == nil && (rp.Partition < 0 || int(rp.Partition) >= t.Partitions) {
				err = broker.ErrPartitionNotFound
			}
			if err == nil {
				switch rp.Timestamp {
				case -1: // latest
					sp.Offset = bd.End
				case -2: // earliest
					sp.Offset = bd.Start
				default:
					if rp.Timestamp < 0 {
						sp.Offset = bd.End // max timestamp and the like: the end
						break
					}
					sp.Offset, err = c.s.b.OffsetForTime(ctx, time.UnixMilli(rp.Timestamp))
					if err == nil && sp.Offset < bd.End {
						sp.Timestamp = rp.Timestamp
					} else if err == nil {
						sp.Offset = -1 // no record that recent, as Kafka answers
					}
				}
			}
			sp.ErrorCode = codeOf(err)
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func cmpErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (c *conn) findCoordinator(r *kmsg.FindCoordinatorRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.FindCoordinatorResponse)
	host, port := c.self()
	resp.NodeID, resp.Host, resp.Port = nodeID, host, port
	for _, k := range r.CoordinatorKeys {
		co := kmsg.NewFindCoordinatorResponseCoordinator()
		co.Key, co.NodeID, co.Host, co.Port = k, nodeID, host, port
		if r.CoordinatorType != 0 {
			co.ErrorCode = kerr.CoordinatorNotAvailable.Code // no transactions
		}
		resp.Coordinators = append(resp.Coordinators, co)
	}
	if r.CoordinatorType != 0 {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
	}
	return resp
}

func (c *conn) offsetCommit(ctx context.Context, r *kmsg.OffsetCommitRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
	code := c.s.groups.checkCommit(r.Group, r.MemberID, r.Generation)
	var offs []broker.CommittedOffset
	if code == 0 {
		for _, rt := range r.Topics {
			for _, rp := range rt.Partitions {
				o := broker.CommittedOffset{Topic: rt.Topic, Partition: rp.Partition, Offset: rp.Offset}
				if rp.Metadata != nil {
					o.Metadata = *rp.Metadata
				}
				offs = append(offs, o)
			}
		}
		if err := c.s.b.CommitOffsets(ctx, r.Group, offs); err != nil {
			c.log.Warn().Err(err).Str("group", r.Group).Msg("kafka offset commit")
			code = codeOf(err)
			if errors.Is(err, broker.ErrInvalidName) {
				code = kerr.InvalidGroupID.Code
			}
		}
	}
	for _, rt := range r.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition, sp.ErrorCode = rp.Partition, code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (c *conn) offsetFetch(ctx context.Context, r *kmsg.OffsetFetchRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
	offs, err := c.s.b.CommittedOffsets(ctx, r.Group)
	if err != nil {
		resp.ErrorCode = codeOf(err)
		if errors.Is(err, broker.ErrInvalidName) {
			resp.ErrorCode = kerr.InvalidGroupID.Code
		}
		return resp
	}
	have := map[string]map[int32]broker.CommittedOffset{}
	var order []string
	for _, o := range offs {
		if have[o.Topic] == nil {
			have[o.Topic] = map[int32]broker.CommittedOffset{}
			order = append(order, o.Topic)
		}
		have[o.Topic][o.Partition] = o
	}
	answer := func(topic string, p int32) kmsg.OffsetFetchResponseTopicPartition {
		sp := kmsg.NewOffsetFetchResponseTopicPartition()
		sp.Partition, sp.Offset, sp.LeaderEpoch = p, -1, -1
		if o, ok := have[topic][p]; ok {
			md := o.Metadata
			sp.Offset, sp.Metadata = o.Offset, &md
		}
		return sp
	}
	if r.Topics == nil { // every topic with offsets
		for _, topic := range order {
			st := kmsg.NewOffsetFetchResponseTopic()
			st.Topic = topic
			for p := range have[topic] {
				st.Partitions = append(st.Partitions, answer(topic, p))
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	}
	for _, rt := range r.Topics {
		st := kmsg.NewOffsetFetchResponseTopic()
		st.Topic = rt.Topic
		for _, p := range rt.Partitions {
			st.Partitions = append(st.Partitions, answer(rt.Topic, p))
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
