package ldapsync

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
)

// Dial is the default Dialer: a net.Dialer bounded by ctx (Open puts the
// connection timeout on it), then TLS for ldaps, or the StartTLS extended
// operation for starttls, before go-ldap takes over the socket.
//
// StartTLS is done here rather than with (*ldap.Conn).StartTLS because that
// one waits for the server without a deadline and flattens the handshake
// error into a string, losing x509.UnknownAuthorityError and friends that
// the error sentences are built from.
func Dial(ctx context.Context, c bridge.Connection, tc *tls.Config) (Conn, error) {
	addr := address(c)
	timeout := c.Timeout()
	d := &net.Dialer{Timeout: timeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, dialError(addr, timeout, err)
	}
	// Every byte until go-ldap owns the socket is bounded by ctx's deadline.
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()

	var nc net.Conn = raw
	isTLS := false
	switch c.Security {
	case bridge.SecurityLDAPS:
		tlsConn := tls.Client(raw, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, tlsError(addr, timeout, err)
		}
		nc, isTLS = tlsConn, true
	case bridge.SecurityStartTLS:
		if err := startTLS(raw); err != nil {
			raw.Close()
			if ctx.Err() != nil && err.refused == "" {
				// The deadline closed the socket under the read: say
				// "no answer in time", not "use of closed connection".
				err.err = ctx.Err()
			}
			return nil, err.withAddr(addr, timeout)
		}
		tlsConn := tls.Client(raw, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, tlsError(addr, timeout, err)
		}
		nc, isTLS = tlsConn, true
	}
	if !stop() {
		return nil, dialError(addr, timeout, ctx.Err())
	}
	_ = raw.SetDeadline(timeZero)
	l := ldap.NewConn(nc, isTLS)
	l.Start()
	return l, nil
}
