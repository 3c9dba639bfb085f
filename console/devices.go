package console

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/amqpemu/amqpemu/internal/devicemsg"
)

// Until amqpemu has device connectivity, the API reports devices going
// online and offline, and the platform's status message follows.

// deviceStatusJSON is the body of POST /api/v1/devices/{pk}/{dn}/status.
type deviceStatusJSON struct {
	Status   string `json:"status"`   // online or offline
	ClientIP string `json:"clientIp"` // the device's address; the caller's when empty
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
	iotID := "" // devicemsg derives one for a device the registry does not have
	if s.cfg.Devices != nil {
		if d, err := s.cfg.Devices.Device(r.Context(), pk, dn); err == nil {
			iotID = d.IotID
		}
	}
	msg := devicemsg.Status(pk, dn, iotID, in.Status, in.ClientIP, "", now, s.devices.swap(pk+"/"+dn, now))
	ids, err := s.b.Publish(r.Context(), msg.DeviceMessage(now))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, struct {
		MessageIDs []string `json:"messageIds"`
	}{ids})
}
