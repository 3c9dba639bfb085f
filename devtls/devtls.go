// Package devtls generates and keeps the development TLS material amqpemu
// serves amqps (5671) and stomps (61614) with: a long-lived development CA
// that users trust once, and a short-lived server certificate signed by it
// that is re-issued whenever it no longer fits.
//
// Layout of the directory passed to Ensure (amqpemu uses DATA/tls):
//
//	ca.pem          the development CA certificate: what users trust
//	ca-key.pem      its key (0600)
//	server.pem      the server certificate followed by ca.pem (a full chain)
//	server-key.pem  the server key (0600)
package devtls

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// File names inside the directory given to Ensure.
const (
	CACertName     = "ca.pem"
	CAKeyName      = "ca-key.pem"
	ServerCertName = "server.pem"
	ServerKeyName  = "server-key.pem"
)

const (
	caCommonName     = "amqpemu development CA"
	serverCommonName = "localhost"
	caValidityYears  = 10
	// serverValidity is the longest lifetime Apple clients accept for a
	// TLS server certificate.
	serverValidity = 825 * 24 * time.Hour
	// renewBefore re-issues the server certificate well before it expires,
	// so a long-running emulator restarted now and then never serves an
	// expired one.
	renewBefore = 30 * 24 * time.Hour
	// backdate tolerates clients whose clocks run behind ours.
	backdate = time.Hour
)

// defaultHosts are always in the server certificate: the addresses a local
// client uses to reach the emulator.
var defaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// ensureMu serialises Ensure within a process: amqps and stomps may start
// concurrently and must not both create a CA, leaving a ca.pem from one
// and a ca-key.pem from the other.
var ensureMu sync.Mutex

// Material is the TLS material a server uses.
type Material struct {
	// Certificate is the server certificate chain (leaf, then CA when
	// known) with its private key; Leaf is set.
	Certificate tls.Certificate
	// CAFile is the path of ca.pem: what users trust (SSL_CERT_FILE,
	// NODE_EXTRA_CA_CERTS, a Java truststore). Empty for LoadKeyPair.
	CAFile string
	// CertFile and KeyFile are the server certificate and key files.
	CertFile, KeyFile string
	// Generated reports that something was (re)generated on this call.
	Generated bool
}

// Ensure loads, or creates on first use, the development CA and a server
// certificate under dir. The server certificate names localhost, 127.0.0.1
// and ::1 plus extraHosts (IP literals become IP SANs, anything else DNS
// SANs). It is re-issued by the same CA when it does not cover every
// requested host, expires within 30 days, or no longer chains to ca.pem.
// The CA is created only when ca.pem and ca-key.pem are both absent; any
// other problem with them is an error, because users may trust that CA.
func Ensure(dir string, extraHosts []string) (*Material, error) {
	hs, err := parseHosts(append(append([]string(nil), defaultHosts...), extraHosts...))
	if err != nil {
		return nil, err
	}
	ensureMu.Lock()
	defer ensureMu.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devtls: creating %s: %w", dir, err)
	}
	ca, caKey, caNew, err := loadOrCreateCA(dir)
	if err != nil {
		return nil, err
	}
	leaf, key, srvNew, err := loadOrIssueServer(dir, ca, caKey, hs)
	if err != nil {
		return nil, err
	}
	return &Material{
		Certificate: tls.Certificate{
			Certificate: [][]byte{leaf.Raw, ca.Raw},
			PrivateKey:  key,
			Leaf:        leaf,
		},
		CAFile:    filepath.Join(dir, CACertName),
		CertFile:  filepath.Join(dir, ServerCertName),
		KeyFile:   filepath.Join(dir, ServerKeyName),
		Generated: caNew || srvNew,
	}, nil
}

// ServerConfig returns a tls.Config serving m with TLS 1.2 or later.
//
// It sends no session tickets: TLS 1.3 sends them just after the
// handshake, and stomp.py (the vendor's Python 3 sample) reads and writes
// its TLS socket from two threads at once, so a ticket arriving while it
// writes CONNECT can swallow the frame. Resumption buys a local emulator
// nothing.
func (m *Material) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:             tls.VersionTLS12,
		Certificates:           []tls.Certificate{m.Certificate},
		SessionTicketsDisabled: true,
	}
}

