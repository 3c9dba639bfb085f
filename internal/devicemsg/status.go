// Package devicemsg builds the messages the IoT platform itself sends
// about devices, shared by the front ends that report them (the REST
// API's simulated status, the MQTT ingress).
package devicemsg

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/amqpemu/amqpemu/broker"
)

// Status values.
const (
	Online  = "online"
	Offline = "offline"
)

// StatusMessage is the payload the platform sends on
// /as/mqtt/status/{pk}/{dn}.
type StatusMessage struct {
	Status        string `json:"status"`
	IotID         string `json:"iotId"`
	ProductKey    string `json:"productKey"`
	DeviceName    string `json:"deviceName"`
	Time          string `json:"time"`        // local time, 2018-08-31 15:32:28.205
	UTCTime       string `json:"utcTime"`     // 2018-08-31T07:32:28.205Z
	LastTime      string `json:"lastTime"`    // the last communication before the change
	UTCLastTime   string `json:"utcLastTime"` //
	ClientIP      string `json:"clientIp"`
	OfflineReason string `json:"offlineReason,omitempty"` // offline only
}

// Time layouts of the status message.
const (
	LocalLayout = "2006-01-02 15:04:05.000"
	UTCLayout   = "2006-01-02T15:04:05.000Z"
)

// Status is the status message of device pk/dn (iotID derived when
// empty) changing to status at now, its last communication at last.
func Status(pk, dn, iotID, status, clientIP, offlineReason string, now, last time.Time) StatusMessage {
	if iotID == "" {
		iotID = IotID(pk, dn)
	}
	return StatusMessage{
		Status: status, IotID: iotID, ProductKey: pk, DeviceName: dn,
		Time: now.Local().Format(LocalLayout), UTCTime: now.UTC().Format(UTCLayout),
		LastTime: last.Local().Format(LocalLayout), UTCLastTime: last.UTC().Format(UTCLayout),
		ClientIP: clientIP, OfflineReason: offlineReason,
	}
}

// DeviceMessage is m as the broker stores it: kind status on
// /as/mqtt/status/{pk}/{dn}.
func (m StatusMessage) DeviceMessage(now time.Time) broker.DeviceMessage {
	payload, _ := json.Marshal(m) // strings only: cannot fail
	return broker.DeviceMessage{
		ProductKey: m.ProductKey, DeviceName: m.DeviceName, Kind: broker.KindStatus,
		Topic: "/as/mqtt/status/" + m.ProductKey + "/" + m.DeviceName, Payload: payload, GenerateTime: now,
	}
}

// IotID is a stable stand-in for the platform's device id: 20 characters
// derived from product and device, then the "000100" suffix its ids end with.
func IotID(pk, dn string) string {
	sum := sha1.Sum([]byte(pk + "/" + dn))
	return strings.ToUpper(hex.EncodeToString(sum[:]))[:20] + "000100"
}
