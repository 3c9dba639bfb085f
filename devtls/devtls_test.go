package devtls

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const day = 24 * time.Hour

func mustEnsure(t *testing.T, dir string, hosts ...string) *Material {
	t.Helper()
	m, err := Ensure(dir, hosts)
	if err != nil {
		t.Fatalf("Ensure(%q, %q): %v", dir, hosts, err)
	}
	return m
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// caPool is what a user gets by trusting ca.pem.
func caPool(t *testing.T, m *Material) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(mustRead(t, m.CAFile)) {
		t.Fatalf("no certificate in %s", m.CAFile)
	}
	return pool
}

func verifyHost(leaf *x509.Certificate, pool *x509.CertPool, host string) error {
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

func TestEnsureGeneratesOnceThenReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "tls")
	m1 := mustEnsure(t, dir, "broker.test")
	if !m1.Generated {
		t.Error("first Ensure: Generated = false")
	}
	m2 := mustEnsure(t, dir, "broker.test")
	if m2.Generated {
		t.Error("second Ensure with the same hosts: Generated = true")
	}
	if !slices.EqualFunc(m1.Certificate.Certificate, m2.Certificate.Certificate, bytes.Equal) {
		t.Error("second Ensure returned different certificates")
	}
	if len(m2.Certificate.Certificate) != 2 || m2.Certificate.Leaf == nil {
		t.Fatalf("want chain of leaf and CA with Leaf set, got %d certs, Leaf %v", len(m2.Certificate.Certificate), m2.Certificate.Leaf)
	}
	if m2.CAFile != filepath.Join(dir, CACertName) || m2.CertFile != filepath.Join(dir, ServerCertName) || m2.KeyFile != filepath.Join(dir, ServerKeyName) {
		t.Errorf("paths = %q %q %q", m2.CAFile, m2.CertFile, m2.KeyFile)
	}
	checkCA(t, m2)
	checkLeaf(t, m2.Certificate.Leaf)
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{CAKeyName, CACertName, ServerKeyName, ServerCertName}; !slices.Equal(names, want) {
		t.Errorf("files = %q, want %q (no temporary files left)", names, want)
	}
}

func checkCA(t *testing.T, m *Material) {
	t.Helper()
	ca, err := x509.ParseCertificate(m.Certificate.Certificate[1])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(certPEM(ca.Raw), mustRead(t, m.CAFile)) {
		t.Error("chain's CA differs from ca.pem")
	}
	if ca.Subject.CommonName != "amqpemu development CA" || !ca.IsCA || !ca.MaxPathLenZero || ca.MaxPathLen != 0 {
		t.Errorf("CA: CN %q IsCA %v MaxPathLen %d zero %v", ca.Subject.CommonName, ca.IsCA, ca.MaxPathLen, ca.MaxPathLenZero)
	}
	if ca.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("CA KeyUsage = %v", ca.KeyUsage)
	}
	if got := ca.NotAfter.Sub(ca.NotBefore); got < 3650*day || got > 3653*day {
		t.Errorf("CA validity = %v, want 10 years", got)
	}
	checkP256(t, ca)
}

func checkLeaf(t *testing.T, leaf *x509.Certificate) {
	t.Helper()
	if leaf.Subject.CommonName != "localhost" || leaf.IsCA || !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("leaf: CN %q IsCA %v ExtKeyUsage %v", leaf.Subject.CommonName, leaf.IsCA, leaf.ExtKeyUsage)
	}
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got != 825*day {
		t.Errorf("leaf validity = %v, want 825 days", got)
	}
	if skew := time.Since(leaf.NotBefore); skew < 59*time.Minute || skew > 61*time.Minute {
		t.Errorf("leaf NotBefore is %v in the past, want one hour", skew)
	}
	if leaf.SerialNumber.Sign() <= 0 || leaf.SerialNumber.BitLen() > 128 {
		t.Errorf("serial %v not a positive 128-bit number", leaf.SerialNumber)
	}
	checkP256(t, leaf)
}

func checkP256(t *testing.T, c *x509.Certificate) {
	t.Helper()
	if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("%s: public key %T is not ECDSA P-256", c.Subject.CommonName, c.PublicKey)
	}
}

