package amqp_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/amqpemu/amqpemu/amqp/encoding"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// rawTimeout bounds every read and write of a rawPeer, so a server that hangs
// fails the test instead of hanging it.
const rawTimeout = 5 * time.Second

// rawFrame is one frame read from the server.
type rawFrame struct {
	typ     uint8
	channel uint16
	body    frames.Body // nil for an empty (heartbeat) frame
	payload []byte      // what follows a transfer performative
	size    uint32      // the whole frame, header included
}

// rawPeer is a scripted client over a real TCP connection: it writes protocol
// headers and frames (or any bytes) and reads and decodes what the server
// sends. It is used from the test goroutine only.
type rawPeer struct {
	nc net.Conn
	br *bufio.Reader
}

// dialRaw connects to addr; the connection is closed at cleanup.
func dialRaw(t *testing.T, addr string) *rawPeer {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, rawTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawPeer{nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}
}

// write writes b as is.
func (p *rawPeer) write(t *testing.T, b []byte) {
	t.Helper()
	p.nc.SetWriteDeadline(time.Now().Add(rawTimeout))
	if _, err := p.nc.Write(b); err != nil {
		t.Fatalf("write %d bytes: %v", len(b), err)
	}
}

// writeHeader writes an 8-byte protocol header.
func (p *rawPeer) writeHeader(t *testing.T, h [8]byte) {
	t.Helper()
	p.write(t, h[:])
}

// send writes one AMQP frame on channel ch.
func (p *rawPeer) send(t *testing.T, ch uint16, body frames.Body) {
	t.Helper()
	p.write(t, frames.AppendFrame(nil, frames.TypeAMQP, ch, body, nil))
}

// sendTransfer writes one transfer frame with its payload.
func (p *rawPeer) sendTransfer(t *testing.T, ch uint16, tr *frames.Transfer, payload []byte) {
	t.Helper()
	p.write(t, frames.AppendFrame(nil, frames.TypeAMQP, ch, tr, payload))
}

// sendSASL writes one SASL frame.
func (p *rawPeer) sendSASL(t *testing.T, body frames.Body) {
	t.Helper()
	p.write(t, frames.AppendFrame(nil, frames.TypeSASL, 0, body, nil))
}

// closeWrite half-closes the connection: the server reads EOF.
func (p *rawPeer) closeWrite(t *testing.T) {
	t.Helper()
	if err := p.nc.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatalf("close write: %v", err)
	}
}

// readFrame reads and decodes the next frame, empty frames included.
func (p *rawPeer) readFrame() (rawFrame, error) {
	p.nc.SetReadDeadline(time.Now().Add(rawTimeout))
	var hb [frames.HeaderSize]byte
	if _, err := io.ReadFull(p.br, hb[:]); err != nil {
		return rawFrame{}, err
	}
	h, err := frames.ParseHeader(hb[:])
	if err != nil {
		return rawFrame{}, fmt.Errorf("frame header % x: %w", hb, err)
	}
	if h.Size > 16<<20 {
		return rawFrame{}, fmt.Errorf("frame of %d bytes", h.Size)
	}
	buf := make([]byte, h.Size-frames.HeaderSize)
	if _, err := io.ReadFull(p.br, buf); err != nil {
		return rawFrame{}, fmt.Errorf("frame body: %w", err)
	}
	body, payload, err := frames.ParseBody(h.Type, buf[int(h.DataOffset)*4-frames.HeaderSize:])
	if err != nil {
		return rawFrame{}, fmt.Errorf("frame body: %w", err)
	}
	return rawFrame{typ: h.Type, channel: h.Channel, body: body, payload: payload, size: h.Size}, nil
}

// expectHeader reads an 8-byte protocol header and checks it is want.
func (p *rawPeer) expectHeader(t *testing.T, want [8]byte) {
	t.Helper()
	p.nc.SetReadDeadline(time.Now().Add(rawTimeout))
	var got [8]byte
	if _, err := io.ReadFull(p.br, got[:]); err != nil {
		t.Fatalf("expected protocol header %q: %v", want[:], err)
	}
	if got != want {
		t.Fatalf("protocol header %q, want %q", got[:], want[:])
	}
}

