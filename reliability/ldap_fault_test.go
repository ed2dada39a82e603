package reliability

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/labseed"
	"github.com/scimbridge/scimbridge/ldapsync"
)

// The LDAP faults run against the shared Samba lab through a faultProxy:
// other packages' tests use the same lab at the same time, so the lab is
// never stopped or frozen; only this test's connections are.

// countingProxy wraps a proxy's target so the test learns how many bytes a
// clean read takes and can cut at a fraction of it.
func (p *faultProxy) downBytes() int64 { return p.down.Load() }

// labSettings reads the Sales OU of the lab (1,040 users at 5,200) through
// the proxy, with an exclusion filter the first run uses to leave ~20 users
// out, so that a later run has something to repair.
func labSettings(lab labseed.Lab, p *faultProxy, exclude string, timeout int) bridge.Settings {
	x := labseed.Expected(lab.Users)
	return bridge.Settings{
		Connection: bridge.Connection{Host: p.Host(), Port: p.Port(), Security: bridge.SecurityNone,
			BaseDN: lab.BaseDN, BindDN: lab.BindDN, Password: lab.Password, TimeoutSeconds: timeout},
		OrganizationalUnits: bridge.OrganizationalUnits{Mode: bridge.OUSelected, Selected: []string{x.SalesOU}},
		DistributionLists:   bridge.DistributionLists{Import: true},
		Users:               bridge.UserRules{Mapping: bridge.MappingDefault, ExclusionFilter: exclude},
	}.WithDefaults()
}

// smallPages opens directories with 100-entry pages, so one read of the OU
// is eleven pages and a cut lands inside the paged read.
func smallPages(ctx context.Context, c bridge.Connection, pw string, log *slog.Logger) (bridge.Directory, error) {
	return ldapsync.Options{PageSize: 100}.Open(ctx, c, pw, log)
}

func TestSambaConnectionCutMidPagedRead(t *testing.T) {
	lab := sambaLab(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			tdb := b.open(t)
			p := newFaultProxy(t, fmt.Sprintf("%s:%d", lab.Host, lab.Port))
			e := newSyncEnv(t, tdb.store)
			e.engine.Open = smallPages
			const acct = "cut"
			// Run 1 leaves users user00004..user00099 of Sales out.
			e.configure(acct, labSettings(lab, p, "(sAMAccountName=user000*)", 20))
			if r := e.run(acct); r.Status != bridge.RunSucceeded {
				t.Fatalf("first run: %s %q", r.Status, r.Error)
			}
			e.configure(acct, labSettings(lab, p, "", 20))
			base := takeSnapshot(t, tdb.store, acct)

			// A clean read's size, to cut at fractions of it. A dry run
			// reads exactly what a real run reads and writes no object.
			p.down.Store(0)
			dry, err := e.engine.Run(e.ctx, bridge.RunOptions{Account: acct, DryRun: true, Full: true})
			if err != nil || dry.Status != bridge.RunSucceeded || dry.Counts.Users.Added == 0 {
				t.Fatalf("dry run: %+v %v", dry, err)
			}
			total := p.downBytes()
			t.Logf("a clean read is %d bytes; the repair adds %d users", total, dry.Counts.Users.Added)

			for _, frac := range []float64{0.05, 0.35, 0.7, 0.97} {
				t.Run(fmt.Sprintf("cut at %.0f%%", frac*100), func(t *testing.T) {
					p.cutDown.Store(int64(frac * float64(total)))
					cuts := p.cuts.Load()
					r := e.run(acct)
					p.cutDown.Store(0)
					if p.cuts.Load() == cuts {
						t.Fatalf("the proxy did not cut (run %s %q)", r.Status, r.Error)
					}
					if r.Status != bridge.RunFailed || !strings.HasPrefix(r.Error, "reading the directory failed") ||
						!strings.HasSuffix(r.Error, "nothing was changed") {
						t.Fatalf("run after a cut: %s %q, want failed reading the directory, nothing changed", r.Status, r.Error)
					}
					stored, err := tdb.store.GetRun(e.ctx, acct, r.ID)
					if err != nil || stored.Status != bridge.RunFailed || stored.Error != r.Error || stored.FinishedAt == nil {
						t.Fatalf("stored run %+v, %v", stored, err)
					}
					if d := base.diff(takeSnapshot(t, tdb.store, acct)); d != "" {
						t.Fatalf("a cut read changed the store:\n%s", d)
					}
				})
			}
			r := e.run(acct)
			if r.Status != bridge.RunSucceeded || r.Counts.Users.Added != dry.Counts.Users.Added || r.Counts.Users.Deleted != 0 {
				t.Fatalf("run after the cuts: %s %q %+v, want succeeded adding %d", r.Status, r.Error, r.Counts, dry.Counts.Users.Added)
			}
			after := takeSnapshot(t, tdb.store, acct)
			if n, want := after.count("user:", "active")+after.count("user:", "inactive"),
				labseed.Expected(lab.Users).UsersByOU[labseed.Expected(lab.Users).SalesOU]; n != want {
				t.Errorf("users after the repair: %d, want the Sales OU's %d", n, want)
			}
		})
	}
}

