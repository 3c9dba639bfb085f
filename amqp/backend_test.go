package amqp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	goamqp "github.com/Azure/go-amqp"

	"github.com/amqpemu/amqpemu/amqp"
	"github.com/amqpemu/amqpemu/amqp/frames"
)

// pickyBackend wraps a backend: it refuses links to "forbidden", and rejects
// messages sent to "reject" with an error the client must see.
type pickyBackend struct{ amqp.Backend }

func (p pickyBackend) OpenConsumer(ctx context.Context, req amqp.LinkRequest, out amqp.Deliverer) (amqp.Consumer, error) {
	if req.Address == "forbidden" {
		return nil, &frames.Error{Condition: frames.ErrCondUnauthorizedAccess, Description: "not for you"}
	}
	return p.Backend.OpenConsumer(ctx, req, out)
}

func (p pickyBackend) OpenProducer(ctx context.Context, req amqp.LinkRequest) (amqp.Producer, error) {
	if req.Address == "forbidden" {
		return nil, errors.New("backend unavailable")
	}
	prod, err := p.Backend.OpenProducer(ctx, req)
	if req.Address == "reject" {
		return rejecter{prod}, err
	}
	return prod, err
}

type rejecter struct{ amqp.Producer }

func (rejecter) Publish(_ []byte, _ uint32, done func(amqp.Outcome)) {
	done(amqp.Outcome{Kind: amqp.Rejected, Error: &frames.Error{Condition: "app:too-big", Description: "payload rejected"}})
}

func TestBackendRefusalsAndRejections(t *testing.T) {
	ts := startServer(t, func(c *amqp.Config) { c.Backend = pickyBackend{c.Backend} })
	_, sess := dial(t, ts, nil)
	ctx := ctxT(t)

	// go-amqp reports the detach error of a refused link as its *Error.
	_, err := sess.NewReceiver(ctx, "forbidden", nil)
	var re *goamqp.Error
	if !errors.As(err, &re) || re.Condition != goamqp.ErrCondUnauthorizedAccess {
		t.Fatalf("receiver on forbidden: %v", err)
	}
	_, err = sess.NewSender(ctx, "forbidden", nil)
	if !errors.As(err, &re) || re.Condition != goamqp.ErrCondInternalError || !strings.Contains(re.Description, "backend unavailable") {
		t.Fatalf("sender on forbidden: %v", err)
	}

	snd, err := sess.NewSender(ctx, "reject", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = snd.Send(ctx, goamqp.NewMessage([]byte("x")), nil)
	if !errors.As(err, &re) || re.Condition != "app:too-big" {
		t.Fatalf("send to reject: %v", err)
	}
	// The session survives link refusals and rejections.
	if err := echoOnce(ctx, sess, "still-fine"); err != nil {
		t.Fatal(err)
	}
}

func TestAuthenticatorSeesCredentials(t *testing.T) {
	got := make(chan amqp.Credentials, 1)
	ts := startServer(t, func(c *amqp.Config) {
		c.Authenticator = amqp.AuthenticatorFunc(func(_ context.Context, cr amqp.Credentials) (*amqp.Principal, error) {
			got <- cr
			if cr.Password != "right" {
				return nil, amqp.ErrAuthFailed
			}
			return &amqp.Principal{Name: cr.Username}, nil
		})
	})
	ctx := ctxT(t)
	conn, err := goamqp.Dial(ctx, "amqp://"+ts.addr, &goamqp.ConnOptions{SASLType: goamqp.SASLTypePlain("alice", "right")})
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	cr := <-got
	if cr.Username != "alice" || cr.Mechanism != "PLAIN" || cr.Remote == nil {
		t.Fatalf("credentials %+v", cr)
	}
	_, err = goamqp.Dial(ctx, "amqp://"+ts.addr, &goamqp.ConnOptions{SASLType: goamqp.SASLTypePlain("alice", "wrong")})
	if err == nil {
		t.Fatal("wrong password accepted")
	}
	<-got
}

// TestTLS serves amqps on a listener made with tls.Listen and round-trips.
func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	srv := amqp.NewServer(amqp.Config{Backend: startServer(t).backend})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	ctx := ctxT(t)
	conn, err := goamqp.Dial(ctx, "amqps://"+ln.Addr().String(), &goamqp.ConnOptions{
		TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := conn.NewSession(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := echoOnce(ctx, sess, "over-tls"); err != nil {
		t.Fatal(err)
	}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
