// Package console is the web console of scimbridge at /console: the
// Configure Synchronization wizard, the current settings with Run Now, run
// reports and history for admins, and the audit view for auditors.
//
// The pages are server-rendered html/template shells with one small
// vanilla-JS file; every asset is embedded (embed.FS), nothing is loaded
// from the internet, and the Content-Security-Policy allows only this
// origin (no inline script or style).
//
// Signing in: the admin or auditor token is posted in a form, checked
// against the same token store as the admin API (and the bootstrap
// SCIMBRIDGE_ADMIN_TOKEN), and kept in a session cookie sealed with
// AES-256-GCM (HttpOnly, SameSite=Strict, Secure over TLS). The token never
// reaches JavaScript. The sealed cookie carries the session, so several
// replicas that share the secret key share sessions too.
//
// Data: the page script calls /console/api/..., which the server proxies to
// the admin API (/api/v1/accounts/{account}/...) in-process with the
// session's token as the bearer token. So the console can do exactly what
// the token may do through the API, no more. Every state-changing request
// carries the session's CSRF token (synchronizer token pattern), checked
// server-side.
package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/gorilla/mux"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/scimapi/auth"
)

// Options configures the console.
type Options struct {
	// Tokens verifies sign-in tokens: the store the admin API uses.
	Tokens bridge.TokenStore
	// AdminToken is the bootstrap admin token (SCIMBRIDGE_ADMIN_TOKEN); empty
	// disables signing in with it.
	AdminToken string
	// Secrets seals the session cookie. Pass the server's secret box so
	// replicas sharing the key share sessions; when nil a random key is
	// made at Mount (sessions then end with the process).
	Secrets *bridge.SecretBox
	// Syntax checks LDAP filters and DNs for the as-you-type checks of the
	// wizard (ldapsync.Syntax{}), the same checker the admin API uses.
	Syntax bridge.LDAPSyntax
	// SecureCookies marks cookies Secure even when the request did not come
	// over TLS (set it behind a TLS-terminating proxy).
	SecureCookies bool
	// SessionTTL is how long a sign-in lasts (8 h when 0).
	SessionTTL time.Duration
	Log        *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Limiter rate-limits failed sign-ins per client: the limiter of the
	// admin API and SCIM (scimapi.NewRouter passes its own), so failures
	// anywhere count together. One with the defaults when nil.
	Limiter *auth.Limiter
}

// Prefix is where the console is served.
const Prefix = "/console"

type console struct {
	opt Options
	api http.Handler
	log *slog.Logger
	box *bridge.SecretBox
	// bootHash is the SHA-256 of the bootstrap admin token.
	bootHash []byte
}

// Mount serves the console under /console on r. api is the handler that
// serves /api/v1 (normally r itself): the console proxies to it. A nil opt
// mounts nothing.
func Mount(r *mux.Router, api http.Handler, opt *Options) {
	if opt == nil {
		return
	}
	c, err := newConsole(*opt, api)
	if err != nil {
		panic("console: " + err.Error())
	}
	c.routes(r.PathPrefix(Prefix).Subrouter())
	r.Handle(Prefix, http.RedirectHandler(Prefix+"/", http.StatusFound))
}

// Handler is the console alone (paths start with /console), for tests.
func Handler(api http.Handler, opt Options) (http.Handler, error) {
	c, err := newConsole(opt, api)
	if err != nil {
		return nil, err
	}
	r := mux.NewRouter()
	c.routes(r.PathPrefix(Prefix).Subrouter())
	return r, nil
}

func newConsole(opt Options, api http.Handler) (*console, error) {
	if opt.Tokens == nil {
		return nil, errors.New("Options.Tokens is required")
	}
	if api == nil {
		return nil, errors.New("the admin API handler is required")
	}
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 8 * time.Hour
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &console{opt: opt, api: api, log: log.With("component", "console"), box: opt.Secrets}
	if c.opt.Limiter == nil {
		c.opt.Limiter = auth.NewLimiter(auth.LimiterConfig{Log: c.log})
	}
	if c.box == nil {
		key := make([]byte, bridge.SecretKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		box, err := bridge.NewSecretBox(key)
		if err != nil {
			return nil, err
		}
		c.box = box
	}
	if opt.AdminToken != "" {
		c.bootHash = bridge.HashToken(opt.AdminToken)
	}
	return c, nil
}

func (c *console) now() time.Time {
	if c.opt.Now != nil {
		return c.opt.Now()
	}
	return time.Now()
}

// routes registers every console route on r, a subrouter for /console.
func (c *console) routes(r *mux.Router) {
	r.Use(securityHeaders)
	r.NotFoundHandler = securityHeaders(http.HandlerFunc(c.notFound))
	r.MethodNotAllowedHandler = securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
	}))
	r.Handle("/static/{file}", http.HandlerFunc(serveStatic)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/login", c.loginPage).Methods(http.MethodGet)
	r.HandleFunc("/login", c.login).Methods(http.MethodPost)
	r.HandleFunc("/logout", c.logout).Methods(http.MethodPost)
	r.HandleFunc("/", c.home).Methods(http.MethodGet)
	r.Handle("/settings", c.page("settings", "Current settings", adminOnly)).Methods(http.MethodGet)
	r.Handle("/wizard", c.page("wizard", "Configure synchronization", adminOnly)).Methods(http.MethodGet)
	r.Handle("/runs", c.page("runs", "Sync history", anyRole)).Methods(http.MethodGet)
	r.Handle("/runs/{id:[A-Za-z0-9_-]{1,64}}", c.page("report", "Run report", anyRole)).Methods(http.MethodGet)
	r.Handle("/audit", c.page("audit", "Audit", anyRole)).Methods(http.MethodGet)
	r.HandleFunc("/validate", c.validate).Methods(http.MethodPost)
	r.PathPrefix("/api/").HandlerFunc(c.proxy)
}

// findToken resolves a token secret the way the admin API does: the
// bootstrap admin token first, then the store.
func (c *console) findToken(ctx context.Context, secret string) (bridge.Token, error) {
	hash := bridge.HashToken(secret)
	if c.bootHash != nil && subtle.ConstantTimeCompare(hash, c.bootHash) == 1 {
		return bridge.Token{ID: bootstrapTokenID, Role: bridge.TokenAdmin, Name: "bootstrap admin", Hash: c.bootHash}, nil
	}
	tok, err := c.opt.Tokens.FindToken(ctx, hash)
	if err != nil {
		return bridge.Token{}, err
	}
	if subtle.ConstantTimeCompare(tok.Hash, hash) != 1 {
		return bridge.Token{}, bridge.ErrNotFound
	}
	return tok, nil
}

// bootstrapTokenID is the id the admin API gives the bootstrap token.
const bootstrapTokenID = "bootstrap"

var accountPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// tokenFingerprint names a token in logs without revealing it.
func tokenFingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	const hexd = "0123456789abcdef"
	out := make([]byte, 8)
	for i := range 4 {
		out[2*i], out[2*i+1] = hexd[sum[i]>>4], hexd[sum[i]&15]
	}
	return string(out)
}

// securityHeaders sets the strict CSP and friends on every console answer.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// CSP is the console's Content-Security-Policy: this origin only, no inline
// script or style, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
