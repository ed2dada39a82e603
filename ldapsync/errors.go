package ldapsync

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
)

// Kind says what went wrong, so the CLI and the console can offer the
// right fix without parsing sentences.
type Kind string

const (
	KindCredentials Kind = "credentials" // bind refused
	KindUnreachable Kind = "unreachable" // TCP connect failed
	KindTLS         Kind = "tls"         // handshake or certificate problem
	KindNoSuchBase  Kind = "no-such-base"
	KindFilter      Kind = "filter"
	KindTimeout     Kind = "timeout"
	KindOther       Kind = "other"
)

// Error is every error ldapsync returns to its callers. Error() is one
// readable sentence meant for an admin; Unwrap gives the LDAP or network
// error underneath for logs and errors.As. It matches
// bridge.ErrDirectoryRead with errors.Is.
type Error struct {
	Kind     Kind
	Sentence string
	Err      error
}

func (e *Error) Error() string { return e.Sentence }
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, bridge.ErrDirectoryRead) true, so the engine
// knows the enumeration is incomplete without knowing LDAP.
func (e *Error) Is(target error) bool { return target == bridge.ErrDirectoryRead }

// Classify returns the Kind of an error from this package ("" for nil and
// for errors that did not come from ldapsync).
func Classify(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

func newError(kind Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: kind, Sentence: fmt.Sprintf(format, args...), Err: err}
}

// AD puts a "data NNN" sub-code in the diagnostic message of a failed bind
// (MS-ADTS 3.1.1.3.4.1.15); it tells a wrong password from a locked account.
var adBindSubcode = regexp.MustCompile(`(?i)\bdata ([0-9a-f]{3,4})\b`)

var adBindReasons = map[string]string{
	"525": "the bind DN does not exist",
	"52e": "invalid credentials (wrong DN or password)",
	"530": "the account may not log on at this time",
	"531": "the account may not log on from this workstation",
	"532": "the account's password has expired",
	"533": "the account is disabled",
	"701": "the account has expired",
	"773": "the account must change its password first",
	"775": "the account is locked out",
}

// bindError turns a failed Bind into one sentence.
func bindError(bindDN string, err error) error {
	if e := asOwn(err); e != nil {
		return e
	}
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
		reason := adBindReasons["52e"]
		if m := adBindSubcode.FindStringSubmatch(err.Error()); m != nil {
			if r, ok := adBindReasons[strings.ToLower(m[1])]; ok {
				reason = r
			}
		}
		return newError(KindCredentials, err, "cannot bind as %s: %s", bindDN, reason)
	case ldap.IsErrorWithCode(err, ldap.ErrorEmptyPassword):
		return newError(KindCredentials, err, "cannot bind as %s: no password is set", bindDN)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidDNSyntax):
		return newError(KindCredentials, err, "cannot bind as %s: the server says it is not a valid DN", bindDN)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultConfidentialityRequired), ldap.IsErrorWithCode(err, ldap.LDAPResultStrongAuthRequired):
		return newError(KindCredentials, err, "cannot bind as %s: the server requires an encrypted connection (use security starttls or ldaps)", bindDN)
	}
	return classify(err, "bind as "+bindDN)
}

// searchError turns a failed search on base into one sentence.
func searchError(base, filter string, err error) error {
	if e := asOwn(err); e != nil {
		return e
	}
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return newError(KindNoSuchBase, err, "base DN %q does not exist on the server", base)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultFilterError), ldap.IsErrorWithCode(err, ldap.ErrorFilterCompile):
		return newError(KindFilter, err, "filter %q is not a valid LDAP filter", filter)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidDNSyntax):
		return newError(KindNoSuchBase, err, "base DN %q is not a valid DN", base)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultOperationsError) && strings.Contains(err.Error(), "successful bind must be completed"):
		return newError(KindCredentials, err, "the server refused to search %q: the bind did not succeed", base)
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights):
		return newError(KindOther, err, "the bind account may not read %q", base)
	}
	return classify(err, "search "+base)
}

// classify handles what any operation can hit: network and TLS failures,
// timeouts. what names the operation ("bind as X", "search Y").
func classify(err error, what string) error {
	if e := asOwn(err); e != nil {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return newError(KindTimeout, err, "the directory did not answer in time (%s)", what)
	}
	if errors.Is(err, context.Canceled) {
		return newError(KindOther, err, "cancelled while trying to %s", what)
	}
	if ldap.IsErrorWithCode(err, ldap.LDAPResultTimeout) || ldap.IsErrorWithCode(err, ldap.LDAPResultTimeLimitExceeded) {
		return newError(KindTimeout, err, "the directory did not answer in time (%s)", what)
	}
	// go-ldap reports its own per-request timeout (SetTimeout) as a
	// network error, "ldap: connection timed out": the server is hung, not
	// gone.
	if ldap.IsErrorWithCode(err, ldap.ErrorNetwork) && strings.Contains(err.Error(), "connection timed out") {
		return newError(KindTimeout, err, "the directory did not answer in time (%s)", what)
	}
	if ldap.IsErrorWithCode(err, ldap.ErrorNetwork) {
		return newError(KindUnreachable, err, "the connection to the directory was lost (%s)", what)
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		desc := ldap.LDAPResultCodeMap[le.ResultCode]
		if desc == "" {
			desc = fmt.Sprintf("result code %d", le.ResultCode)
		}
		return newError(KindOther, err, "cannot %s: the server answered %q", what, strings.ToLower(desc))
	}
	return newError(KindOther, err, "cannot %s: %v", what, err)
}

// dialError explains a failed TCP connect to addr.
func dialError(addr string, timeout time.Duration, err error) error {
	var reason string
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		reason = "the host name does not resolve"
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		reason = "no route to host"
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		reason = fmt.Sprintf("no answer within %s", timeout)
	case errors.Is(err, context.Canceled):
		reason = "cancelled"
	default:
		reason = err.Error()
	}
	return newError(KindUnreachable, err, "cannot reach %s: %s", addr, reason)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// tlsError explains a failed handshake with addr.
func tlsError(addr string, timeout time.Duration, err error) error {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	var reason string
	switch {
	case errors.As(err, &unknown):
		reason = "the server's certificate is not signed by a trusted CA (set caCertificate)"
	case errors.As(err, &hostname):
		reason = fmt.Sprintf("the server's certificate does not match the host name (%s)", hostname.Error())
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		reason = "the server's certificate has expired or is not yet valid"
	case errors.As(err, &invalid):
		reason = "the server's certificate is not valid for TLS (" + invalid.Error() + ")"
	case strings.Contains(err.Error(), "first record does not look like a TLS handshake"):
		reason = "the server does not speak TLS on this port (ldaps is usually port 636)"
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		// Connected, but the server is stuck: a timeout, not a TLS fault.
		return newError(KindTimeout, err, "the directory at %s did not answer the TLS handshake within %s", addr, timeout)
	case strings.Contains(err.Error(), "protocol version"):
		reason = "the server does not offer TLS 1.2 or newer"
	default:
		reason = err.Error()
	}
	return newError(KindTLS, err, "TLS handshake with %s failed: %s", addr, reason)
}

func asOwn(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
