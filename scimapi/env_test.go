package scimapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/pgtest"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
)

// Tests run against the real db Store: SQLite in a temp dir, and
// PostgreSQL in a random database on SCIMBRIDGE_TEST_POSTGRES_URL (skipped
// when unreachable, a failure when CI=true).

func postgresTestURL(t testing.TB) string { return pgtest.NewDatabase(t) }

func openStore(t testing.TB, backend string) *db.Store {
	t.Helper()
	cfg := db.Config{DataDir: t.TempDir()}
	if backend == "postgres" {
		cfg = db.Config{URL: postgresTestURL(t)}
	}
	s, err := db.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s store: %v", backend, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var backends = []string{"sqlite", "postgres"}

// eachBackend runs fn against a fresh store of each backend.
func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) { fn(t, newEnv(t, b)) })
	}
}

type env struct {
	t     testing.TB
	store *db.Store
	h     http.Handler
	token string
	acct  string
}

func newEnv(t testing.TB, backend string) *env {
	s := openStore(t, backend)
	e := &env{t: t, store: s, acct: bridge.DefaultAccount}
	e.token = e.newToken(bridge.DefaultAccount, bridge.TokenSCIM)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	e.h = NewRouter(Options{Store: s, Log: log, SCIMBaseURL: "https://scim.example.com/scim/v2"})
	return e
}

func (e *env) newToken(account string, role bridge.TokenRole) string {
	tok, hash, err := bridge.NewTokenSecret()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.CreateToken(context.Background(), bridge.Token{ID: newID(), AccountID: account, Role: role, Hash: hash}); err != nil {
		e.t.Fatalf("create token: %v", err)
	}
	return tok
}

// resp is a recorded answer with its decoded JSON body.
type resp struct {
	*httptest.ResponseRecorder
	body map[string]any
}

func (e *env) do(method, path string, body any, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer "+e.token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	r := resp{ResponseRecorder: rec}
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &r.body); err != nil {
			e.t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, path, err, rec.Body.String())
		}
	}
	return r
}

// want checks the status and, for errors, the SCIM error schema.
func (r resp) want(t testing.TB, status int, scimType string) resp {
	t.Helper()
	if r.Code != status {
		t.Fatalf("status %d, want %d; body %s", r.Code, status, r.Body.String())
	}
	if status >= 400 {
		if ct := r.Header().Get("Content-Type"); ct != scimContentType {
			t.Errorf("error Content-Type %q", ct)
		}
		schemas, _ := r.body["schemas"].([]any)
		if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
			t.Errorf("error body without the Error schema: %s", r.Body.String())
		}
		if r.body["status"] != itoa(status) {
			t.Errorf("error status field %v, want %q", r.body["status"], itoa(status))
		}
		if got, _ := r.body["scimType"].(string); got != scimType {
			t.Errorf("scimType %q, want %q; body %s", got, scimType, r.Body.String())
		}
	}
	return r
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// get follows a dotted path through the body ("Resources.0.id").
func (r resp) get(path string) any {
	var cur any = r.body
	parts := strings.Split(path, ".")
	for i := 0; i < len(parts); i++ {
		p := parts[i]
		switch c := cur.(type) {
		case map[string]any:
			// Keys may hold dots (schema URNs): take the longest that fits.
			for j := len(parts); j > i; j-- {
				if k := strings.Join(parts[i:j], "."); c[k] != nil {
					p, i = k, j-1
					break
				}
			}
			cur = c[p]
		case []any:
			i := 0
			for _, ch := range p {
				i = i*10 + int(ch-'0')
			}
			if i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

func (r resp) str(path string) string { s, _ := r.get(path).(string); return s }

func (r resp) num(path string) int { f, _ := r.get(path).(float64); return int(f) }
