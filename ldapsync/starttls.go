package ldapsync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

const startTLSOID = "1.3.6.1.4.1.1466.20037"

var timeZero time.Time

type startTLSError struct {
	refused string // the server answered but said no
	err     error  // network failure
}

func (e *startTLSError) withAddr(addr string, timeout time.Duration) error {
	if e.refused != "" {
		return newError(KindTLS, e.err, "StartTLS with %s failed: the server refused it (%s); use security ldaps or none", addr, e.refused)
	}
	if isTimeout(e.err) || errors.Is(e.err, context.DeadlineExceeded) {
		// The TCP connection was made; the server did not answer the
		// StartTLS request. "cannot reach" would send admins after the
		// network when the directory itself is stuck.
		return newError(KindTimeout, e.err, "the directory at %s did not answer the StartTLS request within %s", addr, timeout)
	}
	return newError(KindTLS, e.err, "StartTLS with %s failed: %v", addr, e.err)
}

// startTLS sends the StartTLS extended request (RFC 4511 4.14) as message 1
// on a fresh connection and reads the answer, leaving the socket ready for
// the TLS handshake.
func startTLS(c net.Conn) *startTLSError {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), "MessageID"))
	req := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedRequest, nil, "Start TLS")
	req.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, startTLSOID, "TLS Extended Command"))
	p.AppendChild(req)
	if _, err := c.Write(p.Bytes()); err != nil {
		return &startTLSError{err: err}
	}
	resp, err := ber.ReadPacket(c)
	if err != nil {
		return &startTLSError{err: err}
	}
	if err := ldap.GetLDAPError(resp); err != nil {
		code := uint16(0)
		if le, ok := err.(*ldap.Error); ok {
			code = le.ResultCode
		}
		desc := ldap.LDAPResultCodeMap[code]
		if desc == "" {
			desc = fmt.Sprintf("result code %d", code)
		}
		return &startTLSError{refused: desc, err: err}
	}
	return nil
}
