package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/scimapi/admin"
	"github.com/scimbridge/scimbridge/scimapi/console"
)

// router is the whole HTTP surface (SCIM, admin API, console) on one real
// store, wired as `scimbridge serve` wires it, with tokens of every role.
type router struct {
	t      *testing.T
	store  *db.Store
	h      http.Handler
	logs   *logBuffer
	tokens map[string]string // "scim", "admin", "auditor", "bootstrap" -> secret
}

const routerBootstrap = "reliability-router-bootstrap-token"

func newRouter(t *testing.T, store *db.Store, mut func(*scimapi.Options)) *router {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, bridge.SecretKeySize)
	_, _ = rand.Read(key)
	box, err := bridge.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	log, lb := testLogger(t)
	runner := bridge.NewRunner(bridge.Engine{Store: store, Open: ldapsync.Open, Secrets: box.Open, Log: log}, log)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		runner.Close(ctx)
	})
	if _, err := store.EnsureAccount(ctx, bridge.DefaultAccount); err != nil {
		t.Fatal(err)
	}
	r := &router{t: t, store: store, logs: lb, tokens: map[string]string{"bootstrap": routerBootstrap}}
	for _, role := range []bridge.TokenRole{bridge.TokenSCIM, bridge.TokenAdmin, bridge.TokenAuditor} {
		secret, hash, err := bridge.NewTokenSecret()
		if err != nil {
			t.Fatal(err)
		}
		if err := store.CreateToken(ctx, bridge.Token{ID: "rel-" + string(role), AccountID: bridge.DefaultAccount, Role: role,
			Name: string(role), Hash: hash, CreatedAt: time.Now().UTC()}); err != nil {
			t.Fatal(err)
		}
		r.tokens[string(role)] = secret
	}
	opt := scimapi.Options{Store: store, Log: log,
		Admin: &admin.Options{Store: store, Runner: runner, Syntax: ldapsync.Syntax{}, Open: ldapsync.Open,
			Secrets: box, AdminToken: routerBootstrap, Log: log},
		Console: &console.Options{Tokens: store, AdminToken: routerBootstrap, Secrets: box, Syntax: ldapsync.Syntax{}, Log: log},
	}
	if mut != nil {
		mut(&opt)
	}
	r.h = scimapi.NewRouter(opt)
	return r
}

// req is one in-process request.
type req struct {
	method, path string
	token        string // a role of r.tokens, or a literal secret; "" for none
	ctype        string
	body         []byte
	remote       string // RemoteAddr; 192.0.2.1:1234 by default
	header       http.Header
	chunked      bool // no Content-Length: the size is known only by reading
}

func (r *router) do(q req) *httptest.ResponseRecorder {
	r.t.Helper()
	hr := httptest.NewRequest(q.method, "http://bridge.test"+q.path, bytes.NewReader(q.body))
	if q.body == nil {
		hr = httptest.NewRequest(q.method, "http://bridge.test"+q.path, nil)
	}
	if q.chunked {
		hr.Body = io.NopCloser(io.MultiReader(bytes.NewReader(q.body)))
		hr.ContentLength = -1
	}
	if q.remote != "" {
		hr.RemoteAddr = q.remote
	}
	if q.token != "" {
		secret := q.token
		if s, ok := r.tokens[q.token]; ok {
			secret = s
		}
		hr.Header.Set("Authorization", "Bearer "+secret)
	}
	if q.ctype != "" {
		hr.Header.Set("Content-Type", q.ctype)
	}
	for k, v := range q.header {
		hr.Header[k] = v
	}
	w := httptest.NewRecorder()
	r.h.ServeHTTP(w, hr)
	return w
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// consoleLogin fetches the sign-in form in-process from remote and returns
// the CSRF token and the login cookie to post with it.
func (r *router) consoleLogin(remote string) (string, *http.Cookie) {
	r.t.Helper()
	w := r.do(req{method: "GET", path: "/console/login", remote: remote})
	m := csrfField.FindStringSubmatch(w.Body.String())
	if w.Code != 200 || m == nil {
		r.t.Fatalf("GET /console/login: %d, csrf field found: %v", w.Code, m != nil)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == console.LoginCookie {
			return m[1], c
		}
	}
	r.t.Fatal("the sign-in page set no login cookie")
	return "", nil
}

// consoleSignIn posts the sign-in form in-process with token (a role of
// r.tokens or a literal secret).
func (r *router) consoleSignIn(remote, token string) *httptest.ResponseRecorder {
	r.t.Helper()
	csrf, ck := r.consoleLogin(remote)
	if s, ok := r.tokens[token]; ok {
		token = s
	}
	form := url.Values{"csrf": {csrf}, "token": {token}}
	return r.do(req{method: "POST", path: "/console/login", remote: remote, ctype: "application/x-www-form-urlencoded",
		body: []byte(form.Encode()), header: http.Header{"Cookie": {ck.String()}}})
}

// browser is an HTTP client with a cookie jar against a live server, for
// the console: it signs in through the form like a browser does.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
	// seen collects every response (status line, headers, body),
	// redirects included.
	seen *bytes.Buffer
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	seen := &bytes.Buffer{}
	return &browser{t: t, base: base, seen: seen,
		c: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: recorder{seen}}}
}

