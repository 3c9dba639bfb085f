package amqp_test

import (
	"strings"
	"testing"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// TestBadAddresses: a source or target address that is not UTF-8, or is
// longer than the bound, refuses the link with amqp:invalid-field.
func TestBadAddresses(t *testing.T) {
	ts := startServer(t, func(c *amqp.Config) { c.MaxAddressLength = 64 })
	for _, tc := range []struct {
		name   string
		attach *frames.Attach
		desc   string
	}{
		{"source-not-utf8", receiverAttach(0, "q\xff\xfe"), "not valid UTF-8"},
		{"target-not-utf8", senderAttach(0, "q\xc3"), "not valid UTF-8"},
		{"source-too-long", receiverAttach(0, strings.Repeat("a", 65)), "longer than 64 bytes"},
		{"target-too-long", senderAttach(0, strings.Repeat("é", 33)), "longer than 64 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := dialRaw(t, ts.addr)
			p.openConn(t)
			p.begin(t, 0)
			p.send(t, 0, tc.attach)
			reply, _ := expectBody[*frames.Attach](t, p)
			if (tc.attach.Role == frames.RoleReceiver && reply.Source != nil) || (tc.attach.Role == frames.RoleSender && reply.Target != nil) {
				t.Fatalf("attach reply %v, want a null terminus (refusal)", reply)
			}
			d := p.expectDetach(t, 0, frames.ErrCondInvalidField)
			if !strings.Contains(d.Error.Description, tc.desc) {
				t.Fatalf("description %q, want it to say %q", d.Error.Description, tc.desc)
			}
			p.send(t, 0, &frames.Detach{Handle: 0, Closed: true})
			p.useSession(t, 0, 1, strings.Repeat("a", 64), 0) // at the bound is fine
		})
	}
}
