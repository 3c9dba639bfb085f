package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/amqpemu/amqpemu/amqp"
)

// Beyond loopback a plain SASL refusal says which part failed (the server
// logs the error with the connection).
func TestPlainAuthReasons(t *testing.T) {
	auth := amqpAuth(&serveFlags{accessKeyID: "ak", accessKeySecret: "sk"}, true)
	for _, c := range []struct {
		cred amqp.Credentials
		want string
	}{
		{amqp.Credentials{Mechanism: "ANONYMOUS"}, "mechanism ANONYMOUS is off"},
		{amqp.Credentials{Mechanism: "PLAIN", Username: "someone", Password: "sk"}, "user name is neither"},
		{amqp.Credentials{Mechanism: "PLAIN", Username: "ak", Password: "nope"}, "wrong password"},
	} {
		_, err := auth.Authenticate(context.Background(), c.cred)
		if !errors.Is(err, amqp.ErrAuthFailed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want ErrAuthFailed saying %q", c.cred, err, c.want)
		}
	}
	if p, err := auth.Authenticate(context.Background(), amqp.Credentials{Mechanism: "PLAIN", Username: "ak", Password: "sk"}); err != nil || p.Name != "ak" {
		t.Errorf("the access key: %v %v", p, err)
	}
}
