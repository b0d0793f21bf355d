package ninefold

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// pemFiles writes a certificate and its key as PEM files.
func pemFiles(t *testing.T, dir, name string, der []byte, key *ecdsa.PrivateKey) {
	t.Helper()
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	k := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), cert, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), k, 0o600); err != nil {
		t.Fatal(err)
	}
}

// testCA makes a CA (files NAME.pem, NAME.key) and returns it with its key.
func testCA(t *testing.T, dir, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pemFiles(t, dir, name, der, key)
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca, key
}

// testLeaf makes a certificate signed by the CA (files NAME.pem, NAME.key).
func testLeaf(t *testing.T, dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, ips []net.IP) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "go-" + name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  ips,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pemFiles(t, dir, name, der, key)
}

// TestTLSTarget connects through tls:// targets whose query names the CA
// and the client certificate, against ninefold serve --listen tls://.
func TestTLSTarget(t *testing.T) {
	if os.Getenv("NINEFOLD_BENCH_TARGET") != "" {
		t.Skip("benchmark run against an outside server")
	}
	dir := t.TempDir()
	ca, caKey := testCA(t, dir, "ca")
	testCA(t, dir, "other")
	testLeaf(t, dir, "server", ca, caKey, []net.IP{net.ParseIP("127.0.0.1")})
	testLeaf(t, dir, "client", ca, caKey, nil)
	p := func(name string) string { return filepath.Join(dir, name) }

	cmd := exec.Command(ninefoldBin(), "serve", "--memory", "--listen", "tls://127.0.0.1:0",
		"--tls-cert", p("server.pem"), "--tls-key", p("server.key"),
		"--tls-client-ca", p("ca.pem"), "--tls-require-client-cert", "--log", "warn")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = dieWithUs()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	re := regexp.MustCompile(`listening on (tls://127\.0\.0\.1:\d+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				for sc.Scan() {
				}
				return
			}
		}
		close(found)
	}()
	var base string
	select {
	case b, ok := <-found:
		if !ok {
			t.Fatal("ninefold serve exited before listening on tls://")
		}
		base = b
	case <-time.After(20 * time.Second):
		t.Fatal("no tls:// listener within 20 s")
	}

	target := fmt.Sprintf("%s?ca=%s&cert=%s&key=%s", base, p("ca.pem"), p("client.pem"), p("client.key"))
	c, err := ClientConnect(target)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Write("/hello.txt", []byte("hello over tls")); err != nil {
		t.Fatal(err)
	}
	got, err := c.Read("/hello.txt")
	if err != nil || string(got) != "hello over tls" {
		t.Fatalf("read back %q, %v", got, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ query, want string }{
		{"?ca=" + p("other.pem"), "not signed by a trusted CA"},
		{"?ca=" + p("ca.pem"), "requires a client certificate"},
		{"?ca=" + p("ca.pem") + "&bogus=1", "unknown TLS parameter"},
	} {
		c, err := ClientConnect(base + tc.query)
		if err == nil {
			_ = c.Close()
			t.Fatalf("%s: connected", tc.query)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v (want %q)", tc.query, err, tc.want)
		}
	}
}
