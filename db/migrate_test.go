package db

import (
	"context"
	"sort"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/internal/pgtest"
	"gorm.io/gorm/schema"
)

// backends opens a fresh migrated store per dialect.
func backends(t *testing.T) map[string]func(t *testing.T) (*Store, Config) {
	return map[string]func(t *testing.T) (*Store, Config){
		"sqlite": func(t *testing.T) (*Store, Config) {
			cfg := Config{DataDir: t.TempDir()}
			return openConfig(t, cfg), cfg
		},
		"postgres": func(t *testing.T) (*Store, Config) {
			cfg := Config{URL: pgtest.NewDatabase(t)}
			return openConfig(t, cfg), cfg
		},
	}
}

func openConfig(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s, _ := open(t)
			before, err := s.AppliedMigrations(t.Context())
			if err != nil || len(before) == 0 {
				t.Fatalf("AppliedMigrations = %v, %v", before, err)
			}
			ms, _ := loadMigrations(s.Dialect())
			if len(before) != len(ms) {
				t.Fatalf("applied %v, embedded %d", before, len(ms))
			}
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			after, _ := s.AppliedMigrations(t.Context())
			if len(after) != len(before) {
				t.Errorf("second Migrate changed schema_migrations: %v -> %v", before, after)
			}
		})
	}
}

func TestConcurrentMigrate(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			// A fresh, empty database, then several "replicas" at once.
			_, cfg := open(t)
			if cfg.URL != "" {
				cfg.URL = pgtest.NewDatabase(t)
			} else {
				cfg.DataDir = t.TempDir()
			}
			const replicas = 4
			stores := make([]*Store, replicas)
			for i := range stores {
				s, err := OpenWithoutMigrating(t.Context(), cfg)
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				t.Cleanup(func() { s.Close() })
				stores[i] = s
			}
			var wg sync.WaitGroup
			errs := make([]error, replicas)
			for i, s := range stores {
				wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("replica %d: Migrate: %v", i, err)
				}
			}
			vs, err := stores[0].AppliedMigrations(t.Context())
			ms, _ := loadMigrations(stores[0].Dialect())
			if err != nil || len(vs) != len(ms) {
				t.Errorf("applied %v (%v), want %d migrations once each", vs, err, len(ms))
			}
		})
	}
}

// TestModelsMatchSchema checks that every gorm model names exactly the
// columns its table has after migrating, on both dialects: the schema
// comes from SQL, so nothing else keeps the two in step.
func TestModelsMatchSchema(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s, _ := open(t)
			for _, m := range allModels() {
				sch, err := schema.Parse(m, &sync.Map{}, s.db.NamingStrategy)
				if err != nil {
					t.Fatalf("parse %T: %v", m, err)
				}
				var fields []string
				for _, f := range sch.Fields {
					if f.DBName != "" {
						fields = append(fields, f.DBName)
					}
				}
				cols, err := s.db.Migrator().ColumnTypes(sch.Table)
				if err != nil {
					t.Fatalf("columns of %s: %v", sch.Table, err)
				}
				var names []string
				for _, c := range cols {
					names = append(names, c.Name())
				}
				sort.Strings(fields)
				sort.Strings(names)
				if len(fields) != len(names) || len(names) == 0 {
					t.Errorf("%s: model %v, table %v", sch.Table, fields, names)
					continue
				}
				for i := range names {
					if names[i] != fields[i] {
						t.Errorf("%s: model %v, table %v", sch.Table, fields, names)
						break
					}
				}
			}
		})
	}
}

func TestOpenRejectsOtherSchemes(t *testing.T) {
	_, err := Open(t.Context(), Config{URL: "mysql://user:secret@host/db"})
	if err == nil {
		t.Fatal("Open accepted a mysql URL")
	}
	if got := err.Error(); contains(got, "secret") {
		t.Errorf("error leaks the URL's password: %s", got)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
