package brokerbackend_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/brokerbackend"
	"github.com/amqpemu/amqpemu/broker"
	"github.com/amqpemu/amqpemu/vendorauth"
)

const (
	signedAK     = "test-ak"
	signedSecret = "test-secret"
)

// startSigned runs the broker behind the signed authenticator; unsigned
// clients are refused.
func startSigned(t *testing.T, attachTimeout time.Duration) *env {
	v := &vendorauth.Verifier{Secret: vendorauth.SingleKey(signedAK, signedSecret)}
	refuse := amqp.AuthenticatorFunc(func(context.Context, amqp.Credentials) (*amqp.Principal, error) {
		return nil, amqp.ErrAuthFailed
	})
	return startB(t, func(c *amqp.Config) {
		c.Authenticator = brokerbackend.SignedAuthenticator(v, refuse)
		c.AttachTimeout = attachTimeout
	})
}

// signedUser builds credentials the way the official Go sample does.
func signedUser(t *testing.T, clientID, group, secret string) goamqp.SASLType {
	t.Helper()
	id := &vendorauth.Identity{AuthMode: "aksign", SignMethod: "hmacsha1", AccessKeyID: signedAK, Timestamp: "42"}
	pass, err := vendorauth.Sign(id, secret)
	if err != nil {
		t.Fatal(err)
	}
	user := clientID + "|authMode=aksign,signMethod=Hmacsha1,consumerGroupId=" + group + ",authId=" + signedAK + ",iotInstanceId=,timestamp=42|"
	return goamqp.SASLTypePlain(user, pass)
}

func dialSigned(t *testing.T, e *env, sasl goamqp.SASLType) (*goamqp.Conn, error) {
	t.Helper()
	conn, err := goamqp.Dial(ctxT(t), "amqp://"+e.addr, &goamqp.ConnOptions{SASLType: sasl})
	if err == nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, err
}