func TestServerCertVerifiesRequestedHostsOnly(t *testing.T) {
	m := mustEnsure(t, t.TempDir(), "broker.test", "192.0.2.10", "2001:db8::5")
	pool := caPool(t, m)
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "broker.test", "BROKER.test", "192.0.2.10", "2001:db8::5"} {
		if err := verifyHost(m.Certificate.Leaf, pool, h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	for _, h := range []string{"example.com", "other.broker.test", "192.0.2.11", "10.0.0.1"} {
		if err := verifyHost(m.Certificate.Leaf, pool, h); err == nil {
			t.Errorf("%s (not requested) verified", h)
		}
	}
}

func TestHostsAreNormalisedAndDeduplicated(t *testing.T) {
	m := mustEnsure(t, t.TempDir(), "Broker.Example.", " broker.example ", "LOCALHOST", "[2001:DB8::1]",
		"::ffff:192.0.2.1", "192.0.2.1", "127.0.0.1", "*.apps.test", "svc_name")
	leaf := m.Certificate.Leaf
	if want := []string{"localhost", "broker.example", "*.apps.test", "svc_name"}; !slices.Equal(leaf.DNSNames, want) {
		t.Errorf("DNSNames = %q, want %q", leaf.DNSNames, want)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if want := []string{"127.0.0.1", "::1", "2001:db8::1", "192.0.2.1"}; !slices.Equal(ips, want) {
		t.Errorf("IPAddresses = %q, want %q", ips, want)
	}
	if err := verifyHost(leaf, caPool(t, m), "x.apps.test"); err != nil {
		t.Errorf("wildcard: %v", err)
	}
}

func TestInvalidHostsAreErrors(t *testing.T) {
	for _, h := range []string{"", "  ", "bad host", "a..b", "-lead.test", "trail-.test", "host:5671",
		"fe80::1%eth0", "ünïcode.test", "127.1", "10.0.0.256", "*", "a.*.test", "amqps://x.test",
		strings.Repeat("a", 64) + ".test"} {
		dir := filepath.Join(t.TempDir(), "tls")
		_, err := Ensure(dir, []string{"fine.test", h})
		if err == nil {
			t.Errorf("%q: no error", h)
			continue
		}
		if q := fmt.Sprintf("%q", h); !strings.Contains(err.Error(), q) {
			t.Errorf("%q: error %q does not name the entry", h, err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%q: directory created despite the bad host", h)
		}
	}
}

func TestAddingHostReissuesWithSameCA(t *testing.T) {
	dir := t.TempDir()
	m1 := mustEnsure(t, dir)
	caBefore := mustRead(t, m1.CAFile)
	m2 := mustEnsure(t, dir, "added.test")
	if !m2.Generated {
		t.Error("adding a host: Generated = false")
	}
	if !bytes.Equal(caBefore, mustRead(t, m2.CAFile)) {
		t.Error("ca.pem changed")
	}
	if bytes.Equal(m1.Certificate.Leaf.Raw, m2.Certificate.Leaf.Raw) {
		t.Error("server certificate not re-issued")
	}
	if m1.Certificate.Leaf.SerialNumber.Cmp(m2.Certificate.Leaf.SerialNumber) == 0 {
		t.Error("re-issued certificate reuses the serial number")
	}
	if err := verifyHost(m2.Certificate.Leaf, caPool(t, m1), "added.test"); err != nil {
		t.Errorf("added.test against the old ca.pem: %v", err)
	}
	// Dropping the host again keeps the certificate: it still covers everything asked.
	if m3 := mustEnsure(t, dir); m3.Generated || !bytes.Equal(m3.Certificate.Leaf.Raw, m2.Certificate.Leaf.Raw) {
		t.Error("dropping a host re-issued the certificate")
	}
}

// writeServerCert stores a server certificate signed by dir's CA with the
// given validity, as a previous run might have left it.
func writeServerCert(t *testing.T, dir string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	ca, caKey, err := loadCA(dir, filepath.Join(dir, CACertName), filepath.Join(dir, CAKeyName))
	if err != nil {
		t.Fatal(err)
	}
	hs, err := parseHosts(defaultHosts)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := signServerCert(ca, caKey, key, hs, notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := storeServer(dir, der, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func TestExpiringServerCertIsReissued(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name      string
		notBefore time.Time
		notAfter  time.Time
		reissue   bool
	}{
		{"40 days left", now.Add(-800 * day), now.Add(40 * day), false},
		{"10 days left", now.Add(-800 * day), now.Add(10 * day), true},
		{"expired", now.Add(-825 * day), now.Add(-day), true},
		{"not yet valid", now.Add(day), now.Add(800 * day), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			caBefore := mustRead(t, mustEnsure(t, dir).CAFile)
			old := writeServerCert(t, dir, tc.notBefore, tc.notAfter)
			m := mustEnsure(t, dir)
			if reissued := !bytes.Equal(m.Certificate.Leaf.Raw, old.Raw); reissued != tc.reissue || m.Generated != tc.reissue {
				t.Fatalf("re-issued %v, Generated %v; want %v", reissued, m.Generated, tc.reissue)
			}
			if tc.reissue && m.Certificate.Leaf.NotAfter.Before(now.Add(800*day)) {
				t.Errorf("new certificate expires %v", m.Certificate.Leaf.NotAfter)
			}
			if !bytes.Equal(caBefore, mustRead(t, m.CAFile)) {
				t.Error("ca.pem changed")
			}
		})
	}
}

func TestBrokenServerFilesAreReissued(t *testing.T) {
	other := mustEnsure(t, t.TempDir()) // a different CA and key
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"garbage server.pem", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, ServerCertName), []byte("garbage"))
		}},
		{"server-key.pem missing", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, ServerKeyName))
		}},
		{"server-key.pem of another certificate", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, ServerKeyName), mustRead(t, other.KeyFile))
		}},
		{"server pair signed by another CA", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, ServerCertName), mustRead(t, other.CertFile))
			mustWrite(t, filepath.Join(dir, ServerKeyName), mustRead(t, other.KeyFile))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			first := mustEnsure(t, dir)
			tc.damage(t, dir)
			m := mustEnsure(t, dir)
			if !m.Generated {
				t.Error("Generated = false")
			}
			if !bytes.Equal(mustRead(t, first.CAFile), mustRead(t, m.CAFile)) {
				t.Error("ca.pem changed")
			}
			if err := verifyHost(m.Certificate.Leaf, caPool(t, first), "localhost"); err != nil {
				t.Error(err)
			}
			if again := mustEnsure(t, dir); again.Generated {
				t.Error("repaired files re-issued once more")
			}
		})
	}
}

