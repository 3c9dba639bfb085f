package mqtt

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Alink reply codes.
const (
	codeSuccess   = 200
	codeBadFormat = 6813 // "The format of result is error!"
)

var errAlinkFormat = errors.New("The format of result is error!")

// alinkRequest is a device's Alink request:
//
//	{"id":"123","version":"1.0","sys":{"ack":0},"params":{...},"method":"thing.event.property.post"}
type alinkRequest struct {
	ID      json.RawMessage `json:"id"`
	Version string          `json:"version"`
	Sys     *struct {
		Ack *int `json:"ack"`
	} `json:"sys"`
	Params json.RawMessage `json:"params"`
	Method string          `json:"method"`
}

// wantsReply reports whether the device asked for a reply (sys.ack is not 0).
func (r alinkRequest) wantsReply() bool {
	return r.Sys == nil || r.Sys.Ack == nil || *r.Sys.Ack != 0
}

// alinkReply is the platform's answer on the request topic + "_reply".
type alinkReply struct {
	Code    int             `json:"code"`
	Data    struct{}        `json:"data"`
	ID      json.RawMessage `json:"id"`
	Message string          `json:"message"`
	Method  string          `json:"method"`
	Version string          `json:"version"`
}

func replyTo(req alinkRequest, method string, err error) []byte {
	r := alinkReply{Code: codeSuccess, ID: req.ID, Message: "success", Method: method, Version: "1.0"}
	if len(r.ID) == 0 {
		r.ID = json.RawMessage(`""`)
	}
	if req.Method != "" {
		r.Method = req.Method
	}
	if err != nil {
		r.Code, r.Message = codeBadFormat, err.Error()
	}
	b, _ := json.Marshal(r)
	return b
}

// alinkItem is one property as forwarded.
type alinkItem struct {
	Value any   `json:"value"`
	Time  int64 `json:"time"`
}

// propertyPost is the body the consumer groups get for a property post.
type propertyPost struct {
	IotID      string               `json:"iotId"`
	ProductKey string               `json:"productKey"`
	DeviceName string               `json:"deviceName"`
	GmtCreate  int64                `json:"gmtCreate"`
	DeviceType string               `json:"deviceType"`
	Items      map[string]alinkItem `json:"items"`
}

// eventPost is the body the consumer groups get for an event.
type eventPost struct {
	Identifier string          `json:"identifier"`
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	IotID      string          `json:"iotId"`
	ProductKey string          `json:"productKey"`
	DeviceName string          `json:"deviceName"`
	GmtCreate  int64           `json:"gmtCreate"`
	Value      json.RawMessage `json:"value"`
	Time       int64           `json:"time"`
}

// thing is the device an Alink message is about.
type thing struct{ iotID, productKey, deviceName string }

func parseAlink(payload []byte) (alinkRequest, error) {
	var req alinkRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return req, fmt.Errorf("%w: %v", errAlinkFormat, err)
	}
	if len(req.Params) == 0 || req.Params[0] != '{' {
		return req, fmt.Errorf("%w: params must be an object", errAlinkFormat)
	}
	return req, nil
}

// convertPropertyPost turns a thing.event.property.post request into the
// forwarded body. params may be the long form {"Power":{"value":"on","time":ms}}
// or the short one {"Power":"on"}.
func convertPropertyPost(d thing, req alinkRequest, now time.Time) ([]byte, error) {
	var params map[string]json.RawMessage
	if err := json.Unmarshal(req.Params, &params); err != nil {
		return nil, fmt.Errorf("%w: %v", errAlinkFormat, err)
	}
	ms := now.UnixMilli()
	out := propertyPost{IotID: d.iotID, ProductKey: d.productKey, DeviceName: d.deviceName,
		GmtCreate: ms, DeviceType: "CustomCategory", Items: make(map[string]alinkItem, len(params))}
	for name, raw := range params {
		item := alinkItem{Time: ms}
		var long struct {
			Value json.RawMessage `json:"value"`
			Time  *int64          `json:"time"`
		}
		if isLongForm(raw) && json.Unmarshal(raw, &long) == nil {
			item.Value = long.Value
			if long.Time != nil {
				item.Time = *long.Time
			}
		} else {
			item.Value = raw
		}
		out.Items[name] = item
	}
	return json.Marshal(out)
}

// isLongForm reports whether raw is an object with a "value" key.
func isLongForm(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	_, ok := m["value"]
	return ok
}

// convertEvent turns a thing.event.{id}.post request into the forwarded body.
func convertEvent(d thing, identifier string, req alinkRequest, now time.Time) ([]byte, error) {
	ms := now.UnixMilli()
	value, t := req.Params, ms
	var long struct {
		Value json.RawMessage `json:"value"`
		Time  *int64          `json:"time"`
	}
	if isLongForm(req.Params) && json.Unmarshal(req.Params, &long) == nil && len(long.Value) > 0 && long.Value[0] == '{' {
		value = long.Value
		if long.Time != nil {
			t = *long.Time
		}
	}
	return json.Marshal(eventPost{Identifier: identifier, Name: identifier, Type: "info",
		IotID: d.iotID, ProductKey: d.productKey, DeviceName: d.deviceName, GmtCreate: ms, Value: value, Time: t})
}

// sysTopic splits /sys/{pk}/{dn}/rest into rest (no leading '/').
func sysRest(topic, pk, dn string) (string, bool) {
	return strings.CutPrefix(topic, "/sys/"+pk+"/"+dn+"/")
}
