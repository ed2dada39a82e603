package db

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/pgtest"
)

// TestPostgresColumnsCoverModels: the column arrays of the PostgreSQL
// write path name every column of their model but account_id (one
// parameter) and a generated id, so a column added to a model cannot be
// left out of the writes.
func TestPostgresColumnsCoverModels(t *testing.T) {
	names := func(cols any) []string {
		v := reflect.ValueOf(cols)
		out := make([]string, v.Len())
		for i := range out {
			out[i] = v.Index(i).FieldByName("name").String()
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		model any
		cols  []string
		skip  []string
	}{
		{"users", userRow{}, names(pgUserColumns), []string{"account_id"}},
		{"groups", groupRow{}, names(pgGroupColumns), []string{"account_id"}},
		{"run_events", runEventRow{}, names(pgEventColumns), []string{"account_id", "id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			typ := reflect.TypeOf(tc.model)
			for i := range typ.NumField() {
				for _, part := range strings.Split(typ.Field(i).Tag.Get("gorm"), ";") {
					if c, ok := strings.CutPrefix(part, "column:"); ok && !slices.Contains(tc.skip, c) {
						want = append(want, c)
					}
				}
			}
			got := slices.Clone(tc.cols)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("columns written = %v, model has %v", got, want)
			}
		})
	}
}

// TestPostgresMembersAnalyzeGroups: setting members in a database whose
// groups were never analyzed analyzes them first, so each membership
// row's foreign-key check probes the unique (id, account_id) index instead
// of walking the account's groups (apply_postgres_stats.go).
func TestPostgresMembersAnalyzeGroups(t *testing.T) {
	s := openPostgres(t, pgtest.NewDatabase(t))
	const acct = bridge.DefaultAccount
	if _, err := s.EnsureAccount(t.Context(), acct); err != nil {
		t.Fatal(err)
	}
	// Autovacuum must not analyze groups behind the test's back.
	if err := s.db.Exec(`ALTER TABLE groups SET (autovacuum_enabled = false)`).Error; err != nil {
		t.Fatal(err)
	}
	reltuples := func() float64 {
		t.Helper()
		var n float64
		if err := s.db.Raw(`SELECT reltuples FROM pg_class WHERE oid = to_regclass('groups')`).Row().Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	groups := make([]bridge.Group, 500) // pages enough for an index probe to beat a scan
	for i := range groups {
		groups[i] = bridge.Group{ID: uuid.NewString(), Source: bridge.SourceAD, DisplayName: fmt.Sprintf("g%d", i),
			Status: bridge.StatusActive, DN: fmt.Sprintf("CN=g%d,DC=x", i)}
	}
	user := bridge.User{ID: uuid.NewString(), Source: bridge.SourceAD, UserName: "ann", Status: bridge.StatusActive, Active: true}
	if err := s.Apply(t.Context(), acct, bridge.Changes{Users: []bridge.User{user}, Groups: groups}); err != nil {
		t.Fatal(err)
	}
	if n := reltuples(); n > 0 {
		t.Fatalf("groups estimate after the upsert = %.0f: already analyzed, the test proves nothing", n)
	}
	set := map[string][]bridge.Member{groups[0].ID: {{ID: user.ID, Type: "User"}}}
	if err := s.Apply(t.Context(), acct, bridge.Changes{SetMembers: set}); err != nil {
		t.Fatal(err)
	}
	if n := reltuples(); n != float64(len(groups)) {
		t.Errorf("groups estimate after setting members = %.0f, want %d (analyzed)", n, len(groups))
	}
	// The query of the foreign-key check (ri_triggers.c), as it plans now.
	var plan []string
	if err := s.db.Raw(`EXPLAIN SELECT 1 FROM ONLY groups x WHERE id = ? AND account_id = ? FOR KEY SHARE OF x`,
		groups[1].ID, acct).Scan(&plan).Error; err != nil {
		t.Fatal(err)
	}
	if p := strings.Join(plan, "\n"); !strings.Contains(p, "groups_pkey") && !strings.Contains(p, "groups_id_account_id_key") {
		t.Errorf("foreign-key probe of groups does not use an id index:\n%s", p)
	}
}
