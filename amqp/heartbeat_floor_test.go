package amqp_test

import (
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// TestHeartbeatFloor: a peer asking for a 1 ms idle time-out gets empty
// frames no more often than the floor, and the open says what the floor is.
func TestHeartbeatFloor(t *testing.T) {
	const floor = 100 * time.Millisecond
	ts := startServer(t, func(c *amqp.Config) { c.HeartbeatFloor = floor })
	p := dialRaw(t, ts.addr)
	hdr := frames.ProtocolAMQP
	p.write(t, append(hdr[:], frames.AppendFrame(nil, frames.TypeAMQP, 0,
		&frames.Open{ContainerID: "hasty", MaxFrameSize: 65536, ChannelMax: 255, IdleTimeOut: 1}, nil)...))
	start := time.Now() // no heartbeat can be sent before the server reads our open
	p.expectHeader(t, frames.ProtocolAMQP)
	o, _ := expectBody[*frames.Open](t, p)
	// Read empty frames for a while: the server cannot have sent more than
	// one per floor since it read the open (timers never fire early).
	var empties int
	for time.Since(start) < 5*floor {
		f, err := p.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if f.body != nil {
			t.Fatalf("unexpected %v", f.body)
		}
		empties++
	}
	elapsed := time.Since(start)
	if most := int(elapsed/floor) + 1; empties > most {
		t.Fatalf("%d empty frames in %v, at most %d with a %v floor", empties, elapsed, most, floor)
	}
	v, ok := o.Properties.Get(encoding.Symbol(amqp.HeartbeatFloorProperty))
	if !ok {
		t.Fatalf("open properties %v lack %s", o.Properties, amqp.HeartbeatFloorProperty)
	}
	if ms, ok := v.(uint32); !ok || ms != uint32(floor/time.Millisecond) {
		t.Fatalf("%s = %v (%T), want uint32 %d", amqp.HeartbeatFloorProperty, v, v, floor/time.Millisecond)
	}
	p.begin(t, 0)
	p.useSession(t, 0, 0, "after-heartbeats", 0)
}