// expectFrame returns the next frame that is not empty.
func (p *rawPeer) expectFrame(t *testing.T) rawFrame {
	t.Helper()
	for {
		f, err := p.readFrame()
		if err != nil {
			t.Fatalf("expected a frame: %v", err)
		}
		if f.body != nil {
			return f
		}
	}
}

// expectBody returns the next frame's body, which must be a T. Flow frames are
// skipped unless T is *frames.Flow: they only say how much may be sent.
func expectBody[T frames.Body](t *testing.T, p *rawPeer) (T, uint16) {
	t.Helper()
	for {
		f := p.expectFrame(t)
		if b, ok := f.body.(T); ok {
			return b, f.channel
		}
		if _, isFlow := f.body.(*frames.Flow); isFlow {
			continue
		}
		var want T
		t.Fatalf("expected %T, got %v on channel %d", want, f.body, f.channel)
	}
}

// checkCond checks an error against the expected condition ("" means none).
func checkCond(t *testing.T, what string, e *frames.Error, cond frames.ErrCond) {
	t.Helper()
	switch {
	case cond == "" && e != nil:
		t.Fatalf("%s carries error %v, want none", what, e)
	case cond != "" && e == nil:
		t.Fatalf("%s carries no error, want %s", what, cond)
	case cond != "" && e.Condition != cond:
		t.Fatalf("%s error %v, want condition %s", what, e, cond)
	}
}

// expectClose expects a close frame with condition cond ("" for none).
func (p *rawPeer) expectClose(t *testing.T, cond frames.ErrCond) *frames.Close {
	t.Helper()
	c, ch := expectBody[*frames.Close](t, p)
	if ch != 0 {
		t.Errorf("close on channel %d", ch)
	}
	checkCond(t, "close", c.Error, cond)
	return c
}

// expectEnd expects an end frame on channel ch with condition cond.
func (p *rawPeer) expectEnd(t *testing.T, ch uint16, cond frames.ErrCond) *frames.End {
	t.Helper()
	e, got := expectBody[*frames.End](t, p)
	if got != ch {
		t.Fatalf("end on channel %d, want %d", got, ch)
	}
	checkCond(t, "end", e.Error, cond)
	return e
}

// expectDetach expects a detach of handle with condition cond.
func (p *rawPeer) expectDetach(t *testing.T, handle uint32, cond frames.ErrCond) *frames.Detach {
	t.Helper()
	d, _ := expectBody[*frames.Detach](t, p)
	if d.Handle != handle {
		t.Fatalf("detach of handle %d, want %d", d.Handle, handle)
	}
	checkCond(t, "detach", d.Error, cond)
	return d
}

// expectEOF expects the server to close its side with no more frames.
func (p *rawPeer) expectEOF(t *testing.T) {
	t.Helper()
	for {
		f, err := p.readFrame()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("expected EOF, got %v", err)
		}
		if f.body != nil {
			t.Fatalf("expected EOF, got %v", f.body)
		}
	}
}

// openConn sends the AMQP header and an open frame and returns the server's open.
func (p *rawPeer) openConn(t *testing.T) *frames.Open {
	t.Helper()
	return p.openConnWith(t, 65536)
}

// openConnWith opens the connection announcing maxFrame as our max-frame-size.
func (p *rawPeer) openConnWith(t *testing.T, maxFrame uint32) *frames.Open {
	t.Helper()
	hdr := frames.ProtocolAMQP
	b := append(hdr[:], frames.AppendFrame(nil, frames.TypeAMQP, 0,
		&frames.Open{ContainerID: "raw-peer", MaxFrameSize: maxFrame, ChannelMax: 255}, nil)...)
	p.write(t, b)
	p.expectHeader(t, frames.ProtocolAMQP)
	o, ch := expectBody[*frames.Open](t, p)
	if ch != 0 {
		t.Fatalf("open on channel %d", ch)
	}
	return o
}

// closeConn sends close (the reply to the server's) and expects EOF.
func (p *rawPeer) closeConn(t *testing.T) {
	t.Helper()
	p.send(t, 0, &frames.Close{})
	p.expectEOF(t)
}

// begin begins a session on ch and returns the server's begin.
func (p *rawPeer) begin(t *testing.T, ch uint16) *frames.Begin {
	t.Helper()
	p.send(t, ch, &frames.Begin{NextOutgoingID: 0, IncomingWindow: 5000, OutgoingWindow: 5000, HandleMax: 4095})
	b, got := expectBody[*frames.Begin](t, p)
	if got != ch || b.RemoteChannel == nil || *b.RemoteChannel != ch {
		t.Fatalf("begin reply %v on channel %d, want channel %d", b, got, ch)
	}
	return b
}