// LoadKeyPair loads user-supplied PEM files (--tls-cert/--tls-key). Each
// file is checked on its own first so the error names the file at fault
// rather than tls.X509KeyPair's anonymous message.
func LoadKeyPair(certFile, keyFile string) (*Material, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("devtls: TLS certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("devtls: TLS key: %w", err)
	}
	if _, err := parseCertPEM(certPEM); err != nil {
		return nil, fmt.Errorf("devtls: TLS certificate %s: %w", certFile, err)
	}
	if _, err := parseKeyPEM(keyPEM); err != nil {
		return nil, fmt.Errorf("devtls: TLS key %s: %w", keyFile, err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("devtls: TLS key %s does not belong to the certificate in %s: %w", keyFile, certFile, err)
	}
	if pair.Leaf == nil { // only with GODEBUG=x509keypairleaf=0
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("devtls: TLS certificate %s: %w", certFile, err)
		}
	}
	return &Material{Certificate: pair, CertFile: certFile, KeyFile: keyFile}, nil
}

// loadOrCreateCA returns the CA under dir, creating it only when neither
// of its files exists. A half-present or broken CA is never replaced:
// users may have installed ca.pem, and a new CA would silently break them.
func loadOrCreateCA(dir string) (*x509.Certificate, crypto.Signer, bool, error) {
	certPath, keyPath := filepath.Join(dir, CACertName), filepath.Join(dir, CAKeyName)
	certThere, err := present(certPath)
	if err != nil {
		return nil, nil, false, caError(dir, "%s cannot be read: %v", certPath, err)
	}
	keyThere, err := present(keyPath)
	if err != nil {
		return nil, nil, false, caError(dir, "%s cannot be read: %v", keyPath, err)
	}
	switch {
	case !certThere && !keyThere:
		ca, key, err := createCA(dir)
		return ca, key, err == nil, err
	case !certThere:
		return nil, nil, false, caError(dir, "%s is missing but %s exists", certPath, keyPath)
	case !keyThere:
		return nil, nil, false, caError(dir, "%s is missing but %s exists", keyPath, certPath)
	}
	ca, key, err := loadCA(dir, certPath, keyPath)
	return ca, key, false, err
}

// loadCA reads an existing CA and checks it can still sign server
// certificates that clients will accept.
func loadCA(dir, certPath, keyPath string) (*x509.Certificate, crypto.Signer, error) {
	ca, err := readCertFile(certPath)
	if err != nil {
		return nil, nil, caError(dir, "%v", err)
	}
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, nil, caError(dir, "%s is not a CA certificate", certPath)
	}
	if time.Now().After(ca.NotAfter) {
		return nil, nil, caError(dir, "%s expired on %s", certPath, ca.NotAfter.Format(time.DateOnly))
	}
	key, err := readKeyFile(keyPath)
	if err != nil {
		return nil, nil, caError(dir, "%v", err)
	}
	if !samePublicKey(ca.PublicKey, key.Public()) {
		return nil, nil, caError(dir, "%s is not the key of %s", keyPath, certPath)
	}
	return ca, key, nil
}

// caError explains why the CA is unusable and how to start over; the
// remedy is manual on purpose (see loadOrCreateCA).
func caError(dir, format string, args ...any) error {
	return fmt.Errorf("devtls: development CA: %s; it is not replaced automatically because clients may trust it: "+
		"remove the directory %s to start over with a new CA (then trust the new %s)",
		fmt.Sprintf(format, args...), dir, CACertName)
}

// present reports whether path exists. Lstat, so that a dangling symlink
// counts as present and is reported rather than overwritten.
func present(path string) (bool, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// createCA generates the development CA and stores it under dir.
func createCA(dir string) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("devtls: generating CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	notBefore := time.Now().Add(-backdate)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: caCommonName, Organization: []string{"amqpemu"}},
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(caValidityYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true, // it signs leaves only
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("devtls: creating CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("devtls: parsing new CA certificate: %w", err)
	}
	// The key goes first: ca.pem existing then implies its key is complete.
	if err := writeKeyFile(filepath.Join(dir, CAKeyName), key); err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, CACertName), certPEM(der), 0o644); err != nil {
		return nil, nil, err
	}
	return ca, key, nil
}

