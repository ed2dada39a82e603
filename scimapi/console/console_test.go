package console_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/scimapi/console"
)

// tokens is an in-memory bridge.TokenStore.
type tokens struct {
	mu sync.Mutex
	m  map[string]bridge.Token
}

func (s *tokens) CreateToken(_ context.Context, t bridge.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[string(t.Hash)] = t
	return nil
}

func (s *tokens) FindToken(_ context.Context, hash []byte) (bridge.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.m[string(hash)]; ok {
		return t, nil
	}
	return bridge.Token{}, bridge.ErrNotFound
}

func (s *tokens) ListTokens(context.Context, string) ([]bridge.Token, error) { return nil, nil }

func (s *tokens) DeleteToken(_ context.Context, _, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.m {
		if t.ID == id {
			delete(s.m, k)
		}
	}
	return nil
}

// fakeAPI records what the console proxies to the admin API.
type fakeAPI struct {
	mu    sync.Mutex
	calls []string // "METHOD PATH?QUERY AUTH"
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization")+" cookie="+r.Header.Get("Cookie"))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ok": true}`))
}

func (f *fakeAPI) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return ""
	}
	return f.calls[len(f.calls)-1]
}

type unit struct {
	t      *testing.T
	h      http.Handler
	api    *fakeAPI
	store  *tokens
	now    time.Time
	secret map[string]string // name -> token secret
}

const unitBootstrap = "scb_unit-bootstrap"

func newUnit(t *testing.T, mut func(*console.Options)) *unit {
	t.Helper()
	u := &unit{t: t, api: &fakeAPI{}, store: &tokens{m: map[string]bridge.Token{}}, now: time.Now(), secret: map[string]string{}}
	for _, tk := range []struct {
		name, account string
		role          bridge.TokenRole
	}{{"admin", "default", bridge.TokenAdmin}, {"auditor", "default", bridge.TokenAuditor}, {"scim", "default", bridge.TokenSCIM}} {
		secret, hash, err := bridge.NewTokenSecret()
		if err != nil {
			t.Fatal(err)
		}
		_ = u.store.CreateToken(context.Background(), bridge.Token{ID: tk.name, AccountID: tk.account, Role: tk.role, Name: tk.name, Hash: hash})
		u.secret[tk.name] = secret
	}
	opt := console.Options{Tokens: u.store, AdminToken: unitBootstrap, Syntax: ldapsync.Syntax{}, Now: func() time.Time { return u.now }}
	if mut != nil {
		mut(&opt)
	}
	h, err := console.Handler(u.api, opt)
	if err != nil {
		t.Fatal(err)
	}
	u.h = h
	return u
}

func (u *unit) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	u.h.ServeHTTP(rec, req)
	return rec
}

// loginForm fetches the sign-in page and returns its CSRF field and cookie.
func (u *unit) loginForm() (csrf string, ck *http.Cookie) {
	u.t.Helper()
	rec := u.do(httptest.NewRequest("GET", "/console/login", nil))
	if rec.Code != 200 {
		u.t.Fatalf("GET /console/login: %d", rec.Code)
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		u.t.Fatal("the sign-in form has no csrf field")
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == console.LoginCookie {
			ck = c
		}
	}
	if ck == nil {
		u.t.Fatal("the sign-in page sets no login cookie")
	}
	return m[1], ck
}

func (u *unit) postLogin(csrf string, ck *http.Cookie, token, account string) *httptest.ResponseRecorder {
	form := url.Values{"csrf": {csrf}, "token": {token}, "account": {account}}
	req := httptest.NewRequest("POST", "/console/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if ck != nil {
		req.AddCookie(ck)
	}
	return u.do(req)
}

// signIn signs in with the named token and returns the session cookie and
// the page's CSRF token.
func (u *unit) signIn(name string) (*http.Cookie, string) {
	u.t.Helper()
	csrf, ck := u.loginForm()
	secret := u.secret[name]
	if name == "bootstrap" {
		secret = unitBootstrap
	}
	rec := u.postLogin(csrf, ck, secret, "")
	if rec.Code != http.StatusSeeOther {
		u.t.Fatalf("sign in as %s: %d %s", name, rec.Code, rec.Body)
	}
	var sess *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == console.SessionCookie {
			sess = c
		}
	}
	if sess == nil {
		u.t.Fatal("sign-in set no session cookie")
	}
	page := u.get("/console/runs", sess)
	m := regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`).FindStringSubmatch(page.Body.String())
	if m == nil {
		u.t.Fatalf("no csrf-token meta on /console/runs: %d %s", page.Code, page.Body)
	}
	return sess, m[1]
}

