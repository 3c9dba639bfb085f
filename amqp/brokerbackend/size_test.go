package brokerbackend_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
	"github.com/amqpemu/amqpemu/broker"
)

// rawSend opens a connection with raw frames, attaches a sender to addr and
// sends msg as one delivery cut into frames of at most 64 KiB. It returns
// the attach reply and the first frame after the transfers that is a
// detach or a disposition.
func rawSend(t *testing.T, addr, target string, msg []byte) (*frames.Attach, frames.Body) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	zero := uint32(0)
	hdr := frames.ProtocolAMQP
	out := append(hdr[:], frames.AppendFrame(nil, frames.TypeAMQP, 0, &frames.Open{ContainerID: "raw", MaxFrameSize: 65536, ChannelMax: 1}, nil)...)
	out = frames.AppendFrame(out, frames.TypeAMQP, 0, &frames.Begin{IncomingWindow: 5000, OutgoingWindow: 5000, HandleMax: 1}, nil)
	out = frames.AppendFrame(out, frames.TypeAMQP, 0, &frames.Attach{Name: "raw-" + target, Role: frames.RoleSender,
		Source: &frames.Source{}, Target: &frames.Target{Address: target}, InitialDeliveryCount: &zero}, nil)
	if _, err := nc.Write(out); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	if _, err := io.ReadFull(br, hdr[:]); err != nil || hdr != frames.ProtocolAMQP {
		t.Fatalf("protocol header %q: %v", hdr[:], err)
	}
	var reply *frames.Attach
	for reply == nil {
		if a, ok := readBody(t, br).(*frames.Attach); ok {
			reply = a
		}
	}
	out = out[:0]
	const chunk = 60 << 10
	for i := 0; i < len(msg); i += chunk {
		tr := &frames.Transfer{More: i+chunk < len(msg)}
		if i == 0 {
			tr.DeliveryID, tr.HasDeliveryID, tr.DeliveryTag, tr.HasFormat = 0, true, []byte("t0"), true
		}
		out = frames.AppendFrame(out, frames.TypeAMQP, 0, tr, msg[i:min(i+chunk, len(msg))])
	}
	nc.Write(out) // the server may detach and stop reading before the end
	for {
		switch b := readBody(t, br).(type) {
		case *frames.Detach, *frames.Disposition, *frames.End, *frames.Close:
			return reply, b
		}
	}
}

func readBody(t *testing.T, br *bufio.Reader) frames.Body {
	t.Helper()
	var hb [frames.HeaderSize]byte
	if _, err := io.ReadFull(br, hb[:]); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	h, err := frames.ParseHeader(hb[:])
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, h.Size-frames.HeaderSize)
	if _, err := io.ReadFull(br, buf); err != nil {
		t.Fatal(err)
	}
	if len(buf) == 0 && h.Size == frames.HeaderSize {
		return nil
	}
	body, _, err := frames.ParseBody(h.Type, buf[int(h.DataOffset)*4-frames.HeaderSize:])
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func dataMsg(n int) []byte {
	return encoding.AppendBinary(encoding.AppendDescriptor(nil, encoding.DescData), bytes.Repeat([]byte{'s'}, n))
}

// TestMessageSizeOneLimit: the server advertises exactly the broker's
// limit and detaches a sender whose delivery exceeds it with
// amqp:link:message-size-exceeded, for generic queues and device topics;
// a message at the limit goes through.
func TestMessageSizeOneLimit(t *testing.T) {
	for _, limit := range []int{broker.DefaultMaxMessageSize, 100 << 10} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			e := startWith(t, func(c *broker.Config) { c.MaxMessageSize = limit })
			if got := e.b.MaxMessageSize(); got != limit {
				t.Fatalf("broker limit %d, want %d", got, limit)
			}
			for _, target := range []string{"size-queue", "/pk1/dev1/user/size"} {
				t.Run(target, func(t *testing.T) {
					over := dataMsg(limit + 44<<10) // 300 KiB with the default
					reply, b := rawSend(t, e.addr, target, over)
					if reply.MaxMessageSize != uint64(limit) {
						t.Errorf("attach advertises max-message-size %d, want the broker's %d", reply.MaxMessageSize, limit)
					}
					d, ok := b.(*frames.Detach)
					if !ok || d.Error == nil || d.Error.Condition != frames.ErrCondMessageSizeExceeded {
						t.Fatalf("after %d bytes got %v, want a detach with %s", len(over), b, frames.ErrCondMessageSizeExceeded)
					}
					at := dataMsg(limit - 8) // the data section's own 8 bytes: exactly the limit encoded
					if len(at) != limit {
						t.Fatalf("message of %d bytes, want %d", len(at), limit)
					}
					_, b = rawSend(t, e.addr, target, at)
					if target == "size-queue" {
						if d, ok := b.(*frames.Disposition); !ok {
							t.Fatalf("a message of exactly the limit got %v, want a disposition", b)
						} else if _, ok := d.State.(*frames.Accepted); !ok {
							t.Fatalf("a message of exactly the limit: %v, want accepted", d)
						}
					}
				})
			}
		})
	}
}

// TestBrokerSizeRefusalMapped: when the broker refuses a message as too
// large (its limit below the server's), the client's delivery is rejected
// with amqp:link:message-size-exceeded, not an internal error.
func TestBrokerSizeRefusalMapped(t *testing.T) {
	e := startWith(t, func(c *broker.Config) { c.MaxMessageSize = 1 << 10 },
		func(c *amqp.Config) { c.MaxMessageSize = 64 << 10 })
	_, sess := e.session(t)
	ctx := ctxT(t)
	for _, target := range []string{"/pk1/dev1/user/big", "big-queue"} {
		snd, err := sess.NewSender(ctx, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = snd.Send(ctx, goamqp.NewMessage(bytes.Repeat([]byte{'b'}, 2<<10)), nil)
		var ae *goamqp.Error
		if !errors.As(err, &ae) || ae.Condition != goamqp.ErrCond(frames.ErrCondMessageSizeExceeded) {
			t.Fatalf("%s: send of 2 KiB over a 1 KiB broker limit: %v, want rejected with %s", target, err, frames.ErrCondMessageSizeExceeded)
		}
	}
}

// TestEnginePayloadLimitMapped: a broker limit above the engine's payload
// limit (1 MiB on the embedded NATS server) made a 2 MiB message fail with
// amqp:internal-error; it is rejected with message-size-exceeded.
func TestEnginePayloadLimitMapped(t *testing.T) {
	e := startWith(t, func(c *broker.Config) { c.MaxMessageSize = 4 << 20 })
	_, sess := e.session(t)
	ctx := ctxT(t)
	for _, target := range []string{"engine-limit", "/pk1/dev1/user/engine-limit"} {
		snd, err := sess.NewSender(ctx, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = snd.Send(ctx, goamqp.NewMessage(bytes.Repeat([]byte{'b'}, 2<<20)), nil)
		var ae *goamqp.Error
		if errors.As(err, &ae) && ae.Condition == goamqp.ErrCond(frames.ErrCondInternalError) {
			t.Fatalf("%s: 2 MiB: %v, want no internal error", target, err)
		}
		if err != nil && (!errors.As(err, &ae) || ae.Condition != goamqp.ErrCond(frames.ErrCondMessageSizeExceeded)) {
			t.Fatalf("%s: 2 MiB: %v, want accepted or rejected with %s", target, err, frames.ErrCondMessageSizeExceeded)
		}
	}
}
