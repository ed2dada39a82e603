package ldapsync

import (
	"context"
	"crypto/tls"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
)

// Conn is the part of *ldap.Conn that ldapsync uses. Keeping it narrow lets
// tests inject a dialer (and a fake connection) without a server.
type Conn interface {
	Bind(username, password string) error
	SearchAsync(ctx context.Context, req *ldap.SearchRequest, bufferSize int) ldap.Response
	SetTimeout(time.Duration)
	// IsClosing reports a connection that was closed or lost. go-ldap ends
	// a search on such a connection with no entries and no error, so a read
	// must check it before calling itself complete.
	IsClosing() bool
	Close() error
}

var _ Conn = (*ldap.Conn)(nil)

// Dialer returns a connected, not yet bound, connection to c: TCP connected
// and, for starttls and ldaps, TLS negotiated with tc. It must give up when
// ctx is done. Errors should come from dialError / tlsError so they read as
// one sentence; others are classified generically.
type Dialer func(ctx context.Context, c bridge.Connection, tc *tls.Config) (Conn, error)