// TestSambaHungServerTimesOut freezes the proxy (the sockets stay open,
// nothing more arrives, as with a hung or paused DC) before each
// operation, and checks that every one gives up after timeoutSeconds
// instead of hanging.
func TestSambaHungServerTimesOut(t *testing.T) {
	lab := sambaLab(t)
	const timeout = 1 // seconds, the smallest the settings allow
	limit := time.Duration(timeout)*time.Second*3 + 2*time.Second
	ca, err := os.ReadFile(lab.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	plain := newFaultProxy(t, fmt.Sprintf("%s:%d", lab.Host, lab.Port))
	tls := newFaultProxy(t, fmt.Sprintf("%s:%d", lab.Host, lab.LDAPSPort))
	conn := func(p *faultProxy, sec bridge.Security) bridge.Connection {
		c := bridge.Connection{Host: p.Host(), Port: p.Port(), Security: sec, BaseDN: lab.BaseDN,
			BindDN: lab.BindDN, TimeoutSeconds: timeout}
		if sec != bridge.SecurityNone {
			c.CACertificate = string(ca)
			c.Host = "127.0.0.1" // the lab's certificate has IP:127.0.0.1
		}
		return c
	}
	x := labseed.Expected(lab.Users)
	scope := bridge.Scope{BaseDN: lab.BaseDN, Subtrees: []string{x.SalesOU}, DistributionLists: true}
	type op func(ctx context.Context, d bridge.Directory) error
	opened := func(sec bridge.Security, p *faultProxy, f op) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			p.thaw()
			d, err := openThawed(ctx, func() (bridge.Directory, error) {
				return ldapsync.Open(ctx, conn(p, sec), lab.Password, nil)
			})
			if err != nil {
				return fmt.Errorf("open before freezing: %w", err)
			}
			defer func() { go d.Close() }()
			p.freeze()
			return f(ctx, d)
		}
	}
	cases := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"bind on plain LDAP", func(ctx context.Context) error {
			plain.freeze()
			_, err := ldapsync.Open(ctx, conn(plain, bridge.SecurityNone), lab.Password, nil)
			return err
		}},
		{"ldaps handshake", func(ctx context.Context) error {
			tls.freeze()
			_, err := ldapsync.Open(ctx, conn(tls, bridge.SecurityLDAPS), lab.Password, nil)
			return err
		}},
		{"starttls extended operation", func(ctx context.Context) error {
			plain.freeze()
			_, err := ldapsync.Open(ctx, conn(plain, bridge.SecurityStartTLS), lab.Password, nil)
			return err
		}},
		{"rootDSE", opened(bridge.SecurityNone, plain, func(ctx context.Context, d bridge.Directory) error {
			_, err := d.ServerInfo(ctx)
			return err
		})},
		{"stream users", opened(bridge.SecurityNone, plain, func(ctx context.Context, d bridge.Directory) error {
			return d.Stream(ctx, scope, bridge.EntryUser, func(bridge.Entry) error { return nil })
		})},
		{"stream groups over ldaps", opened(bridge.SecurityLDAPS, tls, func(ctx context.Context, d bridge.Directory) error {
			return d.Stream(ctx, bridge.Scope{BaseDN: lab.BaseDN, DistributionLists: true}, bridge.EntryGroup,
				func(bridge.Entry) error { return nil })
		})},
		{"count", opened(bridge.SecurityNone, plain, func(ctx context.Context, d bridge.Directory) error {
			_, err := d.Count(ctx, scope)
			return err
		})},
		{"OU tree", opened(bridge.SecurityNone, plain, func(ctx context.Context, d bridge.Directory) error {
			_, err := d.OUTree(ctx, lab.BaseDN)
			return err
		})},
		{"stream frozen mid-page", func(ctx context.Context) error {
			plain.thaw()
			d, err := openThawed(ctx, func() (bridge.Directory, error) {
				return ldapsync.Options{PageSize: 100}.Open(ctx, conn(plain, bridge.SecurityNone), lab.Password, nil)
			})
			if err != nil {
				return fmt.Errorf("open before freezing: %w", err)
			}
			defer func() { go d.Close() }()
			var n atomic.Int64
			return d.Stream(ctx, scope, bridge.EntryUser, func(bridge.Entry) error {
				if n.Add(1) == 150 {
					plain.freeze()
				}
				return nil
			})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer plain.thaw()
			defer tls.thaw()
			start := time.Now()
			done := make(chan error, 1)
			go func() { done <- c.run(context.Background()) }()
			select {
			case err := <-done:
				took := time.Since(start)
				if err == nil {
					t.Fatalf("succeeded against a frozen server")
				}
				if strings.HasPrefix(err.Error(), "open before freezing") {
					t.Fatal(err)
				}
				if k := ldapsync.Classify(err); k != ldapsync.KindTimeout && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error kind %q, want timeout: %v", k, err)
				}
				if took > limit {
					t.Errorf("gave up after %s, want within %s", took, limit)
				}
				t.Logf("gave up after %s: %v", took.Round(time.Millisecond), err)
			case <-time.After(limit + 10*time.Second):
				t.Fatalf("still waiting after %s: the operation hangs", limit+10*time.Second)
			}
		})
	}
}

