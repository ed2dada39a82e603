package ldapsync

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"

	"github.com/scimbridge/scimbridge/bridge"
)

// tlsConfig builds the client TLS configuration once per Open: TLS 1.2 or
// newer, the server name checked against conn.Host, and the CA bundle from
// the settings when there is one (the system roots otherwise, which is what
// an AD with a public or enterprise-distributed CA needs).
func tlsConfig(c bridge.Connection, log *slog.Logger) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: c.Host,
	}
	if c.CACertificate != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(c.CACertificate)) {
			return nil, newError(KindTLS, nil, "caCertificate holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
		}
		cfg.RootCAs = pool
	}
	if c.InsecureSkipVerify {
		// Kept for labs only; say so loudly every time a connection is made.
		log.Warn("TLS certificate verification is OFF (insecureSkipVerify): anyone on the path can read the bind password and the directory",
			"host", c.Host)
		cfg.InsecureSkipVerify = true
	}
	return cfg, nil
}

// address is host:port as dialled and as shown in error sentences.
func address(c bridge.Connection) string {
	port := c.Port
	if port == 0 {
		port = 389
		if c.Security == bridge.SecurityLDAPS {
			port = 636
		}
	}
	return joinHostPort(c.Host, port)
}

func joinHostPort(host string, port int) string {
	if len(host) > 0 && host[0] != '[' {
		for i := 0; i < len(host); i++ {
			if host[i] == ':' { // IPv6 literal
				return fmt.Sprintf("[%s]:%d", host, port)
			}
		}
	}
	return fmt.Sprintf("%s:%d", host, port)
}
