package stomp

import (
	"context"
	"errors"
	"net"

	"github.com/amqpemu/amqpemu/vendorauth"
)

// Principal is who a connection signed in as.
type Principal struct {
	ClientID string
	GroupID  string // the consumer group; empty means broker.DefaultGroupID
	Base64   bool   // MESSAGE bodies go out Base64-encoded (encode=base64)
}

// Authenticator decides who a CONNECT frame's login and passcode belong to.
// Its error text is sent to the client in the ERROR frame's message header,
// so it should say what was wrong.
type Authenticator interface {
	Authenticate(ctx context.Context, login, passcode string, remote net.Addr) (*Principal, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, login, passcode string, remote net.Addr) (*Principal, error)

// Authenticate calls fn.
func (fn AuthenticatorFunc) Authenticate(ctx context.Context, login, passcode string, remote net.Addr) (*Principal, error) {
	return fn(ctx, login, passcode, remote)
}

// AllowAll admits everyone into DEFAULT_GROUP, the login (or "stomp-" and
// the remote address) as client id.
var AllowAll Authenticator = AuthenticatorFunc(func(_ context.Context, login, _ string, remote net.Addr) (*Principal, error) {
	return unsigned(login, remote), nil
})

func unsigned(login string, remote net.Addr) *Principal {
	if login == "" && remote != nil {
		login = "stomp-" + remote.String()
	}
	return &Principal{ClientID: login}
}

// ErrSignatureRequired refuses an unsigned login where only signed ones
// are allowed.
var ErrSignatureRequired = errors.New("a signed user name is required: clientId|authMode=aksign,signMethod=hmacsha1,timestamp=...,authId=...,consumerGroupId=...|")

// SignedAuthenticator verifies the vendor's signed user name and password
// with v: the principal is the user name's clientId, consumerGroupId and
// encode=base64. An unsigned login (or none) is admitted into DEFAULT_GROUP
// when allowUnsigned, and refused otherwise. v may be nil when only
// unsigned logins are to be admitted.
func SignedAuthenticator(v *vendorauth.Verifier, allowUnsigned bool) Authenticator {
	return AuthenticatorFunc(func(_ context.Context, login, passcode string, remote net.Addr) (*Principal, error) {
		if !vendorauth.LooksSigned(login) {
			if !allowUnsigned {
				return nil, ErrSignatureRequired
			}
			return unsigned(login, remote), nil
		}
		if v == nil {
			return nil, errors.New("signed user names cannot be verified: no access key is configured")
		}
		id, err := v.Verify(login, passcode)
		if err != nil {
			return nil, err
		}
		return &Principal{ClientID: id.ClientID, GroupID: id.GroupID, Base64: id.Base64}, nil
	})
}