// recorder keeps every response the browser gets, redirects included.
type recorder struct{ seen *bytes.Buffer }

func (rec recorder) RoundTrip(hr *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(hr)
	if err != nil {
		return res, err
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(data))
	rec.seen.WriteString(hr.Method + " " + hr.URL.RequestURI() + " -> " + res.Status + "\n")
	_ = res.Header.Write(rec.seen)
	rec.seen.Write(data)
	rec.seen.WriteString("\n")
	return res, nil
}

func (b *browser) send(hr *http.Request) (*http.Response, string) {
	b.t.Helper()
	res, err := b.c.Do(hr)
	if err != nil {
		b.t.Fatalf("%s %s: %v", hr.Method, hr.URL, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, string(data)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	hr, _ := http.NewRequest("GET", b.base+path, nil)
	return b.send(hr)
}

// signIn loads the sign-in page, takes its CSRF token and posts the form.
func (b *browser) signIn(token, account string) (*http.Response, string) {
	b.t.Helper()
	res, page := b.get("/console/login")
	m := csrfField.FindStringSubmatch(page)
	if res.StatusCode != 200 || m == nil {
		b.t.Fatalf("GET /console/login: %d, csrf field found: %v", res.StatusCode, m != nil)
	}
	form := url.Values{"csrf": {m[1]}, "token": {token}, "account": {account}}
	hr, _ := http.NewRequest("POST", b.base+"/console/login", strings.NewReader(form.Encode()))
	hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(hr)
}

// csrf is the session's CSRF token from a signed-in page.
func (b *browser) csrf(page string) string {
	b.t.Helper()
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		b.t.Fatal("the page carries no CSRF token")
	}
	return m[1]
}

// api calls /console/api/... with the session cookie and CSRF token.
func (b *browser) api(method, path, csrf string, body []byte) (*http.Response, string) {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hr, _ := http.NewRequest(method, b.base+"/console/api/"+path, rd)
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if csrf != "" {
		hr.Header.Set("X-CSRF-Token", csrf)
	}
	return b.send(hr)
}

// consoleSession signs in in-process with token and returns the session
// cookie (as a Cookie header value) and the session's CSRF token.
func (r *router) consoleSession(token string) (cookie, csrf string) {
	r.t.Helper()
	w := r.consoleSignIn("192.0.2.1:1234", token)
	if w.Code != 303 {
		r.t.Fatalf("console sign-in: %d %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == console.SessionCookie {
			cookie = c.Name + "=" + c.Value
		}
	}
	page := r.do(req{method: "GET", path: w.Header().Get("Location"), header: http.Header{"Cookie": {cookie}}})
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(page.Body.String())
	if cookie == "" || m == nil {
		r.t.Fatalf("no session cookie or CSRF token after signing in (page %d)", page.Code)
	}
	return cookie, m[1]
}

// tableCounts counts the rows of every table of the store's database
// (SQLite or PostgreSQL).
func tableCounts(t *testing.T, store *db.Store) map[string]int {
	t.Helper()
	sqlDB, err := store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if store.Dialect() == db.DialectPostgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := sqlDB.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string]int{}
	for _, tb := range tables {
		var n int
		if err := sqlDB.QueryRow(`SELECT count(*) FROM "` + tb + `"`).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", tb, err)
		}
		out[tb] = n
	}
	if len(out) < 5 {
		t.Fatalf("only %d tables found: %v", len(out), out)
	}
	return out
}
