package alikafka

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/openapi"
)

// CreateTopic: Topic, PartitionNum (default broker.DefaultPartitions),
// Remark. Replication, compaction and tags are accepted and ignored.
func (a *actions) createTopic(ctx context.Context, p *openapi.Params) (any, error) {
	name, err := p.Required("Topic")
	if err != nil {
		return nil, err
	}
	n := 0
	if s := p.Get("PartitionNum"); s != "" {
		if n, err = strconv.Atoi(s); err != nil || n < 1 || n > broker.MaxPartitions {
			return nil, fmt.Errorf("%w: PartitionNum %q: want 1 to %d", broker.ErrInvalidArgument, s, broker.MaxPartitions)
		}
	}
	if _, err := a.b.CreateTopic(ctx, name, n, p.Get("Remark")); err != nil {
		return nil, err
	}
	return success, nil
}

// page reads CurrentPage and PageSize (defaults 1 and 10000 for lists
// where the service pages, bounded to 10000).
func page(p *openapi.Params) (cur, size int, err error) {
	cur, size = 1, 10000
	if c, ok, err := p.Int("CurrentPage"); err != nil {
		return 0, 0, err
	} else if ok {
		cur = c
	}
	if s, ok, err := p.Int("PageSize"); err != nil {
		return 0, 0, err
	} else if ok {
		size = s
	}
	if cur < 1 || size < 1 || size > 10000 {
		return 0, 0, fmt.Errorf("%w: CurrentPage %d, PageSize %d (1 to 10000)", broker.ErrInvalidArgument, cur, size)
	}
	return cur, size, nil
}

func window[T any](items []T, cur, size int) []T {
	lo := min((cur-1)*size, len(items))
	return items[lo:min(lo+size, len(items))]
}

type topicVO struct {
	Topic        string `json:"Topic"`
	PartitionNum int    `json:"PartitionNum"`
	Remark       string `json:"Remark"`
	CreateTime   int64  `json:"CreateTime"`
	Status       int    `json:"Status"`
	StatusName   string `json:"StatusName"`
	InstanceID   string `json:"InstanceId"`
	RegionID     string `json:"RegionId"`
	AutoCreate   bool   `json:"AutoCreate"`
	CompactTopic bool   `json:"CompactTopic"`
	LocalTopic   bool   `json:"LocalTopic"`
}

// GetTopicList: every topic (Topic, if given, filters by substring),
// paged by CurrentPage and PageSize.
func (a *actions) getTopicList(ctx context.Context, p *openapi.Params) (any, error) {
	cur, size, err := page(p)
	if err != nil {
		return nil, err
	}
	all, err := a.b.Topics(ctx)
	if err != nil {
		return nil, err
	}
	var vos []topicVO
	for _, t := range all {
		if f := p.Get("Topic"); f != "" && !strings.Contains(t.Name, f) {
			continue
		}
		vos = append(vos, topicVO{Topic: t.Name, PartitionNum: t.Partitions, Remark: t.Remark, CreateTime: t.CreatedAt.UnixMilli(),
			Status: 0, StatusName: "服务中", InstanceID: p.Get("InstanceId"), RegionID: p.Get("RegionId"), AutoCreate: t.Auto})
	}
	type list struct {
		TopicVO []topicVO `json:"TopicVO"`
	}
	return struct {
		ok
		CurrentPage int  `json:"CurrentPage"`
		PageSize    int  `json:"PageSize"`
		Total       int  `json:"Total"`
		TopicList   list `json:"TopicList"`
	}{success, cur, size, len(vos), list{window(vos, cur, size)}}, nil
}

// CreateConsumerGroup: ConsumerId, Remark.
func (a *actions) createConsumerGroup(ctx context.Context, p *openapi.Params) (any, error) {
	name, err := p.Required("ConsumerId")
	if err != nil {
		return nil, err
	}
	if _, err := a.b.CreateKafkaGroup(ctx, name, p.Get("Remark")); err != nil {
		return nil, err
	}
	return success, nil
}

type consumerVO struct {
	ConsumerID                string `json:"ConsumerId"`
	InstanceID                string `json:"InstanceId"`
	Remark                    string `json:"Remark"`
	RegionID                  string `json:"RegionId"`
	AutomaticallyCreatedGroup bool   `json:"AutomaticallyCreatedGroup"`
}

// GetConsumerList: every group (ConsumerId, if given, selects one), paged.
func (a *actions) getConsumerList(ctx context.Context, p *openapi.Params) (any, error) {
	cur, size, err := page(p)
	if err != nil {
		return nil, err
	}
	all, err := a.b.KafkaGroups(ctx)
	if err != nil {
		return nil, err
	}
	var vos []consumerVO
	for _, g := range all {
		if id := p.Get("ConsumerId"); id != "" && g.Name != id {
			continue
		}
		vos = append(vos, consumerVO{ConsumerID: g.Name, InstanceID: p.Get("InstanceId"), Remark: g.Remark,
			RegionID: p.Get("RegionId"), AutomaticallyCreatedGroup: g.Auto})
	}
	type list struct {
		ConsumerVO []consumerVO `json:"ConsumerVO"`
	}
	return struct {
		ok
		CurrentPage  int  `json:"CurrentPage"`
		PageSize     int  `json:"PageSize"`
		Total        int  `json:"Total"`
		ConsumerList list `json:"ConsumerList"`
	}{success, cur, size, len(vos), list{window(vos, cur, size)}}, nil
}

