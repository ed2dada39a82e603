package ldapsync_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

// testCA makes a CA and a server certificate for names; it returns the
// server's tls.Config and the CA in PEM.
func testCA(t *testing.T, names ...string) (*tls.Config, string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tpl.IPAddresses = append(tpl.IPAddresses, ip)
		} else {
			tpl.DNSNames = append(tpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return cfg, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
}

func TestTLS(t *testing.T) {
	good, caPEM := testCA(t, "127.0.0.1", "dc1.example.com")
	_, otherCA := testCA(t, "127.0.0.1")
	wrongName, wrongNameCA := testCA(t, "dc1.example.com")

	tests := []struct {
		name   string
		server *tls.Config
		ldaps  bool
		sec    bridge.Security
		ca     string
		skip   bool
		want   string // "" means success; else the error's prefix, %s = addr
	}{
		{"starttls", good, false, bridge.SecurityStartTLS, caPEM, false, ""},
		{"ldaps", good, true, bridge.SecurityLDAPS, caPEM, false, ""},
		{"ldaps unknown CA", good, true, bridge.SecurityLDAPS, otherCA, false,
			"TLS handshake with %s failed: the server's certificate is not signed by a trusted CA (set caCertificate)"},
		{"starttls unknown CA", good, false, bridge.SecurityStartTLS, otherCA, false,
			"TLS handshake with %s failed: the server's certificate is not signed by a trusted CA (set caCertificate)"},
		{"ldaps host name mismatch", wrongName, true, bridge.SecurityLDAPS, wrongNameCA, false,
			"TLS handshake with %s failed: the server's certificate does not match the host name"},
		{"insecureSkipVerify", wrongName, true, bridge.SecurityLDAPS, "", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, facts, c := startSample(t, adsim.Options{TLS: tt.server, LDAPS: tt.ldaps})
			_ = facts
			c.Security, c.CACertificate, c.InsecureSkipVerify = tt.sec, tt.ca, tt.skip
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			d, err := ldapsync.Open(context.Background(), c, adsim.SamplePassword, log)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				defer d.Close()
				if _, err := d.Count(context.Background(), bridge.Scope{BaseDN: sampleBase}); err != nil {
					t.Fatalf("Count over TLS: %v", err)
				}
			} else {
				want := strings.ReplaceAll(tt.want, "%s", srv.Addr())
				if err == nil || !strings.HasPrefix(err.Error(), want) || ldapsync.Classify(err) != ldapsync.KindTLS {
					t.Fatalf("error = %v\nwant prefix %q", err, want)
				}
			}
			warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "insecureSkipVerify")
			if warned != tt.skip {
				t.Fatalf("warning logged = %v, want %v:\n%s", warned, tt.skip, logs.String())
			}
		})
	}
}
