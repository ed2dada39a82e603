// Package auth is the bearer-token middleware shared by the SCIM endpoint
// and the admin API. A token is looked up by the SHA-256 of its secret
// (bridge.HashToken, the form the store keeps), the stored hash is compared
// in constant time, the token's role is checked against what the route
// allows, and the token (with its account) is bound into the request
// context. Authentication failures are rate-limited per client address
// (Limiter): past the limit a refusal is 429 with Retry-After instead of
// 401; a valid token is never limited.
package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// Realm is announced in WWW-Authenticate.
const Realm = "scimbridge"

type ctxKey struct{}

// FromContext returns the token that authenticated the request.
func FromContext(ctx context.Context) (bridge.Token, bool) {
	t, ok := ctx.Value(ctxKey{}).(bridge.Token)
	return t, ok
}

// WithToken binds t into ctx (for handlers called outside the middleware,
// such as /Bulk operations, and for tests).
func WithToken(ctx context.Context, t bridge.Token) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// Account is the account of the request's token ("" when none).
func Account(ctx context.Context) string {
	t, _ := FromContext(ctx)
	return t.AccountID
}

// Failure says why a request was refused.
type Failure int

const (
	// Unauthenticated: no token, a malformed header, or an unknown token (401).
	Unauthenticated Failure = iota
	// Forbidden: a valid token whose role may not use the route (403).
	Forbidden
	// Unavailable: the token store failed (503); the client may retry.
	Unavailable
	// TooManyFailures: an authentication failure from a client that has
	// failed too often (429); Retry-After is set before Deny is called.
	TooManyFailures
)

// Status is the HTTP status of f.
func (f Failure) Status() int {
	switch f {
	case Forbidden:
		return http.StatusForbidden
	case Unavailable:
		return http.StatusServiceUnavailable
	case TooManyFailures:
		return http.StatusTooManyRequests
	default:
		return http.StatusUnauthorized
	}
}

// Config configures Middleware.
type Config struct {
	Tokens bridge.TokenStore
	// Roles may use the routes behind the middleware.
	Roles []bridge.TokenRole
	Log   *slog.Logger
	// Deny writes the refusal. The SCIM endpoint answers with a SCIM error
	// body, the admin API with its own; the WWW-Authenticate header is set
	// before Deny is called.
	Deny func(w http.ResponseWriter, r *http.Request, f Failure, detail string)
	// Limiter counts authentication failures per client (see Limiter);
	// nil limits nothing. A valid token is never limited.
	Limiter *Limiter
}

// Middleware authenticates every request with `Authorization: Bearer`.
func Middleware(cfg Config) func(http.Handler) http.Handler {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	deny := cfg.Deny
	if deny == nil {
		deny = func(w http.ResponseWriter, _ *http.Request, f Failure, detail string) {
			http.Error(w, detail, f.Status())
		}
	}
	// unauthenticated answers 401, or 429 once the client has failed too
	// often.
	unauthenticated := func(w http.ResponseWriter, r *http.Request, challenge, detail string) {
		if retry, limited := cfg.Limiter.Fail(r); limited {
			SetRetryAfter(w, retry)
			deny(w, r, TooManyFailures, TooManyFailuresDetail(retry))
			return
		}
		w.Header().Set("WWW-Authenticate", challenge)
		deny(w, r, Unauthenticated, detail)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			secret, ok := bearer(r.Header.Get("Authorization"))
			if !ok {
				unauthenticated(w, r, `Bearer realm="`+Realm+`"`, "A bearer token is required (Authorization: Bearer <token>).")
				return
			}
			hash := bridge.HashToken(secret)
			tok, err := cfg.Tokens.FindToken(r.Context(), hash)
			switch {
			case errors.Is(err, bridge.ErrNotFound):
				unauthenticated(w, r, `Bearer realm="`+Realm+`", error="invalid_token"`, "The bearer token is not valid.")
				return
			case err != nil:
				log.ErrorContext(r.Context(), "token lookup failed", "err", err)
				deny(w, r, Unavailable, "The service is temporarily unavailable.")
				return
			}
			// The lookup was by hash; compare the stored hash as well, in
			// constant time, so a store that matched loosely (a prefix, a
			// case-folding collation) cannot let a wrong token in.
			if subtle.ConstantTimeCompare(tok.Hash, hash) != 1 {
				unauthenticated(w, r, `Bearer realm="`+Realm+`", error="invalid_token"`, "The bearer token is not valid.")
				return
			}
			if !allowed(tok.Role, cfg.Roles) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+Realm+`", error="insufficient_scope"`)
				deny(w, r, Forbidden, "This token's role may not use this endpoint.")
				return
			}
			next.ServeHTTP(w, r.WithContext(WithToken(r.Context(), tok)))
		})
	}
}

// TooManyFailuresDetail is the refusal text of a limited client.
func TooManyFailuresDetail(retry time.Duration) string {
	return fmt.Sprintf("Too many failed authentications from this address; try again in %d s.", RetryAfterSeconds(retry))
}

func bearer(h string) (string, bool) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	return rest, rest != ""
}

func allowed(r bridge.TokenRole, roles []bridge.TokenRole) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}