// DeleteConsumerGroup: ConsumerId; its committed offsets go with it.
func (a *actions) deleteConsumerGroup(ctx context.Context, p *openapi.Params) (any, error) {
	name, err := p.Required("ConsumerId")
	if err != nil {
		return nil, err
	}
	if a.active(name) > 0 {
		return nil, fmt.Errorf("%w (%d members)", errGroupActive, a.active(name))
	}
	if err := a.b.DeleteKafkaGroup(ctx, name); err != nil {
		return nil, err
	}
	return success, nil
}

type offsetItem struct {
	Partition      int32 `json:"Partition"`
	BrokerOffset   int64 `json:"BrokerOffset"`
	ConsumerOffset int64 `json:"ConsumerOffset"`
	LastTimestamp  int64 `json:"LastTimestamp"`
}

type topicProgress struct {
	Topic         string `json:"Topic"`
	TotalDiff     int64  `json:"TotalDiff"`
	LastTimestamp int64  `json:"LastTimestamp"`
	OffsetList    struct {
		OffsetList []offsetItem `json:"OffsetList"`
	} `json:"OffsetList"`
}

// GetConsumerProgress: ConsumerId → per topic the group committed offsets
// in, per partition its BrokerOffset (just past the partition's last
// record), ConsumerOffset (the committed offset, -1 for none) and the
// records between (TotalDiff). Offsets are stream sequences, so
// BrokerOffset − ConsumerOffset is not the lag: TotalDiff is.
func (a *actions) getConsumerProgress(ctx context.Context, p *openapi.Params) (any, error) {
	name, err := p.Required("ConsumerId")
	if err != nil {
		return nil, err
	}
	if _, err := a.b.KafkaGroup(ctx, name); err != nil {
		return nil, err
	}
	offs, err := a.b.CommittedOffsets(ctx, name)
	if err != nil {
		return nil, err
	}
	byTopic := map[string]map[int32]int64{}
	var order []string
	for _, o := range offs {
		if byTopic[o.Topic] == nil {
			byTopic[o.Topic] = map[int32]int64{}
			order = append(order, o.Topic)
		}
		byTopic[o.Topic][o.Partition] = o.Offset
	}
	var total, last int64
	var topics []topicProgress
	for _, name := range order {
		prog, err := a.b.Progress(ctx, name, byTopic[name])
		if err != nil {
			continue // a topic gone since
		}
		tp := topicProgress{Topic: name}
		for part := int32(0); part < int32(len(prog)); part++ {
			pp := prog[part]
			co, ok := byTopic[name][part]
			if !ok {
				co = -1
			}
			item := offsetItem{Partition: part, BrokerOffset: pp.End, ConsumerOffset: co, LastTimestamp: millis(pp.LastTime)}
			tp.OffsetList.OffsetList = append(tp.OffsetList.OffsetList, item)
			tp.TotalDiff += pp.Lag
			tp.LastTimestamp = max(tp.LastTimestamp, item.LastTimestamp)
		}
		total += tp.TotalDiff
		last = max(last, tp.LastTimestamp)
		topics = append(topics, tp)
	}
	type topicList struct {
		TopicList []topicProgress `json:"TopicList"`
	}
	type rebalance struct {
		RebalanceInfoList []struct{} `json:"RebalanceInfoList"`
	}
	type progress struct {
		TotalDiff         int64     `json:"TotalDiff"`
		LastTimestamp     int64     `json:"LastTimestamp"`
		TopicList         topicList `json:"TopicList"`
		RebalanceInfoList rebalance `json:"RebalanceInfoList"`
	}
	return struct {
		ok
		ConsumerProgress progress `json:"ConsumerProgress"`
	}{success, progress{TotalDiff: total, LastTimestamp: last, TopicList: topicList{topics}, RebalanceInfoList: rebalance{[]struct{}{}}}}, nil
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return -1
	}
	return t.UnixMilli()
}

// UpdateConsumerOffset: ConsumerId, Topic ("" or absent: every topic the
// group has offsets in), ResetType timestamp (default: Time is epoch ms,
// -1 latest, -2 earliest) or offset (Offsets for one Topic). Refused
// while the group has active members, as the service does.
func (a *actions) updateConsumerOffset(ctx context.Context, p *openapi.Params) (any, error) {
	name, err := p.Required("ConsumerId")
	if err != nil {
		return nil, err
	}
	if err := broker.CheckKafkaName("ConsumerId", name); err != nil {
		return nil, err
	}
	r := broker.OffsetReset{Topic: p.Get("Topic")}
	switch rt := strings.ToLower(p.Get("ResetType")); rt {
	case "", "timestamp":
		s, err := p.Required("Time")
		if err != nil {
			return nil, openapi.MissingBecause("Time", "ResetType is timestamp")
		}
		ms, err := strconv.ParseInt(s, 10, 64)
		switch {
		case err != nil || ms < -2:
			return nil, fmt.Errorf("%w: Time %q: epoch milliseconds, -1 (latest) or -2 (earliest)", broker.ErrInvalidArgument, s)
		case ms == -1:
			r.Latest = true
		case ms == -2:
			r.Earliest = true
		default:
			r.Time = time.UnixMilli(ms)
		}
	case "offset":
		if r.Topic == "" {
			return nil, openapi.MissingBecause("Topic", "ResetType is offset")
		}
		if r.Offsets, err = parseOffsets(p.Get("Offsets")); err != nil {
			return nil, err
		}
		if len(r.Offsets) == 0 {
			return nil, openapi.MissingBecause("Offsets", "ResetType is offset")
		}
	default:
		return nil, fmt.Errorf("%w: ResetType %q: timestamp or offset", broker.ErrInvalidArgument, rt)
	}
	if n := a.active(name); n > 0 {
		return nil, fmt.Errorf("%w (%d members)", errGroupActive, n)
	}
	if err := a.b.ResetKafkaGroup(ctx, name, r); err != nil {
		return nil, err
	}
	return success, nil
}
