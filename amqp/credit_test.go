package amqp_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/amqpemu/amqpemu/amqp/frames"
)

// TestCreditOver2To31: link-credit is a uint32 (§2.6.7); credit of 2^31 and
// above delivers like any other credit.
func TestCreditOver2To31(t *testing.T) {
	for _, credit := range []uint32{1 << 31, math.MaxUint32} {
		t.Run(fmt.Sprint(credit), func(t *testing.T) {
			ts := startServer(t)
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			p.begin(t, 0)
			p.send(t, 0, receiverAttach(0, "big-credit"))
			if a, _ := expectBody[*frames.Attach](t, p); a.Source == nil {
				t.Fatalf("attach refused: %v", a)
			}
			zero, cr := uint32(0), credit
			p.send(t, 0, &frames.Flow{NextIncomingID: &zero, IncomingWindow: 5000, OutgoingWindow: 5000,
				Handle: zero32(), DeliveryCount: &zero, LinkCredit: &cr})
			_, sess := dial(t, ts, nil)
			sendN(t, ctxT(t), sess, "big-credit", 3, nil)
			for i := range 3 {
				p.expectTransfer(t, 0, body(i))
			}
			// Drain with that credit: the server gives back a flow with the
			// credit used up and delivery-count advanced, not a wrapped count.
			p.send(t, 0, &frames.Flow{NextIncomingID: &zero, IncomingWindow: 5000, OutgoingWindow: 5000,
				Handle: zero32(), DeliveryCount: ptr(uint32(3)), LinkCredit: &cr, Drain: true})
			for {
				f, _ := expectBody[*frames.Flow](t, p)
				if f.Handle == nil || f.LinkCredit == nil {
					continue
				}
				if *f.LinkCredit != 0 || *f.DeliveryCount != 3+credit {
					t.Fatalf("drain answer credit %d delivery-count %d, want 0 and %d", *f.LinkCredit, *f.DeliveryCount, 3+credit)
				}
				break
			}
		})
	}
}