func (u *unit) get(path string, ck *http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	if ck != nil {
		req.AddCookie(ck)
	}
	return u.do(req)
}

func TestSignIn(t *testing.T) {
	u := newUnit(t, nil)
	csrf, ck := u.loginForm()
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console" {
		t.Errorf("login cookie %+v: want HttpOnly, SameSite=Strict, Path=/console", ck)
	}
	cases := []struct {
		name       string
		csrf       string
		cookie     *http.Cookie
		token      string
		account    string
		wantStatus int
		wantText   string
		wantGo     string
	}{
		{"no login cookie", csrf, nil, u.secret["admin"], "", 403, "expired", ""},
		{"wrong csrf", "x" + csrf, ck, u.secret["admin"], "", 403, "expired", ""},
		{"empty token", csrf, ck, "", "", 401, "Enter an admin", ""},
		{"unknown token", csrf, ck, "scb_nope", "", 401, "not valid", ""},
		{"scim token", csrf, ck, u.secret["scim"], "", 403, "SCIM token", ""},
		{"bad account for bootstrap", csrf, ck, unitBootstrap, "../x", 422, "account id", ""},
		{"admin", csrf, ck, u.secret["admin"], "", 303, "", "/console/settings"},
		{"auditor", csrf, ck, u.secret["auditor"], "", 303, "", "/console/audit"},
		{"bootstrap", csrf, ck, unitBootstrap, "acme", 303, "", "/console/settings"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := u.postLogin(tc.csrf, tc.cookie, tc.token, tc.account)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if tc.wantText != "" && !strings.Contains(rec.Body.String(), tc.wantText) {
				t.Errorf("body lacks %q:\n%s", tc.wantText, rec.Body)
			}
			if tc.wantGo != "" && rec.Header().Get("Location") != tc.wantGo {
				t.Errorf("Location %q, want %q", rec.Header().Get("Location"), tc.wantGo)
			}
			for _, c := range rec.Result().Cookies() {
				if c.Name != console.SessionCookie {
					continue
				}
				if tc.wantStatus != 303 {
					t.Errorf("a refused sign-in set a session cookie")
				}
				if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/console" {
					t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, not Secure over HTTP, Path=/console", c)
				}
				if strings.Contains(c.Value, tc.token) || strings.Contains(c.Value, strings.TrimPrefix(tc.token, "scb_")) {
					t.Errorf("the session cookie carries the token in clear")
				}
			}
		})
	}
}

func TestSessionCookieSecureOverTLS(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tls    bool
		secure bool
	}{{"tls", true, false}, {"behind a TLS proxy", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUnit(t, func(o *console.Options) { o.SecureCookies = tc.secure })
			req := httptest.NewRequest("GET", "/console/login", nil)
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			rec := u.do(req)
			for _, c := range rec.Result().Cookies() {
				if !c.Secure {
					t.Errorf("cookie %s is not Secure", c.Name)
				}
			}
		})
	}
}

