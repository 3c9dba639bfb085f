package iot

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/openapi"
)

// flags are the subscription's boolean parameters and the message kinds
// they select.
var flags = []struct{ param, kind string }{
	{"DeviceDataFlag", broker.KindData},
	{"DeviceStatusChangeFlag", broker.KindStatus},
	{"DeviceLifeCycleFlag", broker.KindLifecycle},
	{"DeviceTopoLifeCycleFlag", broker.KindTopo},
	{"FoundDeviceListFlag", broker.KindFound},
	{"OtaEventFlag", broker.KindOTA},
	{"ThingHistoryFlag", broker.KindHistory},
	{"DeviceTagFlag", broker.KindTag},
	{"OtaVersionFlag", broker.KindOTAVer},
	{"OtaJobFlag", broker.KindOTAJob},
}

func flagNames() string {
	names := make([]string, len(flags))
	for i, f := range flags {
		names[i] = f.param
	}
	return strings.Join(names, ", ")
}

// subscriptionType reads Type: AMQP is what amqpemu emulates, MNS is
// refused with errMNS.
func subscriptionType(p *openapi.Params) error {
	t, err := p.Required("Type")
	if err != nil {
		return err
	}
	switch strings.ToUpper(t) {
	case "AMQP":
		return nil
	case "MNS":
		return fmt.Errorf("%w: amqpemu emulates AMQP server-side subscriptions only; use Type AMQP with ConsumerGroupIds", errMNS)
	}
	return openapi.Invalid("Type", t, "it must be AMQP or MNS")
}

// productAndType reads the ProductKey and Type every relation call has.
func productAndType(p *openapi.Params) (string, error) {
	pk, err := p.Required("ProductKey")
	if err != nil {
		return "", err
	}
	return pk, subscriptionType(p)
}

// readRelation reads the subscription a Create or Update call describes.
func readRelation(p *openapi.Params) (string, broker.Subscription, error) {
	var s broker.Subscription
	pk, err := productAndType(p)
	if err != nil {
		return "", s, err
	}
	for _, f := range flags {
		on, err := p.Bool(f.param)
		if err != nil {
			return "", s, err
		}
		if on {
			s.Kinds = append(s.Kinds, f.kind)
		}
	}
	if raw := p.Get("SubscribeFlags"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &s.Flags); err != nil {
			return "", s, openapi.Invalid("SubscribeFlags", raw, `it must be a JSON object of booleans such as {"jt808DeviceDataFlag":true}`)
		}
	}
	if s.Groups, err = p.List("ConsumerGroupIds"); err != nil {
		return "", s, err
	}
	if len(s.Groups) == 0 {
		return "", s, openapi.MissingBecause("ConsumerGroupIds", "when Type is AMQP (send ConsumerGroupIds.1, ConsumerGroupIds.2, …)")
	}
	if len(s.Kinds) == 0 {
		return "", s, fmt.Errorf("%w: set at least one of %s to true (SubscribeFlags alone selects no message of amqpemu's)", errNoKinds, flagNames())
	}
	return pk, s, nil
}

// current is the product's subscription, refusing a product without one.
func (a *actions) current(ctx context.Context, pk string) (broker.Subscription, error) {
	s, err := a.b.Subscription(ctx, pk)
	if err != nil {
		return s, err
	}
	if len(s.Kinds) == 0 { // a stored subscription always has a kind
		return s, fmt.Errorf("%w: product %q has no AMQP subscription; create it with CreateSubscribeRelation", errRelationNotFound, pk)
	}
	return s, nil
}

func (a *actions) createSubscribeRelation(ctx context.Context, p *openapi.Params) (any, error) {
	pk, s, err := readRelation(p)
	if err != nil {
		return nil, err
	}
	old, err := a.b.Subscription(ctx, pk)
	if err != nil {
		return nil, err
	}
	if len(old.Kinds) > 0 {
		return nil, fmt.Errorf("%w: product %q has an AMQP subscription already; change it with UpdateSubscribeRelation", errRelationExists, pk)
	}
	return nil, a.b.SetSubscription(ctx, pk, s)
}

