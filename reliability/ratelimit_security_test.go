package reliability

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/scimapi/auth"
)

// TestAuthFailuresRateLimitedThroughTheRouter: the router as serve builds
// it (default limiter, 10 failures a minute per address) on SQLite.
// Failures on SCIM, the admin API and the console sign-in count against
// one bucket; the 11th failure is a 429 with Retry-After on each surface,
// in each surface's error format; valid tokens from the same address still
// work; another address is not limited; nothing is stored.
func TestAuthFailuresRateLimitedThroughTheRouter(t *testing.T) {
	r := newRouter(t, openSQLite(t).store, nil)
	const attacker = "203.0.113.9:40000"
	tokensBefore, _ := r.store.ListTokens(t.Context(), "default")

	// 10 failures spread over the three surfaces: all 401.
	for i := range 4 {
		if w := r.do(req{method: "GET", path: "/scim/v2/Users", token: "scb_guess" + strconv.Itoa(i), remote: attacker}); w.Code != 401 {
			t.Fatalf("SCIM failure %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	for i := range 3 {
		q := req{method: "GET", path: "/api/v1/accounts/default/runs", remote: attacker}
		if i == 1 {
			q.token = "scb_admin_guess"
		}
		if w := r.do(q); w.Code != 401 {
			t.Fatalf("admin failure %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	for i := range 3 {
		token := "scb_console_guess"
		if i == 2 {
			token = "" // an empty token is a failure too
		}
		if w := r.consoleSignIn(attacker, token); w.Code != 401 {
			t.Fatalf("console failure %d: %d", i+1, w.Code)
		}
	}

	retryAfter := func(t *testing.T, w *httptest.ResponseRecorder) {
		t.Helper()
		n, err := strconv.Atoi(w.Header().Get("Retry-After"))
		// One failure is forgiven every 6 s.
		if err != nil || n < 1 || n > 6 {
			t.Errorf("Retry-After %q, want 1-6 seconds", w.Header().Get("Retry-After"))
		}
	}
	t.Run("SCIM answers 429 with a SCIM error", func(t *testing.T) {
		for _, token := range []string{"scb_guess-again", ""} {
			w := r.do(req{method: "GET", path: "/scim/v2/Users", token: token, remote: attacker})
			var e struct {
				Schemas []string
				Status  string
				Detail  string
			}
			_ = json.Unmarshal(w.Body.Bytes(), &e)
			if w.Code != 429 || w.Header().Get("Content-Type") != "application/scim+json" || e.Status != "429" ||
				len(e.Schemas) != 1 || e.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || !strings.Contains(e.Detail, "Too many") {
				t.Errorf("token %q: %d %s %s", token, w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			retryAfter(t, w)
		}
		// A write is refused before its body is read.
		w := r.do(req{method: "POST", path: "/scim/v2/Users", token: "scb_nope", remote: attacker, ctype: "application/scim+json",
			body: []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"intruder"}`)})
		if w.Code != 429 {
			t.Errorf("POST /Users with a wrong token: %d", w.Code)
		}
	})
	t.Run("admin API answers 429 with a problem document", func(t *testing.T) {
		w := r.do(req{method: "PUT", path: "/api/v1/accounts/default/schedule", token: "scb_nope", remote: attacker,
			ctype: "application/json", body: []byte(`{"enabled":false}`)})
		var p struct {
			Status int
			Detail string
		}
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		if w.Code != 429 || w.Header().Get("Content-Type") != "application/problem+json" || p.Status != 429 || !strings.Contains(p.Detail, "Too many") {
			t.Errorf("%d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		retryAfter(t, w)
	})
	t.Run("console sign-in answers 429 with a message", func(t *testing.T) {
		w := r.consoleSignIn(attacker, "scb_console_guess")
		if w.Code != 429 || !strings.Contains(w.Body.String(), "Too many failed sign-ins") ||
			!strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Errorf("%d %s", w.Code, w.Body)
		}
		retryAfter(t, w)
		// The console's API proxy reaches the admin API as the same client.
		w = r.do(req{method: "GET", path: "/api/v1/accounts/default/runs", token: "scb_x", remote: attacker})
		if w.Code != 429 {
			t.Errorf("admin API after console failures: %d", w.Code)
		}
	})
	t.Run("valid tokens from the limited address are served", func(t *testing.T) {
		for _, c := range []req{
			{method: "GET", path: "/scim/v2/Users", token: "scim"},
			{method: "GET", path: "/api/v1/accounts/default/runs", token: "admin"},
			{method: "GET", path: "/api/v1/accounts/default/runs", token: "auditor"},
			{method: "GET", path: "/api/v1/accounts", token: "bootstrap"},
		} {
			c.remote = attacker
			if w := r.do(c); w.Code != 200 {
				t.Errorf("%s %s as %s: %d %s", c.method, c.path, c.token, w.Code, w.Body)
			}
		}
		// A valid token of the wrong role is 403, not 429.
		if w := r.do(req{method: "GET", path: "/api/v1/accounts/default/runs", token: "scim", remote: attacker}); w.Code != 403 {
			t.Errorf("SCIM token on the admin API: %d", w.Code)
		}
		if w := r.consoleSignIn(attacker, "admin"); w.Code != 303 || w.Header().Get("Location") != "/console/settings" {
			t.Errorf("console sign-in with the admin token: %d %s", w.Code, w.Header().Get("Location"))
		}
	})
	t.Run("another address is not limited", func(t *testing.T) {
		other := "198.51.100.20:5555"
		if w := r.do(req{method: "GET", path: "/scim/v2/Users", token: "scb_typo", remote: other}); w.Code != 401 {
			t.Errorf("SCIM: %d", w.Code)
		}
		if w := r.consoleSignIn(other, "scb_typo"); w.Code != 401 {
			t.Errorf("console: %d", w.Code)
		}
		// X-Forwarded-For does not move the attacker to another bucket
		// (no trusted proxy by default).
		w := r.do(req{method: "GET", path: "/scim/v2/Users", token: "scb_typo", remote: attacker,
			header: map[string][]string{"X-Forwarded-For": {"198.51.100.77"}}})
		if w.Code != 429 {
			t.Errorf("X-Forwarded-For from an untrusted peer changed the bucket: %d", w.Code)
		}
	})
	if !strings.Contains(r.logs.String(), "authentication failures rate-limited") {
		t.Error("no warning was logged when the client became limited")
	}
	if w := r.do(req{method: "GET", path: "/scim/v2/Users?count=0", token: "scim"}); !strings.Contains(w.Body.String(), `"totalResults":0`) {
		t.Errorf("the store holds users after the refused writes: %s", w.Body)
	}
	if toks, _ := r.store.ListTokens(t.Context(), "default"); len(toks) != len(tokensBefore) {
		t.Errorf("tokens %d -> %d", len(tokensBefore), len(toks))
	}
}

// TestAuthLimiterRefillsThroughTheRouter: with a clock the test moves, a
// limited address gets 401 again once the bucket has a token, and the
// trusted-proxy option keys clients by X-Forwarded-For.
func TestAuthLimiterRefillsThroughTheRouter(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	trusted, err := auth.ParseTrustedProxies("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	lim := auth.NewLimiter(auth.LimiterConfig{TrustedProxies: trusted, Now: func() time.Time { return now }})
	r := newRouter(t, openSQLite(t).store, func(o *scimapi.Options) { o.AuthLimiter = lim })
	proxy := "10.0.0.5:443"
	client := func(ip string) map[string][]string { return map[string][]string{"X-Forwarded-For": {ip}} }
	for i := range 10 {
		if w := r.do(req{method: "GET", path: "/api/v1/accounts", remote: proxy, header: client("203.0.113.50")}); w.Code != 401 {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
	}
	if w := r.do(req{method: "GET", path: "/scim/v2/Users", remote: proxy, header: client("203.0.113.50")}); w.Code != 429 || w.Header().Get("Retry-After") != "6" {
		t.Fatalf("11th failure: %d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	// Another client behind the same proxy has its own bucket.
	if w := r.do(req{method: "GET", path: "/scim/v2/Users", remote: proxy, header: client("203.0.113.51")}); w.Code != 401 {
		t.Fatalf("another client behind the proxy: %d", w.Code)
	}
	now = now.Add(6 * time.Second)
	if w := r.do(req{method: "GET", path: "/scim/v2/Users", remote: proxy, header: client("203.0.113.50")}); w.Code != 401 {
		t.Fatalf("after 6 s: %d, want 401 (one failure refilled)", w.Code)
	}
	if w := r.do(req{method: "GET", path: "/scim/v2/Users", remote: proxy, header: client("203.0.113.50")}); w.Code != 429 {
		t.Fatalf("after the refilled failure: %d, want 429", w.Code)
	}
	now = now.Add(time.Minute)
	for i := range 10 {
		if w := r.consoleSignIn(proxy, "scb_wrong"); w.Code != 401 {
			t.Fatalf("after a minute, failure %d: %d", i+1, w.Code)
		}
	}
	if lim.Limited() != 2 {
		t.Errorf("limited %d, want 2", lim.Limited())
	}
}
