package amqp_test

import (
	"testing"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// TestHandleOverHandleMax: §2.7.2, a handle beyond handle-max closes the
// connection with amqp:connection:framing-error.
func TestHandleOverHandleMax(t *testing.T) {
	ts := startServer(t, func(c *amqp.Config) { c.HandleMax = 7 })
	for _, tc := range []struct {
		name  string
		frame func(*rawPeer)
	}{
		{"attach", func(p *rawPeer) { p.send(t, 0, receiverAttach(8, "q")) }},
		{"flow", func(p *rawPeer) {
			zero, h := uint32(0), uint32(9)
			p.send(t, 0, &frames.Flow{NextIncomingID: &zero, IncomingWindow: 10, OutgoingWindow: 10, Handle: &h, DeliveryCount: &zero, LinkCredit: &zero})
		}},
		{"transfer", func(p *rawPeer) { p.sendTransfer(t, 0, firstTransfer(100, 0), dataMessage([]byte("x"))) }},
		{"detach", func(p *rawPeer) { p.send(t, 0, &frames.Detach{Handle: 8, Closed: true}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			if b := p.begin(t, 0); b.HandleMax != 7 {
				t.Fatalf("handle-max %d, want 7", b.HandleMax)
			}
			tc.frame(p)
			p.expectClose(t, frames.ErrCondFramingError)
			p.closeConn(t)
		})
	}
	checkServes(t, ts, nil)
}
