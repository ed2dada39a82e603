package admin_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/pgtest"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gorilla/mux"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
	"github.com/scimbridge/scimbridge/scimapi/admin"
	"github.com/scimbridge/scimbridge/scimapi/auth"
)

const (
	bootstrapToken = "scb_bootstrap-test-token"
	otherAccount   = "other"
)

// env is one admin API on a real store, with an adsim directory and a
// token of every role.
type env struct {
	t       *testing.T
	store   *db.Store
	runner  *bridge.Runner
	box     *bridge.SecretBox
	srv     *adsim.Server
	facts   adsim.SampleFacts
	handler http.Handler
	oapi    routers.Router
	tokens  map[string]string // role name -> secret
}

type backend struct {
	name string
	cfg  func(t *testing.T) db.Config
}

var backends = []backend{
	{"sqlite", func(t *testing.T) db.Config { return db.Config{DataDir: t.TempDir()} }},
	{"postgres", func(t *testing.T) db.Config { return db.Config{URL: pgtest.NewDatabase(t)} }},
}

// forEachBackend runs f on SQLite and PostgreSQL.
func forEachBackend(t *testing.T, f func(t *testing.T, e *env)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { f(t, newEnv(t, be.cfg(t))) })
	}
}

func newEnv(t *testing.T, cfg db.Config) *env {
	t.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	srv, facts, err := adsim.NewSample("DC=example,DC=com", adsim.Options{})
	if err != nil {
		t.Fatalf("adsim: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	key := make([]byte, bridge.SecretKeySize)
	_, _ = rand.Read(key)
	box, err := bridge.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	runner := bridge.NewRunner(bridge.Engine{Store: store, Open: ldapsync.Open, Secrets: box.Open, Log: log}, log)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		runner.Close(ctx)
	})
	r := mux.NewRouter()
	admin.Mount(r.PathPrefix("/api/v1").Subrouter(), admin.Options{
		Store: store, Runner: runner, Syntax: ldapsync.Syntax{}, Open: ldapsync.Open, Secrets: box,
		AdminToken: bootstrapToken, Log: log, MaxBodyBytes: 64 << 10,
		// The role matrix sends hundreds of refused requests from one
		// address; the limiter has its own tests (auth, reliability).
		Limiter: auth.NewLimiter(auth.LimiterConfig{Failures: 1 << 20}),
	})
	e := &env{t: t, store: store, runner: runner, box: box, srv: srv, facts: facts, handler: r, tokens: map[string]string{"bootstrap": bootstrapToken}}
	e.oapi = openAPIRouter(t)
	if err := store.CreateAccount(ctx, bridge.Account{ID: otherAccount, Name: "Other"}); err != nil {
		t.Fatalf("create account: %v", err)
	}
	for name, tk := range map[string]struct {
		account string
		role    bridge.TokenRole
	}{
		"admin": {bridge.DefaultAccount, bridge.TokenAdmin}, "auditor": {bridge.DefaultAccount, bridge.TokenAuditor},
		"scim": {bridge.DefaultAccount, bridge.TokenSCIM}, "otherAdmin": {otherAccount, bridge.TokenAdmin},
	} {
		secret, hash, err := bridge.NewTokenSecret()
		if err != nil {
			t.Fatal(err)
		}
		if err := store.CreateToken(ctx, bridge.Token{AccountID: tk.account, Role: tk.role, Name: name, Hash: hash}); err != nil {
			t.Fatalf("create token: %v", err)
		}
		e.tokens[name] = secret
	}
	return e
}

func openAPIRouter(t *testing.T) routers.Router {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(admin.OpenAPI())
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: "http://scimbridge.test/api/v1"}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("OpenAPI router: %v", err)
	}
	return r
}

// settingsDoc is a valid settings document reaching the adsim server.
func (e *env) settingsDoc(mut func(m map[string]any)) map[string]any {
	doc := map[string]any{
		"connection": map[string]any{
			"host": e.srv.Host(), "port": e.srv.Port(), "security": "none",
			"baseDn": e.srv.BaseDN(), "bindDn": e.facts.ServiceDN, "password": adsim.SamplePassword, "timeoutSeconds": 10,
		},
		"organizationalUnits": map[string]any{"mode": "all"},
		"distributionLists":   map[string]any{"import": true},
		"users":               map[string]any{"mapping": "default"},
		"deletionThreshold":   map[string]any{"maxCount": 500, "maxPercent": 100},
		"schedule":            map[string]any{"enabled": false},
	}
	if mut != nil {
		mut(doc)
	}
	return doc
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r resp) problem(t *testing.T) admin.Problem {
	t.Helper()
	var p admin.Problem
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", ct, r.body)
	}
	r.json(t, &p)
	return p
}

// do calls the API as token (a key of e.tokens, or "" for none) and checks
// the request and the response against the OpenAPI document.
func (e *env) do(method, path, token string, body any) resp {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	req := httptest.NewRequest(method, "http://scimbridge.test/api/v1"+path, bytes.NewReader(raw))
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		secret, ok := e.tokens[token]
		if !ok {
			secret = token
		}
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	res := resp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	e.validate(method, path, raw, res)
	return res
}

// validate checks one exchange against the OpenAPI document: the route
// must be documented, a request the handler accepted must be valid, and
// the response (status, content type, body) must match.
func (e *env) validate(method, path string, raw []byte, res resp) {
	e.t.Helper()
	req := httptest.NewRequest(method, "http://scimbridge.test/api/v1"+path, bytes.NewReader(raw))
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	route, params, err := e.oapi.FindRoute(req)
	if err != nil {
		if res.status == http.StatusNotFound || res.status == http.StatusMethodNotAllowed {
			return // not a route: nothing to document
		}
		e.t.Fatalf("%s %s answered %d but is not in the OpenAPI document: %v", method, path, res.status, err)
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && res.status < 400 {
		e.t.Fatalf("%s %s: the handler accepted (%d) a request the OpenAPI document rejects: %v", method, path, res.status, err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.status, Header: res.header,
		Body: io.NopCloser(bytes.NewReader(res.body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		e.t.Fatalf("%s %s: response %d does not match the OpenAPI document: %v\nbody: %s", method, path, res.status, err, res.body)
	}
}

// configure stores the settings document through the API.
func (e *env) configure(mut func(m map[string]any)) {
	e.t.Helper()
	if r := e.do("PUT", "/accounts/default/directory", "admin", e.settingsDoc(mut)); r.status != 200 {
		e.t.Fatalf("PUT directory: %d %s", r.status, r.body)
	}
}

// runAndWait starts a run through the API and waits for its end.
func (e *env) runAndWait(body any) bridge.Run {
	e.t.Helper()
	r := e.do("POST", "/accounts/default/runs", "admin", body)
	if r.status != http.StatusAccepted {
		e.t.Fatalf("Run Now: %d %s", r.status, r.body)
	}
	var run bridge.Run
	r.json(e.t, &run)
	return e.wait(run.ID)
}

func (e *env) wait(id string) bridge.Run {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var run bridge.Run
		r := e.do("GET", "/accounts/default/runs/"+id, "auditor", nil)
		if r.status != 200 {
			e.t.Fatalf("GET run: %d %s", r.status, r.body)
		}
		r.json(e.t, &run)
		if run.Status != bridge.RunRunning {
			return run
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("run %s did not finish", id)
	return bridge.Run{}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