// The samples name "default", "/queue-name", "queueName" or no address: a
// signed connection consumes its consumerGroupId whatever the source says.
func TestSignedConnectionBoundToGroup(t *testing.T) {
	e := startSigned(t, 0)
	g, err := e.b.CreateGroup(ctxT(t), "signed_group")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.b.SetSubscription(ctxT(t), "pk1", broker.Subscription{Groups: []string{g.ID}}); err != nil {
		t.Fatal(err)
	}
	for _, source := range []string{"default", "/queue-name", "queueName", "", "DEFAULT_GROUP"} {
		conn, err := dialSigned(t, e, signedUser(t, "client-"+source, g.ID, signedSecret))
		if err != nil {
			t.Fatal(err)
		}
		sess, _ := conn.NewSession(ctxT(t), nil)
		rcv, err := sess.NewReceiver(ctxT(t), source, &goamqp.ReceiverOptions{Credit: 20})
		if err != nil {
			t.Fatalf("source %q: %v", source, err)
		}
		ids := e.publish(t, 1)
		m, err := rcv.Receive(ctxT(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if m.ApplicationProperties["messageId"] != ids[0] {
			t.Fatalf("source %q: got %v, want %s", source, m.ApplicationProperties, ids[0])
		}
		rcv.AcceptMessage(ctxT(t), m)
		if members := e.b.Members(g.ID); len(members) != 1 || members[0].ClientID != "client-"+source {
			t.Fatalf("members %+v", members)
		}
		conn.Close()
		waitMembers(t, e.b, g.ID, 0)
	}
}

func TestSignedConnectionLimits(t *testing.T) {
	e := startSigned(t, 0)
	conn, err := dialSigned(t, e, signedUser(t, "c1", broker.DefaultGroupID, signedSecret))
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := conn.NewSession(ctxT(t), nil)
	_, err = sess.NewSender(ctxT(t), "/pk1/dev1/user/update", nil)
	wantCondition(t, err, "amqp:not-allowed")
	if _, err := sess.NewReceiver(ctxT(t), "", nil); err != nil {
		t.Fatal(err)
	}
	_, err = sess.NewReceiver(ctxT(t), "", nil)
	wantCondition(t, err, "amqp:resource-limit-exceeded")
}

func TestSignedRefusals(t *testing.T) {
	e := startSigned(t, 0)
	for name, sasl := range map[string]goamqp.SASLType{
		"wrong secret":   signedUser(t, "c1", broker.DefaultGroupID, "not-the-secret"),
		"unsigned user":  goamqp.SASLTypePlain("plain-user", "x"),
		"malformed":      goamqp.SASLTypePlain("c1|authMode=aksign|", "x"),
		"unknown method": goamqp.SASLTypePlain("c1|authMode=aksign,signMethod=rsa,consumerGroupId=G,authId=a,timestamp=1|", "x"),
	} {
		_, err := dialSigned(t, e, sasl)
		if err == nil || !strings.Contains(err.Error(), "auth") {
			t.Errorf("%s: dial gave %v, want an authentication failure", name, err)
		}
	}
	conn, err := dialSigned(t, e, signedUser(t, "c1", "NO_SUCH_GROUP", signedSecret))
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := conn.NewSession(ctxT(t), nil)
	_, err = sess.NewReceiver(ctxT(t), "default", nil)
	wantCondition(t, err, "amqp:not-found")
	if !strings.Contains(err.Error(), "NO_SUCH_GROUP") {
		t.Fatalf("error %v does not name the group", err)
	}
}

// A signed connection that attaches no receiver is closed.
func TestSignedConnectionMustAttach(t *testing.T) {
	e := startSigned(t, 300*time.Millisecond)
	conn, err := dialSigned(t, e, signedUser(t, "idle", broker.DefaultGroupID, signedSecret))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-conn.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("connection still open")
	}
	var connErr *goamqp.ConnError
	if err := conn.Err(); !errors.As(err, &connErr) || connErr.RemoteErr == nil ||
		!strings.Contains(connErr.RemoteErr.Description, "no receiver link") {
		t.Fatalf("closed with %v", err)
	}
}

func wantCondition(t *testing.T, err error, cond string) {
	t.Helper()
	// go-amqp returns a refused attach as *Error, a later detach as *LinkError.
	var remote *goamqp.Error
	var linkErr *goamqp.LinkError
	if errors.As(err, &linkErr) {
		remote = linkErr.RemoteErr
	} else {
		errors.As(err, &remote)
	}
	if remote == nil || string(remote.Condition) != cond {
		t.Fatalf("got %v, want %s", err, cond)
	}
}

func waitMembers(t *testing.T, b *broker.Broker, id string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(b.Members(id)) != n {
		if time.Now().After(deadline) {
			t.Fatalf("group %s has %d members, want %d", id, len(b.Members(id)), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Qpid JMS consumes with a prefetch of 1000: a signed receiver granting
// credit 1000 gets a backlog larger than that, every message once.
func TestSignedReceiverCredit1000(t *testing.T) {
	e := startSigned(t, 0)
	ids := e.publish(t, 1500)
	conn, err := dialSigned(t, e, signedUser(t, "jms-1", broker.DefaultGroupID, signedSecret))
	if err != nil {
		t.Fatal(err)
	}
	sess, _ := conn.NewSession(ctxT(t), nil)
	rcv, err := sess.NewReceiver(ctxT(t), "default", &goamqp.ReceiverOptions{Credit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[any]bool{}
	for range ids {
		m, err := rcv.Receive(ctxT(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if seen[m.ApplicationProperties["messageId"]] {
			t.Fatalf("%v delivered twice", m.ApplicationProperties["messageId"])
		}
		seen[m.ApplicationProperties["messageId"]] = true
		rcv.AcceptMessage(ctxT(t), m)
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("%s never delivered", id)
		}
	}
}
