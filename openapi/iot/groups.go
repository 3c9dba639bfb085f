package iot

import (
	"context"
	"fmt"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/openapi"
)

// groupDTO is a group as the platform describes it (ConsumerGroupDTO).
type groupDTO struct {
	GroupID    string `json:"GroupId"`
	GroupName  string `json:"GroupName"`
	CreateTime string `json:"CreateTime"`
}

func toDTO(g broker.Group) groupDTO {
	return groupDTO{GroupID: g.ID, GroupName: g.Name, CreateTime: platformTime(g.CreatedAt)}
}

// CreateConsumerGroup: GroupName → GroupId.
func (a *actions) createConsumerGroup(ctx context.Context, p *openapi.Params) (any, error) {
	name, err := p.Required("GroupName")
	if err != nil {
		return nil, err
	}
	g, err := a.b.CreateGroup(ctx, name)
	if err != nil {
		return nil, err
	}
	return struct {
		GroupID string `json:"GroupId"`
	}{g.ID}, nil
}

// UpdateConsumerGroup: GroupId, NewGroupName.
func (a *actions) updateConsumerGroup(ctx context.Context, p *openapi.Params) (any, error) {
	ref, err := p.Required("GroupId")
	if err != nil {
		return nil, err
	}
	name, err := p.Required("NewGroupName")
	if err != nil {
		return nil, err
	}
	_, err = a.b.RenameGroup(ctx, ref, name)
	return nil, err
}

// DeleteConsumerGroup: GroupId; DEFAULT_GROUP and groups still subscribed
// to a product are refused by the broker.
func (a *actions) deleteConsumerGroup(ctx context.Context, p *openapi.Params) (any, error) {
	ref, err := p.Required("GroupId")
	if err != nil {
		return nil, err
	}
	return nil, a.b.DeleteGroup(ctx, ref)
}

// QueryConsumerGroupList: CurrentPage (required), PageSize (1–1000), and
// Fuzzy with GroupName to search names. As documented, GroupName is a
// fuzzy search and without Fuzzy every group is listed.
func (a *actions) queryConsumerGroupList(ctx context.Context, p *openapi.Params) (any, error) {
	if _, err := p.Required("CurrentPage"); err != nil {
		return nil, err
	}
	page, _, err := p.Int("CurrentPage")
	if err != nil {
		return nil, err
	}
	size, sized, err := p.Int("PageSize")
	if err != nil {
		return nil, err
	}
	fuzzy, err := p.Bool("Fuzzy")
	if err != nil {
		return nil, err
	}
	q := broker.GroupQuery{Page: page, PageSize: size}
	if fuzzy {
		if q.Name, err = p.Required("GroupName"); err != nil {
			return nil, openapi.MissingBecause("GroupName", "when Fuzzy is true")
		}
		q.Fuzzy = true
	}
	// The broker reads 0 as "the default"; the platform's range starts at 1.
	if page < 1 || sized && size < 1 {
		return nil, fmt.Errorf("%w: CurrentPage %d, PageSize %d; CurrentPage counts from 1 and PageSize is 1 to %d", broker.ErrInvalidPage, page, size, broker.MaxPageSize)
	}
	res, err := a.b.ListGroups(ctx, q)
	if err != nil {
		return nil, err
	}
	out := struct {
		CurrentPage int
		PageSize    int
		PageCount   int
		Total       int
		Data        struct {
			ConsumerGroupDTO []groupDTO
		}
	}{CurrentPage: res.Page, PageSize: res.PageSize, PageCount: res.PageCount, Total: res.Total}
	out.Data.ConsumerGroupDTO = make([]groupDTO, len(res.Groups))
	for i, g := range res.Groups {
		out.Data.ConsumerGroupDTO[i] = toDTO(g)
	}
	return out, nil
}

// QueryConsumerGroupByGroupId: GroupId → Data.
func (a *actions) queryConsumerGroupByGroupID(ctx context.Context, p *openapi.Params) (any, error) {
	ref, err := p.Required("GroupId")
	if err != nil {
		return nil, err
	}
	g, err := a.b.Group(ctx, ref)
	if err != nil {
		return nil, err
	}
	return struct{ Data groupDTO }{toDTO(g)}, nil
}

// clientInfo is one online client (ConsumerGroupClientConnectionInfo).
type clientInfo struct {
	ClientID                         string `json:"ClientId"`
	ClientIPPort                     string `json:"ClientIpPort"`
	OnlineTime                       int64  // when it came online, ms since 1970
	RealTimeConsumeCountPerMinute    int
	AccumulatedConsumeCountPerMinute int
}

// QueryConsumerGroupStatus: the group's backlog, consumption rates and
// online clients. Real-time consumption is of messages delivered soon after
// they arrived, accumulated consumption that of the backlog; ConsumerSpeed
// is both.
func (a *actions) queryConsumerGroupStatus(ctx context.Context, p *openapi.Params) (any, error) {
	ref, err := p.Required("GroupId")
	if err != nil {
		return nil, err
	}
	g, err := a.b.Group(ctx, ref)
	if err != nil {
		return nil, err
	}
	st, err := a.b.GroupStats(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	out := struct {
		ConsumerSpeed                    int
		RealTimeConsumeCountPerMinute    int
		AccumulatedConsumeCountPerMinute int
		AccumulationCount                int
		LastConsumerTime                 string
		ClientConnectionStatusList       struct {
			ConsumerGroupClientConnectionInfo []clientInfo
		}
	}{
		ConsumerSpeed:                    st.RealtimeRate + st.BacklogRate,
		RealTimeConsumeCountPerMinute:    st.RealtimeRate,
		AccumulatedConsumeCountPerMinute: st.BacklogRate,
		AccumulationCount:                st.Accumulation,
		LastConsumerTime:                 platformTime(st.LastConsumedAt),
	}
	clients := make([]clientInfo, len(st.Clients))
	for i, c := range st.Clients {
		clients[i] = clientInfo{
			ClientID: c.ClientID, ClientIPPort: c.Address,
			RealTimeConsumeCountPerMinute: c.RealtimeRate, AccumulatedConsumeCountPerMinute: c.BacklogRate,
		}
		if !c.OnlineSince.IsZero() {
			clients[i].OnlineTime = c.OnlineSince.UnixMilli()
		}
	}
	out.ClientConnectionStatusList.ConsumerGroupClientConnectionInfo = clients
	return out, nil
}

// ResetConsumerGroupPosition: drop the group's backlog (the console's
// "clear accumulated messages").
func (a *actions) resetConsumerGroupPosition(ctx context.Context, p *openapi.Params) (any, error) {
	ref, err := p.Required("GroupId")
	if err != nil {
		return nil, err
	}
	return nil, a.b.Clear(ctx, ref)
}
