// Package admin is the admin REST API of scimbridge under /api/v1: accounts,
// directory settings, test connection, the OU tree, Run Now and run
// history, the schedule, protected objects and owners, the audit trail and
// API tokens. It reads and writes through bridge interfaces only.
//
// Roles: an admin token may use every route of its account; an auditor
// token may read runs and the audit trail of its account, nothing else; a
// SCIM token may not use this API at all. The bootstrap admin token
// (SCIMBRIDGE_ADMIN_TOKEN) is an admin of every account and the only token
// that may create or delete accounts.
package admin

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/scimapi/auth"
)

// Options wires the admin API to the domain. Store, Syntax and Open are
// required; Runner is required for runs; Secrets for storing a password.
type Options struct {
	Store bridge.Store
	// Runner starts, tracks and cancels runs (bridge.NewRunner over the
	// engine). It must use the same Store.
	Runner *bridge.Runner
	// Syntax checks LDAP filters and DNs in a settings document
	// (ldapsync.Syntax{}).
	Syntax bridge.LDAPSyntax
	// Open dials and binds a directory (ldapsync.Open), for test connection
	// and the OU tree.
	Open bridge.DirectoryOpener
	// Secrets seals the bind password at rest.
	Secrets *bridge.SecretBox
	// AdminToken is the bootstrap admin token (SCIMBRIDGE_ADMIN_TOKEN); empty
	// disables it.
	AdminToken string
	Log        *slog.Logger
	// MaxBodyBytes bounds request bodies (1 MiB when 0); larger ones get 413.
	MaxBodyBytes int64
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Limiter rate-limits authentication failures per client (429 with
	// Retry-After); a limiter with the defaults when nil. scimapi.NewRouter
	// passes the one it shares with SCIM and the console.
	Limiter *auth.Limiter
}

// BootstrapTokenID is the id of the bootstrap admin token in the request
// context.
const BootstrapTokenID = "bootstrap"

type handler struct {
	opt   Options
	log   *slog.Logger
	audit auditStore
}

// auditStore is the audit query db.Store provides beyond bridge.Store.
type auditStore interface {
	UserAuditEvents(ctx context.Context, account string, actions []bridge.Action, resourceID string,
		since, until time.Time, offset, limit int) ([]bridge.RunEvent, int, error)
}

// access is who may use a route.
type access int

const (
	adminOnly      access = iota // admins of the account
	adminOrAuditor               // admins and auditors of the account
	bootstrapOnly                // the bootstrap admin token
	anyAdmin                     // any admin token; the handler scopes by account
	public                       // no token
)

// Route is one admin API route: the table both the router and the OpenAPI
// document are built from.
type Route struct {
	Method string
	Path   string // under /api/v1, with {a} for the account and {id}
	access access
	h      http.HandlerFunc
	doc    opDoc
}

// Mount adds the admin API to r, a subrouter for /api/v1.
func Mount(r *mux.Router, opt Options) {
	h := newHandler(opt)
	authMW := auth.Middleware(auth.Config{
		Tokens:  bootstrapTokens{TokenStore: opt.Store, hash: bootstrapHash(opt.AdminToken)},
		Roles:   []bridge.TokenRole{bridge.TokenAdmin, bridge.TokenAuditor},
		Log:     h.log,
		Limiter: h.opt.Limiter,
		Deny: func(w http.ResponseWriter, req *http.Request, f auth.Failure, detail string) {
			if f == auth.Forbidden {
				detail = "This token's role may not use the admin API (SCIM tokens reach only /scim/v2)."
			}
			problem(w, req, f.Status(), detail)
		},
	})
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		problem(w, req, http.StatusNotFound, notFoundDetail(req))
	})
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range h.routes() {
		var hf http.Handler = h.authorize(rt)
		if rt.doc.body != "" {
			hf = jsonBody(hf)
		}
		if rt.access != public {
			hf = authMW(hf)
		}
		r.Handle(rt.Path, hf).Methods(rt.Method).Name(rt.Method + " " + rt.Path)
		if allowed[rt.Path] == nil {
			paths = append(paths, rt.Path)
		}
		allowed[rt.Path] = append(allowed[rt.Path], rt.Method)
	}
	// A known path with another method is 405 with Allow. (mux's own
	// MethodNotAllowedHandler is not reached from a subrouter that has a
	// NotFoundHandler, so each path gets an explicit fallback.)
	for _, p := range paths {
		allow := strings.Join(allowed[p], ", ")
		r.Handle(p, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Allow", allow)
			problem(w, req, http.StatusMethodNotAllowed, "The method "+req.Method+" is not allowed on "+req.URL.Path+"; use "+allow+".")
		}))
	}
}

func newHandler(opt Options) *handler {
	h := &handler{opt: opt, log: opt.Log}
	if h.log == nil {
		h.log = discardLogger()
	}
	h.log = h.log.With("component", "admin-api")
	if h.opt.MaxBodyBytes <= 0 {
		h.opt.MaxBodyBytes = 1 << 20
	}
	if h.opt.Limiter == nil {
		h.opt.Limiter = auth.NewLimiter(auth.LimiterConfig{Log: h.log})
	}
	if a, ok := opt.Store.(auditStore); ok {
		h.audit = a
	}
	return h
}

func (h *handler) now() time.Time {
	if h.opt.Now != nil {
		return h.opt.Now()
	}
	return time.Now()
}

// authorize checks the token's role and account against the route.
func (h *handler) authorize(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.access == public {
			rt.h(w, r)
			return
		}
		tok, _ := auth.FromContext(r.Context())
		boot := tok.ID == BootstrapTokenID && tok.AccountID == ""
		switch rt.access {
		case bootstrapOnly:
			if !boot {
				problem(w, r, http.StatusForbidden, "Only the bootstrap admin token (SCIMBRIDGE_ADMIN_TOKEN) may create or delete accounts.")
				return
			}
		case adminOnly, anyAdmin:
			if tok.Role != bridge.TokenAdmin {
				problem(w, r, http.StatusForbidden, "This route needs an admin token; auditors may read runs and the audit trail only.")
				return
			}
		}
		if a, ok := mux.Vars(r)["a"]; ok && !boot && a != tok.AccountID {
			problem(w, r, http.StatusForbidden, "This token belongs to another account.")
			return
		}
		rt.h(w, r)
	})
}

// bootstrapTokens answers FindToken for the bootstrap admin token, and
// defers to the store for every other token.
type bootstrapTokens struct {
	bridge.TokenStore
	hash []byte
}

func bootstrapHash(token string) []byte {
	if token == "" {
		return nil
	}
	return bridge.HashToken(token)
}

func (b bootstrapTokens) FindToken(ctx context.Context, hash []byte) (bridge.Token, error) {
	if b.hash != nil && subtle.ConstantTimeCompare(hash, b.hash) == 1 {
		return bridge.Token{ID: BootstrapTokenID, Role: bridge.TokenAdmin, Name: "bootstrap admin (SCIMBRIDGE_ADMIN_TOKEN)", Hash: b.hash}, nil
	}
	return b.TokenStore.FindToken(ctx, hash)
}

// account is the {a} of the request.
func account(r *http.Request) string { return mux.Vars(r)["a"] }

func idVar(r *http.Request) string { return mux.Vars(r)["id"] }