// UpdateSubscribeRelation replaces the subscription: a flag not sent is
// false, as in CreateSubscribeRelation.
func (a *actions) updateSubscribeRelation(ctx context.Context, p *openapi.Params) (any, error) {
	pk, s, err := readRelation(p)
	if err != nil {
		return nil, err
	}
	if _, err := a.current(ctx, pk); err != nil {
		return nil, err
	}
	return nil, a.b.SetSubscription(ctx, pk, s)
}

func (a *actions) querySubscribeRelation(ctx context.Context, p *openapi.Params) (any, error) {
	pk, err := productAndType(p)
	if err != nil {
		return nil, err
	}
	s, err := a.current(ctx, pk)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"ProductKey":       pk,
		"Type":             "AMQP",
		"ConsumerGroupIds": s.Groups,
		"MnsConfiguration": "",
		"SubscribeFlags":   "",
	}
	if s.Groups == nil {
		out["ConsumerGroupIds"] = []string{}
	}
	for _, f := range flags {
		out[f.param] = slices.Contains(s.Kinds, f.kind)
	}
	if len(s.Flags) > 0 {
		data, err := json.Marshal(s.Flags)
		if err != nil {
			return nil, err
		}
		out["SubscribeFlags"] = string(data)
	}
	return out, nil
}

func (a *actions) deleteSubscribeRelation(ctx context.Context, p *openapi.Params) (any, error) {
	pk, err := productAndType(p)
	if err != nil {
		return nil, err
	}
	if _, err := a.current(ctx, pk); err != nil {
		return nil, err
	}
	return nil, a.b.DeleteSubscription(ctx, pk)
}

// groupAndProduct reads ConsumerGroupId and ProductKey, resolving the
// group and the product's subscription.
func (a *actions) groupAndProduct(ctx context.Context, p *openapi.Params) (broker.Group, string, broker.Subscription, error) {
	ref, err := p.Required("ConsumerGroupId")
	if err != nil {
		return broker.Group{}, "", broker.Subscription{}, err
	}
	pk, err := p.Required("ProductKey")
	if err != nil {
		return broker.Group{}, "", broker.Subscription{}, err
	}
	s, err := a.current(ctx, pk)
	if err != nil {
		return broker.Group{}, "", broker.Subscription{}, err
	}
	g, err := a.b.Group(ctx, ref)
	return g, pk, s, err
}

// CreateConsumerGroupSubscribeRelation adds a group to a product's
// subscription; a group already in it stays.
func (a *actions) createConsumerGroupSubscribeRelation(ctx context.Context, p *openapi.Params) (any, error) {
	g, pk, s, err := a.groupAndProduct(ctx, p)
	if err != nil {
		return nil, err
	}
	if slices.Contains(s.Groups, g.ID) {
		return nil, nil
	}
	s.Groups = append(s.Groups, g.ID)
	return nil, a.b.SetSubscription(ctx, pk, s)
}

// DeleteConsumerGroupSubscribeRelation removes a group from a product's
// subscription, refusing to remove its only group.
func (a *actions) deleteConsumerGroupSubscribeRelation(ctx context.Context, p *openapi.Params) (any, error) {
	g, pk, s, err := a.groupAndProduct(ctx, p)
	if err != nil {
		return nil, err
	}
	i := slices.Index(s.Groups, g.ID)
	switch {
	case i < 0:
		return nil, fmt.Errorf("%w: group %s is not in the subscription of product %q", errNotSubscribed, g.ID, pk)
	case len(s.Groups) == 1:
		return nil, fmt.Errorf("%w: group %s is the only consumer group of product %q's subscription; delete the subscription with DeleteSubscribeRelation instead", errOnlyGroup, g.ID, pk)
	}
	s.Groups = slices.Delete(s.Groups, i, i+1)
	return nil, a.b.SetSubscription(ctx, pk, s)
}