func TestCAProblemsAreErrors(t *testing.T) {
	other := mustEnsure(t, t.TempDir())
	for _, tc := range []struct {
		name     string
		damage   func(t *testing.T, dir string)
		wantFile string
	}{
		{"ca.pem missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, CACertName)) }, CACertName},
		{"ca-key.pem missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, CAKeyName)) }, CAKeyName},
		{"corrupt ca.pem", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, CACertName), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
		}, CACertName},
		{"empty ca.pem", func(t *testing.T, dir string) { mustWrite(t, filepath.Join(dir, CACertName), nil) }, CACertName},
		{"corrupt ca-key.pem", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, CAKeyName), []byte("not a key"))
		}, CAKeyName},
		{"ca-key.pem of another CA", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, CAKeyName), mustRead(t, filepath.Join(filepath.Dir(other.CAFile), CAKeyName)))
		}, CAKeyName},
		{"ca.pem not a CA", func(t *testing.T, dir string) {
			mustWrite(t, filepath.Join(dir, CACertName), mustRead(t, filepath.Join(dir, ServerCertName)))
		}, CACertName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			mustEnsure(t, dir)
			tc.damage(t, dir)
			certBefore, _ := os.ReadFile(filepath.Join(dir, CACertName))
			keyBefore, _ := os.ReadFile(filepath.Join(dir, CAKeyName))
			_, err := Ensure(dir, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.Contains(msg, filepath.Join(dir, tc.wantFile)) || !strings.Contains(msg, "remove the directory "+dir) {
				t.Errorf("error %q should name %s and tell to remove %s", msg, tc.wantFile, dir)
			}
			certAfter, _ := os.ReadFile(filepath.Join(dir, CACertName))
			keyAfter, _ := os.ReadFile(filepath.Join(dir, CAKeyName))
			if !bytes.Equal(certBefore, certAfter) || !bytes.Equal(keyBefore, keyAfter) {
				t.Error("CA files were modified")
			}
		})
	}
}

func TestKeyFilesArePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	dir := filepath.Join(t.TempDir(), "data", "tls")
	mustEnsure(t, dir)
	for name, want := range map[string]os.FileMode{
		".": os.ModeDir | 0o700, CAKeyName: 0o600, ServerKeyName: 0o600, CACertName: 0o644, ServerCertName: 0o644,
	} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode(), want)
		}
	}
}

// serveEcho accepts TLS connections and echoes one line on each.
func serveEcho(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 5)
				if _, err := io.ReadFull(c, buf); err == nil {
					c.Write(buf)
				}
			})
		}
	})
	return ln.Addr().String()
}

