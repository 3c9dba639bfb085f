package brokerbackend

import (
	"context"
	"fmt"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/vendorauth"
)

// binding is what a signed sign-in binds a connection to: the consumer
// group every receiver link of it consumes, whatever address it names.
type binding struct {
	groupID  string
	clientID string
}

// SignedAuthenticator verifies the IoT platform's signed user names (vendor
// mode: the connection is bound to the consumerGroupId and may only attach
// one receiver link). Credentials that are not a signed user name go to
// unsigned; a signed one that fails verification is refused, with the
// reason in the error (the server logs it).
func SignedAuthenticator(v *vendorauth.Verifier, unsigned amqp.Authenticator) amqp.Authenticator {
	return amqp.AuthenticatorFunc(func(ctx context.Context, c amqp.Credentials) (*amqp.Principal, error) {
		if !vendorauth.LooksSigned(c.Username) {
			return unsigned.Authenticate(ctx, c)
		}
		if c.Mechanism != "PLAIN" {
			return nil, fmt.Errorf("%w: a signed user name needs SASL PLAIN", amqp.ErrAuthFailed)
		}
		id, err := v.Verify(c.Username, c.Password)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", amqp.ErrAuthFailed, err)
		}
		return &amqp.Principal{
			Name:         id.ClientID,
			Mechanism:    c.Mechanism,
			Data:         binding{groupID: id.GroupID, clientID: id.ClientID},
			ReceiverOnly: true,
		}, nil
	})
}

// boundGroup returns the group a signed connection is bound to.
func boundGroup(p *amqp.Principal) (binding, bool) {
	if p == nil {
		return binding{}, false
	}
	b, ok := p.Data.(binding)
	return b, ok
}