// receiverAttach is the attach of a client receiver (the server sends) from addr.
func receiverAttach(handle uint32, addr string) *frames.Attach {
	return &frames.Attach{
		Name: fmt.Sprintf("rcv-%d-%s", handle, addr), Handle: handle, Role: frames.RoleReceiver,
		SndSettleMode: frames.SndUnsettled, RcvSettleMode: frames.RcvFirst,
		Source: &frames.Source{Address: addr}, Target: &frames.Target{},
	}
}

// senderAttach is the attach of a client sender (the server receives) to addr.
func senderAttach(handle uint32, addr string) *frames.Attach {
	zero := uint32(0)
	return &frames.Attach{
		Name: fmt.Sprintf("snd-%d-%s", handle, addr), Handle: handle, Role: frames.RoleSender,
		SndSettleMode: frames.SndUnsettled, RcvSettleMode: frames.RcvFirst,
		Source: &frames.Source{}, Target: &frames.Target{Address: addr}, InitialDeliveryCount: &zero,
	}
}

// attachSender attaches a client sender and returns the link credit the server grants.
func (p *rawPeer) attachSender(t *testing.T, ch uint16, handle uint32, addr string) uint32 {
	t.Helper()
	p.send(t, ch, senderAttach(handle, addr))
	a, _ := expectBody[*frames.Attach](t, p)
	if a.Handle != handle || a.Role != frames.RoleReceiver || a.Target == nil {
		t.Fatalf("attach reply %v, want an accepted receiver on handle %d", a, handle)
	}
	f, _ := expectBody[*frames.Flow](t, p)
	if f.Handle == nil || *f.Handle != handle || f.LinkCredit == nil {
		t.Fatalf("flow %v, want link credit for handle %d", f, handle)
	}
	return *f.LinkCredit
}

// dataMessage encodes a message with one data section.
func dataMessage(b []byte) []byte {
	return encoding.AppendBinary(encoding.AppendDescriptor(nil, encoding.DescData), b)
}

// firstTransfer is the single-frame transfer of delivery id on handle.
func firstTransfer(handle, id uint32) *frames.Transfer {
	return &frames.Transfer{Handle: handle, DeliveryID: id, HasDeliveryID: true,
		DeliveryTag: []byte(fmt.Sprintf("tag-%d", id)), HasFormat: true}
}

// expectAccepted expects the server's disposition accepting delivery id.
func (p *rawPeer) expectAccepted(t *testing.T, id uint32) {
	t.Helper()
	d, _ := expectBody[*frames.Disposition](t, p)
	if d.Role != frames.RoleReceiver || d.First != id || d.LastID() != id {
		t.Fatalf("disposition %v, want one for delivery %d", d, id)
	}
	if _, ok := d.State.(*frames.Accepted); !ok {
		t.Fatalf("disposition %v, want accepted", d)
	}
}

// useSession proves a session works: it attaches a sender on handle to addr,
// sends one message as delivery id and expects it accepted.
func (p *rawPeer) useSession(t *testing.T, ch uint16, handle uint32, addr string, id uint32) {
	t.Helper()
	if credit := p.attachSender(t, ch, handle, addr); credit == 0 {
		t.Fatalf("no credit on handle %d", handle)
	}
	p.sendTransfer(t, ch, firstTransfer(handle, id), dataMessage([]byte("hello "+addr)))
	p.expectAccepted(t, id)
}

// expectTransfer expects a transfer on handle whose payload contains want.
func (p *rawPeer) expectTransfer(t *testing.T, handle uint32, want []byte) *frames.Transfer {
	t.Helper()
	for {
		f := p.expectFrame(t)
		if _, isFlow := f.body.(*frames.Flow); isFlow {
			continue
		}
		tr, ok := f.body.(*frames.Transfer)
		if !ok {
			t.Fatalf("expected a transfer, got %v", f.body)
		}
		if tr.Handle != handle || !bytes.Contains(f.payload, want) {
			t.Fatalf("transfer %v with payload %q, want handle %d with %q", tr, f.payload, handle, want)
		}
		return tr
	}
}
