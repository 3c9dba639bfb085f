package console

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/amqpemu/amqpemu/broker"
)

// Until amqpemu has device connectivity, the API reports devices going
// online and offline, and the platform's status message follows.

// deviceStatusJSON is the body of POST /api/v1/devices/{pk}/{dn}/status.
type deviceStatusJSON struct {
	Status   string `json:"status"`   // online or offline
	ClientIP string `json:"clientIp"` // the device's address; the caller's when empty
}

// deviceStatusMessage is the payload the platform sends on
// /as/mqtt/status/{pk}/{dn}.
type deviceStatusMessage struct {
	Status      string `json:"status"`
	IotID       string `json:"iotId"`
	ProductKey  string `json:"productKey"`
	DeviceName  string `json:"deviceName"`
	Time        string `json:"time"`        // local time, 2018-08-31 15:32:28.205
	UTCTime     string `json:"utcTime"`     // 2018-08-31T07:32:28.205Z
	LastTime    string `json:"lastTime"`    // the previous status change
	UTCLastTime string `json:"utcLastTime"` //
	ClientIP    string `json:"clientIp"`
}

// lastSeen remembers each device's previous status change (in memory: it
// only fills lastTime).
type lastSeen struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (l *lastSeen) swap(key string, now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at == nil {
		l.at = map[string]time.Time{}
	}
	prev, ok := l.at[key]
	l.at[key] = now
	if !ok {
		return now
	}
	return prev
}

// postDeviceStatus publishes a device status message.
func (s *Server) postDeviceStatus(w http.ResponseWriter, r *http.Request) error {
	pk, dn := r.PathValue("pk"), r.PathValue("dn")
	data, err := readBody(w, r, 4<<10)
	if err != nil {
		return err
	}
	var in deviceStatusJSON
	if err := decodeBytes(data, &in); err != nil {
		return err
	}
	if in.Status != "online" && in.Status != "offline" {
		return errorf(http.StatusBadRequest, CodeInvalidArgument, "status must be \"online\" or \"offline\", not %q", in.Status)
	}
	if in.ClientIP == "" {
		in.ClientIP, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	now := time.Now()
	payload, _ := json.Marshal(statusMessage(pk, dn, in, now, s.devices.swap(pk+"/"+dn, now)))
	ids, err := s.b.Publish(r.Context(), broker.DeviceMessage{
		ProductKey: pk, DeviceName: dn, Kind: broker.KindStatus,
		Topic: "/as/mqtt/status/" + pk + "/" + dn, Payload: payload, GenerateTime: now,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, struct {
		MessageIDs []string `json:"messageIds"`
	}{ids})
}

func statusMessage(pk, dn string, in deviceStatusJSON, now, last time.Time) deviceStatusMessage {
	const local, utc = "2006-01-02 15:04:05.000", "2006-01-02T15:04:05.000Z"
	return deviceStatusMessage{
		Status: in.Status, IotID: iotID(pk, dn), ProductKey: pk, DeviceName: dn,
		Time: now.Local().Format(local), UTCTime: now.UTC().Format(utc),
		LastTime: last.Local().Format(local), UTCLastTime: last.UTC().Format(utc),
		ClientIP: in.ClientIP,
	}
}

// iotID is a stable stand-in for the platform's device id: 20 characters
// derived from product and device, then the "000100" suffix its ids end with.
func iotID(pk, dn string) string {
	sum := sha1.Sum([]byte(pk + "/" + dn))
	return strings.ToUpper(hex.EncodeToString(sum[:]))[:20] + "000100"
}