func TestSessionEndsOnExpiryAndRevocation(t *testing.T) {
	u := newUnit(t, func(o *console.Options) { o.SessionTTL = time.Hour })
	sess, _ := u.signIn("admin")
	if rec := u.get("/console/settings", sess); rec.Code != 200 {
		t.Fatalf("settings: %d", rec.Code)
	}
	// Auditors may not open admin pages.
	aud, _ := u.signIn("auditor")
	if rec := u.get("/console/wizard", aud); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/console/audit" {
		t.Errorf("auditor on /console/wizard: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	// A tampered cookie is no session.
	bad := *sess
	bad.Value = sess.Value[:len(sess.Value)-4] + "AAAA"
	if rec := u.get("/console/settings", &bad); rec.Header().Get("Location") != "/console/login" {
		t.Errorf("tampered cookie: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	// Expired.
	u.now = u.now.Add(2 * time.Hour)
	if rec := u.get("/console/settings", sess); rec.Header().Get("Location") != "/console/login" {
		t.Errorf("expired session: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	u.now = time.Now()
	// Revoked token: the page sends the user to sign in at once.
	_ = u.store.DeleteToken(context.Background(), "default", "admin")
	if rec := u.get("/console/settings", sess); rec.Header().Get("Location") != "/console/login" {
		t.Errorf("revoked token: %d %s", rec.Code, rec.Header().Get("Location"))
	}
}

func TestProxyAttachesTokenAndChecksCSRF(t *testing.T) {
	u := newUnit(t, nil)
	sess, csrf := u.signIn("admin")
	req := func(method, path, token string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(`{"dryRun": true}`))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer smuggled")
		if token != "" {
			r.Header.Set(console.CSRFHeader, token)
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		r.AddCookie(sess)
		return u.do(r)
	}
	cases := []struct {
		name     string
		method   string
		path     string
		csrf     string
		hdr      map[string]string
		want     int
		wantCall string
	}{
		{"GET needs no CSRF token", "GET", "/console/api/runs?limit=1", "", nil, 200, "GET /api/v1/accounts/default/runs?limit=1 Bearer " + u.secret["admin"] + " cookie="},
		{"POST without CSRF token", "POST", "/console/api/runs", "", nil, 403, ""},
		{"POST with a wrong CSRF token", "POST", "/console/api/runs", csrf + "x", nil, 403, ""},
		{"POST from another site", "POST", "/console/api/runs", csrf, map[string]string{"Origin": "https://evil.example"}, 403, ""},
		{"POST marked cross-site", "POST", "/console/api/runs", csrf, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, ""},
		{"PUT with the CSRF token", "PUT", "/console/api/directory", csrf, map[string]string{"Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}, 200,
			"PUT /api/v1/accounts/default/directory Bearer " + u.secret["admin"] + " cookie="},
		{"DELETE with the CSRF token", "DELETE", "/console/api/owners/7", csrf, nil, 200, "DELETE /api/v1/accounts/default/owners/7 Bearer " + u.secret["admin"] + " cookie="},
		{"PATCH is not proxied", "PATCH", "/console/api/directory", csrf, nil, 405, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := u.api.last()
			rec := req(tc.method, tc.path, tc.csrf, tc.hdr)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			got := u.api.last()
			if tc.wantCall == "" && got != before {
				t.Errorf("the refused request reached the API: %s", got)
			}
			if tc.wantCall != "" && got != tc.wantCall {
				t.Errorf("API call\n got %s\nwant %s", got, tc.wantCall)
			}
		})
	}
	// No session: 401 problem, nothing proxied.
	r := httptest.NewRequest("GET", "/console/api/runs", nil)
	if rec := u.do(r); rec.Code != 401 || !strings.Contains(rec.Header().Get("Content-Type"), "problem+json") {
		t.Errorf("no session: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	// Sign-out needs the CSRF token too.
	out := func(token string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/console/logout", strings.NewReader(url.Values{"csrf": {token}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(sess)
		return u.do(r)
	}
	if rec := out("nope"); rec.Code != 403 {
		t.Errorf("sign-out without the CSRF token: %d", rec.Code)
	}
	rec := out(csrf)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", rec.Code)
	}
	cleared := false
	for _, c := range rec.Result().Cookies() {
		cleared = cleared || (c.Name == console.SessionCookie && c.MaxAge < 0)
	}
	if !cleared {
		t.Error("sign-out did not clear the session cookie")
	}
}

func TestValidateChecksFiltersAsTyped(t *testing.T) {
	u := newUnit(t, nil)
	sess, csrf := u.signIn("admin")
	post := func(body, token string, ck *http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/console/validate", strings.NewReader(body))
		r.Header.Set(console.CSRFHeader, token)
		r.AddCookie(ck)
		return u.do(r)
	}
	doc := `{"connection": {"host": "dc1.example.com", "baseDn": "DC=example,DC=com", "bindDn": "CN=svc,DC=example,DC=com"},
		"users": {"inclusionFilter": "(department=*", "exclusionFilter": "(title=Contractor)"}}`
	rec := post(doc, csrf, sess)
	if rec.Code != 200 {
		t.Fatalf("validate: %d %s", rec.Code, rec.Body)
	}
	var out struct{ Problems []bridge.Problem }
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	fields := map[string]bool{}
	for _, p := range out.Problems {
		fields[p.Field] = true
	}
	if !fields["users.inclusionFilter"] || fields["users.exclusionFilter"] || fields["connection.password"] {
		t.Errorf("problems %+v: want users.inclusionFilter only (the password may be stored)", out.Problems)
	}
	if rec := post(doc, "wrong", sess); rec.Code != 403 {
		t.Errorf("validate without the CSRF token: %d", rec.Code)
	}
	aud, audCSRF := u.signIn("auditor")
	if rec := post(doc, audCSRF, aud); rec.Code != 403 {
		t.Errorf("validate as auditor: %d", rec.Code)
	}
}

func TestCSPOnEveryAnswer(t *testing.T) {
	u := newUnit(t, nil)
	sess, _ := u.signIn("admin")
	for _, path := range []string{"/console/login", "/console/settings", "/console/wizard", "/console/runs", "/console/runs/abc",
		"/console/audit", "/console/static/app.js", "/console/static/style.css", "/console/nope", "/console/static/nope.js"} {
		rec := u.get(path, sess)
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self'") ||
			strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
}

// TestNoInlineScriptOrStyle keeps the pages within the CSP: no inline
// script, no style attribute or element, no on* handler attribute, nothing
// loaded from another origin.
func TestNoInlineScriptOrStyle(t *testing.T) {
	bad := []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]+</script>`),
		regexp.MustCompile(`<script(?:\s(?:[^s>]|s[^r>])*)?>`), // a script element without src
		regexp.MustCompile(`<style`), regexp.MustCompile(`\sstyle=`), regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`(?:src|href)="(?:https?:)?//`), regexp.MustCompile(`javascript:`),
	}
	err := fs.WalkDir(os.DirFS("."), "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, re := range bad {
			if loc := re.FindIndex(data); loc != nil {
				t.Errorf("%s: %q matches %s", p, data[loc[0]:min(loc[1]+20, len(data))], re)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := os.ReadFile("static/app.js")
	for _, s := range []string{"innerHTML", "outerHTML", "eval(", "new Function", "document.write", "http://", "https://"} {
		if strings.Contains(string(js), s) {
			t.Errorf("app.js uses %q", s)
		}
	}
}

func TestNoPathTraversal(t *testing.T) {
	u := newUnit(t, nil)
	sess, _ := u.signIn("admin")
	paths := []string{
		"/console/static/../pages.go", "/console/static/%2e%2e/pages.go", "/console/static/..%2fpages.go",
		"/console/static/..%5cpages.go", "/console/static/%2e%2e%2fconsole.go", "/console/static/templates%2flogin.html",
		"/console/static/.%2fapp.js", "/console/static//etc/passwd", "/console/static/app.js%00", "/console/static/",
		"/console/static/../../../../etc/passwd", "/console/../console/console.go", "/console/templates/login.html",
		"/console/api/../../api/v1/accounts", "/console/api/runs/..%2f..%2f..%2ftokens", "/console/api/%2e%2e/tokens",
		"/console/api/runs/%2e%2e", "/console/api/runs/./x", "/console/api//accounts", "/console/api/runs%2f..%2f..%2fother",
		"/console/api/runs/..", "/console/api/", "/console/api/runs\\..\\tokens",
	}
	calls := len(u.api.calls)
	for _, p := range paths {
		req := &http.Request{Method: "GET", URL: &url.URL{Path: mustUnescape(p), RawPath: p}, RequestURI: p, Header: http.Header{}, Host: "example.com"}
		req = req.WithContext(context.Background())
		if mustUnescape(p) == p {
			req.URL.RawPath = ""
		}
		req.AddCookie(sess)
		rec := u.do(req)
		body := rec.Body.String()
		t.Logf("%-50s %d %s", p, rec.Code, rec.Header().Get("Location"))
		if rec.Code == 200 || strings.Contains(body, "package console") || strings.Contains(body, "root:") || strings.Contains(body, `{{define`) {
			t.Errorf("%s: %d %.80q", p, rec.Code, body)
		}
	}
	if len(u.api.calls) != calls {
		t.Errorf("traversal paths reached the API: %v", u.api.calls[calls:])
	}
	// The embedded files themselves are served.
	for _, p := range []string{"/console/static/app.js", "/console/static/style.css"} {
		if rec := u.get(p, nil); rec.Code != 200 || rec.Body.Len() < 100 {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
}

func mustUnescape(p string) string {
	s, err := url.PathUnescape(p)
	if err != nil {
		return p
	}
	return s
}