// loadOrIssueServer returns the stored server certificate if it still
// fits, and otherwise issues and stores a new one.
func loadOrIssueServer(dir string, ca *x509.Certificate, caKey crypto.Signer, hs hosts) (*x509.Certificate, crypto.Signer, bool, error) {
	certPath, keyPath := filepath.Join(dir, ServerCertName), filepath.Join(dir, ServerKeyName)
	if leaf, key, ok := loadServer(certPath, keyPath, ca, hs); ok {
		return leaf, key, false, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, false, fmt.Errorf("devtls: generating server key: %w", err)
	}
	notBefore := time.Now().Add(-backdate)
	notAfter := notBefore.Add(serverValidity)
	if notAfter.After(ca.NotAfter) { // a leaf outliving its CA fails anyway
		notAfter = ca.NotAfter
	}
	der, err := signServerCert(ca, caKey, key, hs, notBefore, notAfter)
	if err != nil {
		return nil, nil, false, err
	}
	leaf, err := storeServer(dir, der, ca, key)
	return leaf, key, err == nil, err
}

// loadServer returns the stored server certificate and key when they can
// be served as they are. Any defect, including unreadable files, just
// means re-issuing: unlike the CA, nobody trusts this certificate directly.
func loadServer(certPath, keyPath string, ca *x509.Certificate, hs hosts) (*x509.Certificate, crypto.Signer, bool) {
	leaf, err := readCertFile(certPath)
	if err != nil {
		return nil, nil, false
	}
	key, err := readKeyFile(keyPath)
	if err != nil || !samePublicKey(leaf.PublicKey, key.Public()) {
		return nil, nil, false
	}
	if !chainsTo(leaf, ca) || !hs.coveredBy(leaf) || renewalDue(leaf, ca) {
		return nil, nil, false
	}
	return leaf, key, true
}

// chainsTo reports whether leaf verifies as a server certificate against
// ca alone right now; this also catches leaves not yet or no longer valid.
func chainsTo(leaf, ca *x509.Certificate) bool {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err == nil
}

// renewalDue reports whether leaf expires within renewBefore. A leaf that
// already ends with its CA cannot be improved on, so it is kept rather
// than re-issued on every start during the CA's last month.
func renewalDue(leaf, ca *x509.Certificate) bool {
	return time.Now().Add(renewBefore).After(leaf.NotAfter) && leaf.NotAfter.Before(ca.NotAfter)
}

// signServerCert issues a server certificate for key and hs, signed by ca.
func signServerCert(ca *x509.Certificate, caKey crypto.Signer, key crypto.Signer, hs hosts, notBefore, notAfter time.Time) ([]byte, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: serverCommonName, Organization: []string{"amqpemu"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature, // ECDSA: no key encipherment
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              hs.dns,
		IPAddresses:           hs.ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("devtls: creating server certificate: %w", err)
	}
	return der, nil
}

// storeServer writes the server key and the chain (leaf, then CA) so that
// server.pem/server-key.pem also work as --tls-cert/--tls-key elsewhere.
// A crash between the two writes leaves a mismatched pair, which the next
// Ensure detects and re-issues.
func storeServer(dir string, der []byte, ca *x509.Certificate, key crypto.Signer) (*x509.Certificate, error) {
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("devtls: parsing new server certificate: %w", err)
	}
	if err := writeKeyFile(filepath.Join(dir, ServerKeyName), key); err != nil {
		return nil, err
	}
	chain := append(certPEM(der), certPEM(ca.Raw)...)
	if err := writeFileAtomic(filepath.Join(dir, ServerCertName), chain, 0o644); err != nil {
		return nil, err
	}
	return leaf, nil
}

// randomSerial returns a random positive 128-bit serial number, so
// re-issued certificates never collide in clients' caches.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	n, err := rand.Int(rand.Reader, limit.Sub(limit, big.NewInt(1)))
	if err != nil {
		return nil, fmt.Errorf("devtls: generating serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil // in [1, 2^128-1]: RFC 5280 wants positive
}

// samePublicKey compares public keys of any type crypto/x509 parses.
func samePublicKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
