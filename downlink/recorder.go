package downlink

import (
	"container/list"
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of a Recorder: the last MaxPerDevice messages of each of the
// MaxDevices devices sent to most recently.
const (
	MaxPerDevice = 100
	MaxDevices   = 1000
)

// Message is one message sent to a device.
type Message struct {
	MessageID string
	Topic     string
	Payload   []byte
	QoS       int
	Time      time.Time
}

// Recorder remembers the messages sent to devices; it is safe for
// concurrent use. The zero value is not usable: call NewRecorder.
type Recorder struct {
	next atomic.Uint64 // the last message id handed out

	mu      sync.Mutex
	devices map[device]*list.Element // of order; Value is *history
	order   *list.List               // front: sent to most recently
}

type device struct{ productKey, deviceName string }

// history is one device's last messages, a ring of up to MaxPerDevice.
type history struct {
	dev   device
	msgs  []Message
	start int // index of the oldest once the ring is full
}

// NewRecorder makes an empty Recorder.
func NewRecorder() *Recorder {
	r := &Recorder{devices: map[device]*list.Element{}, order: list.New()}
	// Ids are decimal like the platform's, increasing, and differ from
	// those of an earlier run: milliseconds since 1970 shifted left 20 bits
	// (19 digits until 2040).
	r.next.Store(uint64(time.Now().UnixMilli()) << 20)
	return r
}

// Send records a message to device productKey/deviceName and answers its
// message id. The payload is copied.
func (r *Recorder) Send(ctx context.Context, productKey, deviceName, topic string, payload []byte, qos int) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m := Message{
		MessageID: strconv.FormatUint(r.next.Add(1), 10),
		Topic:     topic,
		Payload:   append([]byte(nil), payload...),
		QoS:       qos,
		Time:      time.Now(),
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.history(device{productKey, deviceName})
	if len(h.msgs) < MaxPerDevice {
		h.msgs = append(h.msgs, m)
	} else {
		h.msgs[h.start] = m
		h.start = (h.start + 1) % MaxPerDevice
	}
	return m.MessageID, nil
}

// history finds or makes d's history, moving it to the front and dropping
// the device sent to least recently when there are too many.
func (r *Recorder) history(d device) *history {
	if el, ok := r.devices[d]; ok {
		r.order.MoveToFront(el)
		return el.Value.(*history)
	}
	if r.order.Len() >= MaxDevices {
		oldest := r.order.Back()
		r.order.Remove(oldest)
		delete(r.devices, oldest.Value.(*history).dev)
	}
	h := &history{dev: d}
	r.devices[d] = r.order.PushFront(h)
	return h
}

// Messages returns the messages recorded for a device, oldest first (nil
// when there are none).
func (r *Recorder) Messages(productKey, deviceName string) []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	el, ok := r.devices[device{productKey, deviceName}]
	if !ok {
		return nil
	}
	h := el.Value.(*history)
	out := make([]Message, 0, len(h.msgs))
	out = append(out, h.msgs[h.start:]...)
	return append(out, h.msgs[:h.start]...)
}
