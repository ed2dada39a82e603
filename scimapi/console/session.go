package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

const (
	// SessionCookie holds the sealed session.
	SessionCookie = "scimbridge_console"
	// LoginCookie holds the CSRF token of the sign-in form (before a
	// session exists).
	LoginCookie = "scimbridge_console_login"
	// CSRFHeader carries the session's CSRF token on script requests.
	CSRFHeader = "X-CSRF-Token"
	// csrfField carries it in form posts.
	csrfField = "csrf"

	sessionPurpose = "scimbridge-console-session-v1"
)

// session is what the sealed cookie holds. The token is the secret itself:
// the proxy sends it to the admin API as the bearer token.
type session struct {
	Purpose   string           `json:"p"`
	Token     string           `json:"t"`
	Account   string           `json:"a"`
	Role      bridge.TokenRole `json:"r"`
	Name      string           `json:"n,omitempty"`
	CSRF      string           `json:"c"`
	ExpiresAt int64            `json:"e"`
}

func (s session) admin() bool { return s.Role == bridge.TokenAdmin }

var errNoSession = errors.New("no valid session")

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (c *console) sealSession(s session) (string, error) {
	s.Purpose = sessionPurpose
	data, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	sealed, err := c.box.Seal(string(data))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// openSession reads and checks the session cookie (seal, purpose, expiry).
// It does not look the token up: see currentSession.
func (c *console) openSession(r *http.Request) (session, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 4096 {
		return session{}, errNoSession
	}
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return session{}, errNoSession
	}
	plain, err := c.box.Open(raw)
	if err != nil {
		return session{}, errNoSession
	}
	var s session
	if err := json.Unmarshal([]byte(plain), &s); err != nil || s.Purpose != sessionPurpose || s.Token == "" || s.CSRF == "" {
		return session{}, errNoSession
	}
	if c.now().Unix() >= s.ExpiresAt {
		return session{}, errNoSession
	}
	return s, nil
}

// currentSession is openSession plus a token lookup, so a revoked token
// ends its console sessions at once.
func (c *console) currentSession(r *http.Request) (session, error) {
	s, err := c.openSession(r)
	if err != nil {
		return s, err
	}
	tok, err := c.findToken(r.Context(), s.Token)
	if err != nil {
		if !errors.Is(err, bridge.ErrNotFound) {
			return s, err
		}
		return session{}, errNoSession
	}
	if tok.Role != s.Role || (tok.AccountID != "" && tok.AccountID != s.Account) {
		return session{}, errNoSession
	}
	return s, nil
}

func (c *console) secure(r *http.Request) bool { return c.opt.SecureCookies || r.TLS != nil }

func (c *console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	ck := &http.Cookie{
		Name: name, Value: value, Path: Prefix,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode,
	}
	if maxAge < 0 {
		ck.MaxAge = -1
	} else {
		ck.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, ck)
}

// sameToken compares two CSRF tokens in constant time; empty never matches.
func sameToken(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// crossSite reports a request a browser marked as coming from another site
// (Sec-Fetch-Site) or whose Origin is not this host: refused for every
// state-changing request, on top of the CSRF token.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return true
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		for _, scheme := range []string{"http://", "https://"} {
			if o == scheme+r.Host {
				return false
			}
		}
		return true
	}
	return false
}

// checkCSRF checks a state-changing request against the session: the token
// from the header (scripts) or the form field (form posts).
func checkCSRF(r *http.Request, want string) bool {
	if crossSite(r) {
		return false
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return sameToken(got, want)
}