// TestSambaHungServerFailsTheRun: a run whose directory hangs mid-read
// ends failed after the timeout, having changed nothing; the next run
// completes.
func TestSambaHungServerFailsTheRun(t *testing.T) {
	lab := sambaLab(t)
	tdb := openSQLite(t)
	p := newFaultProxy(t, fmt.Sprintf("%s:%d", lab.Host, lab.Port))
	e := newSyncEnv(t, tdb.store)
	e.engine.Open = smallPages
	const acct = "hung"
	e.configure(acct, labSettings(lab, p, "(sAMAccountName=user000*)", 1))
	if r := e.run(acct); r.Status != bridge.RunSucceeded {
		t.Fatalf("first run: %s %q", r.Status, r.Error)
	}
	e.configure(acct, labSettings(lab, p, "", 1))
	base := takeSnapshot(t, tdb.store, acct)
	p.freezeDown.Store(200 << 10)
	start := time.Now()
	r := e.run(acct)
	took := time.Since(start)
	p.reset()
	if r.Status != bridge.RunFailed || !strings.Contains(r.Error, "did not answer in time") || !strings.HasSuffix(r.Error, "nothing was changed") {
		t.Fatalf("run against a hung server: %s %q", r.Status, r.Error)
	}
	if took > 10*time.Second {
		t.Errorf("the run took %s against a server hung with timeoutSeconds 1", took)
	}
	if d := base.diff(takeSnapshot(t, tdb.store, acct)); d != "" {
		t.Fatalf("a hung read changed the store:\n%s", d)
	}
	if r := e.run(acct); r.Status != bridge.RunSucceeded || r.Counts.Users.Added == 0 {
		t.Fatalf("run after the hang: %s %q %+v", r.Status, r.Error, r.Counts)
	}
}

// openThawed opens a connection through a proxy that is not frozen yet.
// The open is not what these cases test, but it shares their one-second
// timeout, which a loaded machine (CI on 2 cores) can miss: a few tries
// keep a slow bind from failing a test about a hung server.
func openThawed(ctx context.Context, open func() (bridge.Directory, error)) (bridge.Directory, error) {
	var err error
	for range 5 {
		var d bridge.Directory
		if d, err = open(); err == nil {
			return d, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, err
}