func TestTLSHandshake(t *testing.T) {
	m := mustEnsure(t, t.TempDir())
	addr := serveEcho(t, m.ServerConfig())
	pool := caPool(t, m)
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		t.Run(name, func(t *testing.T) {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr,
				&tls.Config{RootCAs: pool, ServerName: name})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write([]byte("ping\n")); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 5)
			if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping\n" {
				t.Fatalf("read %q, %v", got, err)
			}
			if !c.ConnectionState().PeerCertificates[0].Equal(m.Certificate.Leaf) {
				t.Error("peer certificate is not the server certificate")
			}
		})
	}
	t.Run("untrusted name", func(t *testing.T) {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "example.com"})
		if err == nil {
			c.Close()
			t.Fatal("handshake succeeded for a name not in the certificate")
		}
	})
	t.Run("TLS 1.1 refused", func(t *testing.T) {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost",
			MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		if err == nil {
			c.Close()
			t.Fatal("TLS 1.1 handshake succeeded")
		}
	})
}

func TestOpenSSLVerify(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	m := mustEnsure(t, t.TempDir(), "broker.test")
	for _, args := range [][]string{
		{"-CAfile", m.CAFile, m.CertFile},
		{"-CAfile", m.CAFile, "-purpose", "sslserver", "-verify_hostname", "broker.test", m.CertFile},
		{"-CAfile", m.CAFile, "-purpose", "sslserver", "-verify_ip", "::1", m.CertFile},
	} {
		out, err := exec.Command(openssl, append([]string{"verify"}, args...)...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), ": OK") {
			t.Errorf("openssl verify %q: %v\n%s", args, err, out)
		}
	}
	out, err := exec.Command(openssl, "verify", "-CAfile", m.CAFile, "-verify_hostname", "example.com", m.CertFile).CombinedOutput()
	if err == nil {
		t.Errorf("openssl accepted a name not in the certificate:\n%s", out)
	}
}

func TestLoadKeyPair(t *testing.T) {
	m := mustEnsure(t, t.TempDir())
	other := mustEnsure(t, t.TempDir())
	missing := filepath.Join(t.TempDir(), "missing.pem")
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	mustWrite(t, garbage, []byte("garbage"))

	t.Run("good", func(t *testing.T) {
		got, err := LoadKeyPair(m.CertFile, m.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		if got.CAFile != "" || got.Generated || got.CertFile != m.CertFile || got.KeyFile != m.KeyFile || got.Certificate.Leaf == nil {
			t.Errorf("got %+v", got)
		}
		if !slices.EqualFunc(got.Certificate.Certificate, m.Certificate.Certificate, bytes.Equal) {
			t.Error("chain differs from Ensure's")
		}
		if got.ServerConfig().MinVersion != tls.VersionTLS12 {
			t.Error("ServerConfig below TLS 1.2")
		}
	})
	t.Run("SEC 1 EC key", func(t *testing.T) {
		key, err := readKeyFile(m.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
		if err != nil {
			t.Fatal(err)
		}
		sec1 := filepath.Join(t.TempDir(), "ec.pem")
		mustWrite(t, sec1, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
		if _, err := LoadKeyPair(m.CertFile, sec1); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		name, cert, key string
		wantFiles       []string
	}{
		{"missing cert", missing, m.KeyFile, []string{missing}},
		{"missing key", m.CertFile, missing, []string{missing}},
		{"garbage cert", garbage, m.KeyFile, []string{garbage}},
		{"garbage key", m.CertFile, garbage, []string{garbage}},
		{"cert given as key", m.CertFile, m.CertFile, []string{m.CertFile}},
		{"mismatched", m.CertFile, other.KeyFile, []string{m.CertFile, other.KeyFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadKeyPair(tc.cert, tc.key)
			if err == nil {
				t.Fatal("no error")
			}
			for _, f := range tc.wantFiles {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not name %s", err, f)
				}
			}
		})
	}
}

func TestConcurrentEnsure(t *testing.T) {
	dir := t.TempDir()
	results := make([]*Material, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			m, err := Ensure(dir, []string{"broker.test"})
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = m
		})
	}
	wg.Wait()
	generated := 0
	for _, m := range results {
		if m == nil {
			t.FailNow()
		}
		if m.Generated {
			generated++
		}
		if !slices.EqualFunc(m.Certificate.Certificate, results[0].Certificate.Certificate, bytes.Equal) {
			t.Error("concurrent Ensure calls returned different certificates")
		}
	}
	if generated != 1 {
		t.Errorf("%d calls generated, want exactly 1", generated)
	}
}
