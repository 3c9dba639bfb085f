package stomp_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/amqpemu/amqpemu/stomp"
	"github.com/amqpemu/amqpemu/vendorauth"
)

func TestSignedAuthenticator(t *testing.T) {
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}
	user, pass := signedLogin(t, "dev-1", "G1", ",encode=base64")
	tests := []struct {
		name          string
		allowUnsigned bool
		login, pass   string
		want          stomp.Principal
		wantErr       error
	}{
		{"signed", false, user, pass, stomp.Principal{ClientID: "dev-1", GroupID: "G1", Base64: true}, nil},
		{"bad signature", true, user, "AAAA", stomp.Principal{}, vendorauth.ErrBadSignature},
		{"malformed", true, "c|authMode=aksign|", "x", stomp.Principal{}, vendorauth.ErrMalformed},
		{"unsigned allowed", true, "app", "x", stomp.Principal{ClientID: "app"}, nil},
		{"no login allowed", true, "", "", stomp.Principal{ClientID: "stomp-127.0.0.1:4242"}, nil},
		{"unsigned refused", false, "app", "x", stomp.Principal{}, stomp.ErrSignatureRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := signedAuth(tt.allowUnsigned).Authenticate(context.Background(), tt.login, tt.pass, remote)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if err == nil && *p != tt.want {
				t.Fatalf("principal %+v, want %+v", *p, tt.want)
			}
		})
	}
	if _, err := stomp.SignedAuthenticator(nil, true).Authenticate(context.Background(), user, pass, remote); err == nil {
		t.Fatal("a signed login was admitted without a verifier")
	}
}
