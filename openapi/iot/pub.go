package iot

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/openapi"
)

// maxPubSize is the platform's limit of a Pub message.
const maxPubSize = 256 << 10

// Pub sends a message to a device: ProductKey, TopicFullName
// (/{ProductKey}/{DeviceName}/…, the device being named by the topic as on
// the platform), MessageContent (base64) and Qos 0 or 1. The MQTT 5
// parameters (ContentType, CorrelationData, ResponseTopic, TopicAlias,
// MessageExpiryInterval, PayloadFormatIndicator, UserProp.N.Key/Value),
// Retained and DeviceName are checked for their type and otherwise ignored.
func (a *actions) pub(ctx context.Context, p *openapi.Params) (any, error) {
	pk, err := p.Required("ProductKey")
	if err != nil {
		return nil, err
	}
	topic, err := p.Required("TopicFullName")
	if err != nil {
		return nil, err
	}
	content, err := p.Required("MessageContent")
	if err != nil {
		return nil, err
	}
	payload, derr := base64.StdEncoding.DecodeString(content)
	if derr != nil {
		return nil, openapi.Invalid("MessageContent", content, "it must be the message encoded in base64")
	}
	qos, _, err := p.Int("Qos")
	if err != nil {
		return nil, err
	}
	if qos != 0 && qos != 1 {
		return nil, openapi.Invalid("Qos", p.Get("Qos"), "it must be 0 or 1")
	}
	if err := checkOptional(p); err != nil {
		return nil, err
	}
	dn, err := deviceOf(pk, topic)
	if err != nil {
		return nil, err
	}
	if len(payload) > maxPubSize {
		return nil, fmt.Errorf("%w: the message is %d bytes; Pub takes at most %d", broker.ErrMessageTooLarge, len(payload), maxPubSize)
	}
	id, err := a.d.Send(ctx, pk, dn, topic, payload, qos)
	if err != nil {
		return nil, err
	}
	return struct {
		MessageID string `json:"MessageId"`
	}{id}, nil
}

// checkOptional checks the types of Pub's optional parameters.
func checkOptional(p *openapi.Params) error {
	for _, name := range []string{"MessageExpiryInterval", "TopicAlias"} {
		if _, _, err := p.Int(name); err != nil {
			return err
		}
	}
	if n, ok, err := p.Int("PayloadFormatIndicator"); err != nil {
		return err
	} else if ok && n != 0 && n != 1 {
		return openapi.Invalid("PayloadFormatIndicator", p.Get("PayloadFormatIndicator"), "it must be 0 or 1")
	}
	_, err := p.Bool("Retained")
	return err
}

// deviceOf is the device a topic of product pk names: /{pk}/{dn}/….
func deviceOf(pk, topic string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w: topic %q %s; Pub takes a topic /%s/{DeviceName}/… of the device", errInvalidTopic, topic, why, pk)
	}
	if !utf8.ValidString(topic) || strings.ContainsAny(topic, "+# \t\r\n\x00") {
		return bad("has a wildcard, whitespace or invalid UTF-8")
	}
	rest, ok := strings.CutPrefix(topic, "/"+pk+"/")
	if !ok {
		return bad("is not a topic of product " + fmt.Sprintf("%q", pk))
	}
	dn, tail, _ := strings.Cut(rest, "/")
	if dn == "" || tail == "" {
		return bad("names no device, or nothing after the device")
	}
	return dn, nil
}
