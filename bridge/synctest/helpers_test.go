package synctest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/internal/pgtest"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
	"github.com/scimbridge/scimbridge/ldapsync"
)

const sampleBase = "DC=example,DC=com"

// backends are the real stores the engine is tested against.
var backends = []struct {
	name string
	open func(t *testing.T) bridge.Store
}{
	{"sqlite", openSQLite},
	{"postgres", openPostgres},
}

func openSQLite(t *testing.T) bridge.Store {
	t.Helper()
	s, err := db.Open(context.Background(), db.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open SQLite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openPostgres opens a store on a throwaway database (internal/pgtest).
func openPostgres(t *testing.T) bridge.Store {
	t.Helper()
	s, err := db.Open(context.Background(), db.Config{URL: pgtest.NewDatabase(t)})
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// forEachBackend runs fn as a subtest per store.
func forEachBackend(t *testing.T, fn func(t *testing.T, open func(t *testing.T) bridge.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open) })
	}
}

// testLogger logs into the test log on failure and fails the test if a
// password shows up.
func testLogger(t *testing.T, secrets ...string) *slog.Logger {
	t.Helper()
	var mu sync.Mutex
	var buf bytes.Buffer
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range secrets {
			if s != "" && bytes.Contains(buf.Bytes(), []byte(s)) {
				t.Errorf("a password was logged")
			}
		}
		if t.Failed() {
			t.Logf("log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// env is one store, one sealing key and an engine; directories and
// accounts are added to it.
type env struct {
	t      *testing.T
	ctx    context.Context
	store  bridge.Store
	box    *bridge.SecretBox
	engine *bridge.Engine
}

func newEnv(t *testing.T, store bridge.Store, secrets ...string) *env {
	t.Helper()
	key := make([]byte, bridge.SecretKeySize)
	_, _ = rand.Read(key)
	box, err := bridge.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return &env{
		t: t, ctx: context.Background(), store: store, box: box,
		engine: &bridge.Engine{
			Store: store, Open: ldapsync.Open, Secrets: box.Open,
			Log: testLogger(t, secrets...), BatchSize: 7, // small batches: several transactions per run
		},
	}
}

// configure creates the account and stores its settings with the password
// sealed, as the admin API does.
func (e *env) configure(account string, s bridge.Settings) {
	e.t.Helper()
	if _, err := e.store.EnsureAccount(e.ctx, account); err != nil {
		e.t.Fatalf("EnsureAccount: %v", err)
	}
	sealed, err := e.box.Seal(s.Connection.Password)
	if err != nil {
		e.t.Fatal(err)
	}
	s.Connection.Password = ""
	if err := e.store.PutSettings(e.ctx, account, bridge.StoredSettings{Settings: s, SealedPassword: sealed}); err != nil {
		e.t.Fatalf("PutSettings: %v", err)
	}
}

func (e *env) run(opt bridge.RunOptions) bridge.Run {
	e.t.Helper()
	if opt.Trigger == "" {
		opt.Trigger = bridge.TriggerCLI
	}
	r, err := e.engine.Run(e.ctx, opt)
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	stored, err := e.store.GetRun(e.ctx, opt.Account, r.ID)
	if err != nil {
		e.t.Fatalf("GetRun: %v", err)
	}
	if stored.Status != r.Status || stored.Counts != r.Counts || stored.Error != r.Error || stored.FinishedAt == nil {
		e.t.Fatalf("stored run differs from the returned report:\nstored %+v\nreturned %+v", stored, r)
	}
	return r
}

// mustSucceed runs and fails the test unless the run succeeded.
func (e *env) mustSucceed(opt bridge.RunOptions) bridge.Run {
	e.t.Helper()
	r := e.run(opt)
	if r.Status != bridge.RunSucceeded {
		e.t.Fatalf("run %s: %s: %s", r.ID, r.Status, r.Error)
	}
	return r
}

func (e *env) events(account, runID string) []bridge.RunEvent {
	e.t.Helper()
	evs, _, err := e.store.ListRunEvents(e.ctx, account, runID, bridge.EventFilter{Limit: 10000})
	if err != nil {
		e.t.Fatalf("ListRunEvents: %v", err)
	}
	return evs
}

// snapshot is every user and group of an account by externalId.
type snapshot struct {
	users  map[string]bridge.User
	groups map[string]bridge.Group
}

func (e *env) snapshot(account string) snapshot {
	e.t.Helper()
	s := snapshot{users: map[string]bridge.User{}, groups: map[string]bridge.Group{}}
	us, _, err := e.store.ListUsers(e.ctx, account, "", 0, 100000)
	if err != nil {
		e.t.Fatalf("ListUsers: %v", err)
	}
	for _, u := range us {
		s.users[u.ExternalID] = u
	}
	gs, _, err := e.store.ListGroups(e.ctx, account, 0, 100000)
	if err != nil {
		e.t.Fatalf("ListGroups: %v", err)
	}
	for _, g := range gs {
		full, err := e.store.GetGroup(e.ctx, account, g.ID)
		if err != nil {
			e.t.Fatalf("GetGroup: %v", err)
		}
		s.groups[g.ExternalID] = full
	}
	return s
}

// userByDN finds a user by DN (case-insensitive).
func (s snapshot) userByDN(dn string) (bridge.User, bool) {
	for _, u := range s.users {
		if bridge.EqualDN(u.DN, dn) {
			return u, true
		}
	}
	return bridge.User{}, false
}

func (s snapshot) groupByDN(dn string) (bridge.Group, bool) {
	for _, g := range s.groups {
		if bridge.EqualDN(g.DN, dn) {
			return g, true
		}
	}
	return bridge.Group{}, false
}

func (s snapshot) versions() map[string]int64 {
	out := map[string]int64{}
	for k, u := range s.users {
		out["u/"+k] = u.Version
	}
	for k, g := range s.groups {
		out["g/"+k] = g.Version
	}
	return out
}

// eventKey is an event without what differs between two runs making the
// same decisions (ids of new objects, times, event ids).
func eventKey(ev bridge.RunEvent) string {
	id := ev.ResourceID
	if ev.Action == bridge.ActionAdd {
		id = ""
	}
	return strings.Join([]string{string(ev.ObjectType), string(ev.Action), ev.DN, ev.ExternalID, id, ev.Name, ev.Reason,
		strings.Join(ev.Changed, ",")}, "|")
}

func eventKeys(evs []bridge.RunEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = eventKey(ev)
	}
	sort.Strings(out)
	return out
}

func memberIDs(g bridge.Group) []string {
	var out []string
	for _, m := range g.Members {
		out = append(out, m.Type+":"+m.ID)
	}
	sort.Strings(out)
	return out
}

type slogLogger = slog.Logger

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
