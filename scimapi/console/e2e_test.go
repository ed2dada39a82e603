package console_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
	"github.com/scimbridge/scimbridge/internal/labseed"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/scimapi/admin"
	"github.com/scimbridge/scimbridge/scimapi/console"
)

// chromiumPath is Debian's Chromium (scripts/install-chromium.sh).
const chromiumPath = "/usr/bin/chromium"

// missing skips the test locally and fails it in CI (CI=true).
func missing(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing (CI=true): run scripts/install-chromium.sh and scripts/samba-lab.sh up", what)
	}
	t.Skipf("%s is missing; skipping the browser test", what)
}

// server is the whole HTTP surface (SCIM, admin API, console) on a real
// SQLite store, with a runner, like `scimbridge serve`.
type server struct {
	*httptest.Server
	store *db.Store
}

const bootstrap = "scb_e2e-bootstrap-token"

func newServer(t *testing.T) *server {
	t.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, db.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	key := make([]byte, bridge.SecretKeySize)
	_, _ = rand.Read(key)
	box, err := bridge.NewSecretBox(key)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	runner := bridge.NewRunner(bridge.Engine{Store: store, Open: ldapsync.Open, Secrets: box.Open, Log: log}, log)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		runner.Close(ctx)
	})
	h := scimapi.NewRouter(scimapi.Options{Store: store, Log: log,
		Admin: &admin.Options{Store: store, Runner: runner, Syntax: ldapsync.Syntax{}, Open: ldapsync.Open,
			Secrets: box, AdminToken: bootstrap, Log: log},
		Console: &console.Options{Tokens: store, AdminToken: bootstrap, Secrets: box, Syntax: ldapsync.Syntax{}, Log: log},
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &server{Server: srv, store: store}
}

func (s *server) token(t *testing.T, account string, role bridge.TokenRole) string {
	t.Helper()
	secret, hash, err := bridge.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.CreateToken(context.Background(), bridge.Token{AccountID: account, Role: role, Name: "e2e " + string(role), Hash: hash}); err != nil {
		t.Fatalf("create token: %v", err)
	}
	return secret
}

// call is one admin API request with the bootstrap token.
func (s *server) call(t *testing.T, method, path string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, s.URL+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+bootstrap)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	out := map[string]any{}
	_ = json.Unmarshal(data, &out)
	return out
}

// syncNow runs a sync through the API, waits for it to end with status
// want, and returns its id.
func (s *server) syncNow(t *testing.T, account, want string) string {
	t.Helper()
	run := s.call(t, "POST", "/accounts/"+account+"/runs", map[string]any{"dryRun": false})
	id := run["id"].(string)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if r := s.call(t, "GET", "/accounts/"+account+"/runs/"+id, nil); r["status"] != "running" {
			if r["status"] != want {
				t.Fatalf("run %s ended %v, want %s: %v", id, r["status"], want, r["error"])
			}
			return id
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("run %s did not finish", id)
	return ""
}

// browser starts headless Chromium with an empty profile.
func browser(t *testing.T) (context.Context, func()) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, 150*time.Second)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		cancelC()
		cancelB()
		cancelA()
		t.Fatalf("start chromium: %v", err)
	}
	_ = chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			desc := ""
			if d.Exception != nil {
				desc = d.Exception.Description
			}
			t.Errorf("JavaScript exception at %s:%d: %s %s", d.URL, d.LineNumber+1, d.Text, desc)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				t.Errorf("console.error: %s", strings.Join(parts, " "))
			}
		}
	})
	return ctx, func() { cancelC(); cancelB(); cancelA() }
}

// shots writes screenshots into $SCIMBRIDGE_SCREENSHOTS (a directory,
// relative to the repository root) when it is set.
type shots struct {
	t   *testing.T
	dir string
}

func newShots(t *testing.T) shots {
	dir := os.Getenv("SCIMBRIDGE_SCREENSHOTS")
	if dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir) // tests run in scimapi/console
	}
	return shots{t: t, dir: dir}
}

func (s shots) take(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if s.dir == "" {
			return nil
		}
		buf, err := chromedp.CaptureScreenshot()(ctx, tg)
		if err != nil {
			return err
		}
		// Re-encode with the best compression: the PNGs are committed.
		if img, err := png.Decode(bytes.NewReader(buf)); err == nil {
			var out bytes.Buffer
			if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img); err == nil && out.Len() < len(buf) {
				buf = out.Bytes()
			}
		}
		s.t.Logf("screenshot %s.png (%d KiB)", name, len(buf)/1024)
		return os.WriteFile(filepath.Join(s.dir, name+".png"), buf, 0o644)
	})
}

// until polls a JavaScript expression until it is truthy. It evaluates from
// Go every 100 ms, so it survives the page navigating (a form post) while it
// waits.
func until(expr string, d time.Duration) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		deadline := time.Now().Add(d)
		var last error
		for {
			ok, err := chromedp.Evaluate[bool]("!!("+expr+")")(ctx, tg)
			if err == nil && ok {
				return nil
			}
			if err != nil {
				last = err
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("timed out after %v waiting for %s (last error: %v)", d, expr, last)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// step runs actions and stops the test with the step's name on failure.
func step(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	start := time.Now()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main') ? document.querySelector('main').innerText.slice(0, 1500) : ''`))
		t.Fatalf("step %q: %v\npage %s:\n%s", name, err, loc, body)
	}
	t.Logf("step %-28s %v", name, time.Since(start).Round(time.Millisecond))
}

func signIn(base, token string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/console/login"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS("#sign-in")),
	)
}

// TestConsoleEndToEnd drives the console in headless Chromium against the
// Samba AD lab: sign in, the whole wizard with Test Connection, Run Now and
// its progress, the report, the history, the exclusions picker, and an
// auditor listing deactivated users.
func TestConsoleEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not in -short mode")
	}
	if _, err := exec.LookPath(chromiumPath); err != nil {
		missing(t, "Chromium ("+chromiumPath+")")
	}
	lab, ok, err := labseed.LabFromEnv()
	if !ok && err == nil {
		if lab, err = labseed.ReadLabFile(labseed.DefaultEnvFile); err == nil {
			ok = true
		} else if os.IsNotExist(err) {
			err = nil
		}
	}
	if err != nil {
		t.Fatalf("lab env: %v", err)
	}
	if !ok {
		missing(t, "the Samba AD lab (scripts/samba-lab.sh up)")
	}
	caPEM, err := os.ReadFile(lab.CAFile)
	if err != nil {
		missing(t, "the lab CA certificate "+lab.CAFile)
	}

	srv := newServer(t)
	adminToken := srv.token(t, bridge.DefaultAccount, bridge.TokenAdmin)
	shot := newShots(t)
	ctx, done := browser(t)
	defer done()
	base := srv.URL
	engOU := "OU=Engineering,OU=Corp," + lab.BaseDN

	step(t, ctx, "sign-in page",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		shot.take("login"))
	step(t, ctx, "wrong token refused",
		chromedp.SendKeys(chromedp.CSS("#token"), "scb_not-a-token"),
		chromedp.Click(chromedp.CSS("#sign-in")),
		until(`document.querySelector('#login-error') && document.querySelector('#login-error').textContent.includes('not valid')`, 10*time.Second))
	step(t, ctx, "sign in as admin",
		signIn(base, adminToken),
		until(`location.pathname === '/console/settings' && document.querySelector('#summary').textContent.includes('not configured')`, 10*time.Second))

	// Connection: LDAPS with the lab's own CA, tested before saving.
	step(t, ctx, "wizard: connection",
		chromedp.Navigate(base+"/console/wizard"),
		chromedp.WaitVisible(chromedp.CSS("#c-host")),
		until(`document.querySelector('#wizard-status').textContent.includes('No settings yet')`, 10*time.Second),
		// Saving an empty form: the API's 422 problems land next to their fields.
		chromedp.Click(chromedp.CSS("#panel-connection button[type=submit]")),
		until(`document.querySelector('#c-host').getAttribute('aria-invalid') === 'true' && !document.querySelector('#panel-connection .error-summary').hidden`, 10*time.Second),
		shot.take("wizard-errors"),
		chromedp.SendKeys(chromedp.CSS("#c-host"), lab.Host),
		chromedp.SetValue(chromedp.CSS("#c-security"), "ldaps"),
		chromedp.SetValue(chromedp.CSS("#c-port"), fmt.Sprint(lab.LDAPSPort)),
		chromedp.SendKeys(chromedp.CSS("#c-base"), lab.BaseDN),
		chromedp.SendKeys(chromedp.CSS("#c-bind"), lab.BindDN),
		chromedp.SendKeys(chromedp.CSS("#c-password"), lab.Password),
		chromedp.SetValue(chromedp.CSS("#c-ca"), string(caPEM)),
		chromedp.Click(chromedp.CSS("#test-connection")),
		until(`document.querySelector('#test-result .ok') && document.querySelector('#test-result').textContent.includes('user(s)')`, 30*time.Second),
		shot.take("wizard-connection"))
	step(t, ctx, "wizard: save connection",
		chromedp.Click(chromedp.CSS("#panel-connection button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#panel-ous")))

	// Organizational units: only Engineering, picked in the tree.
	step(t, ctx, "wizard: OU tree",
		chromedp.Click(chromedp.CSS("#ou-selected")),
		until(fmt.Sprintf(`!!document.querySelector('#ou-tree input[value=%q]')`, engOU), 30*time.Second),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#ou-tree input[value=%q]`, engOU))),
		shot.take("wizard-ous"),
		chromedp.Click(chromedp.CSS("#panel-ous button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#panel-lists")))
	step(t, ctx, "wizard: distribution lists",
		chromedp.Click(chromedp.CSS("#dl-import")),
		chromedp.Click(chromedp.CSS("#panel-lists button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#panel-users")))

	// Users: a custom row, and a filter checked as it is typed.
	step(t, ctx, "wizard: users",
		chromedp.Click(chromedp.CSS("#map-custom")),
		chromedp.Click(chromedp.CSS("#add-mapping")),
		chromedp.SendKeys(chromedp.CSS("#mappings tbody tr .m-scim"), "userType"),
		chromedp.SendKeys(chromedp.CSS("#mappings tbody tr .m-value"), "Employee"),
		chromedp.SendKeys(chromedp.CSS("#u-exclude"), "(title=Contractor"),
		until(`document.querySelector('#u-exclude').getAttribute('aria-invalid') === 'true' && document.querySelector('#u-exclude').closest('.field').querySelector('.field-error')`, 10*time.Second),
		shot.take("wizard-users"),
		chromedp.SendKeys(chromedp.CSS("#u-exclude"), ")"),
		until(`!document.querySelector('#u-exclude').hasAttribute('aria-invalid') && document.querySelector('#filter-check').textContent.includes('valid')`, 10*time.Second),
		chromedp.Click(chromedp.CSS("#panel-users button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#panel-exclusions")))
	step(t, ctx, "wizard: exclusions (empty)",
		until(`document.querySelector('#owners tbody').textContent.includes('None')`, 10*time.Second),
		chromedp.Click(chromedp.CSS("#panel-exclusions button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#panel-schedule")))

	// Schedule: weekly on Monday 02:00 Berlin; the next five runs appear.
	step(t, ctx, "wizard: schedule",
		chromedp.Click(chromedp.CSS("#s-enabled")),
		chromedp.SetValue(chromedp.CSS("#s-frequency"), "weekly"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#s-frequency').dispatchEvent(new Event('change'))`),
		chromedp.SetValue(chromedp.CSS("#s-weekday"), "monday"),
		chromedp.SetValue(chromedp.CSS("#s-date"), "2027-01-04"),
		chromedp.SetValue(chromedp.CSS("#s-time"), "02:00"),
		chromedp.SetValue(chromedp.CSS("#s-zone"), "Europe/Berlin"),
		chromedp.Click(chromedp.CSS("#panel-schedule button[type=submit]")),
		until(`document.querySelectorAll('#next-runs li time').length === 5 && document.querySelector('#wizard-status').textContent.includes('Schedule saved')`, 10*time.Second),
		shot.take("wizard-schedule"))

	// Current settings, Run Now, the progress banner, the report.
	step(t, ctx, "settings and Run Now",
		chromedp.Navigate(base+"/console/settings"),
		until(`document.querySelector('#summary').textContent.includes('Engineering') && document.querySelector('#last-run').textContent.includes('No run yet')`, 10*time.Second),
		chromedp.Click(chromedp.CSS("#run-now")),
		until(`!document.querySelector('#banner').hidden && document.querySelector('#banner').textContent.includes('Directory synchronization is in progress')`, 10*time.Second),
		shot.take("settings-running"))
	step(t, ctx, "run finishes",
		until(`document.querySelector('#banner').hidden && document.querySelector('#last-run .status-succeeded')`, 90*time.Second),
		shot.take("settings"))
	step(t, ctx, "report",
		chromedp.Click(chromedp.CSS(`#last-run a`)),
		until(`location.pathname.startsWith('/console/runs/') && document.querySelector('#events-status').textContent.includes('Showing')`, 30*time.Second),
		until(`Number(document.querySelector('#counts tbody tr td').textContent) > 100`, 5*time.Second),
		shot.take("report"))
	step(t, ctx, "report: filter and search",
		chromedp.SetValue(chromedp.CSS("#ev-action"), "add"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#ev-action').dispatchEvent(new Event('change'))`),
		chromedp.SendKeys(chromedp.CSS("#ev-search"), "Backend"),
		until(`document.querySelector('#events-status').textContent.includes('matching "backend"')`, 30*time.Second),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#h-events').scrollIntoView()`),
		shot.take("report-events"))
	step(t, ctx, "dry run",
		chromedp.Navigate(base+"/console/settings"),
		until(`document.querySelector('#last-run .status-succeeded')`, 10*time.Second),
		chromedp.Click(chromedp.CSS("#dry-run")),
		until(`document.querySelector('#last-run').textContent.includes('dry run')`, 10*time.Second),
		until(`document.querySelector('#banner').hidden && document.querySelector('#last-run .status-succeeded')`, 90*time.Second))
	step(t, ctx, "history",
		chromedp.Navigate(base+"/console/runs"),
		until(`document.querySelectorAll('#runs-table tbody .status-succeeded').length === 2 && document.querySelector('#runs-table tbody tr').textContent.includes('dry run')`, 10*time.Second),
		shot.take("history"))

	// Exclusions after a run: find a synced user and make it an owner.
	step(t, ctx, "exclusions picker",
		chromedp.Navigate(base+"/console/wizard#exclusions"),
		chromedp.WaitVisible(chromedp.CSS("#ex-search")),
		chromedp.SendKeys(chromedp.CSS("#ex-search"), "Backend"),
		chromedp.Click(chromedp.CSS("#ex-find")),
		until(`document.querySelectorAll('#ex-found li').length > 0`, 30*time.Second),
		chromedp.Click(chromedp.CSS(`#ex-found li button[aria-label^="Add"]`)),
		until(`document.querySelectorAll('#owners tbody button').length === 1`, 10*time.Second),
		shot.take("wizard-exclusions"))

	// Phone width: the settings page still reads.
	step(t, ctx, "phone",
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1)),
		chromedp.Navigate(base+"/console/settings"),
		until(`document.querySelector('#last-run .status-succeeded')`, 10*time.Second),
		shot.take("settings-phone"),
		chromedp.EmulateViewport(1280, 800))

	// An auditor of a second account (an adsim directory, where a user is
	// disabled between two syncs) lists deactivated users.
	sim, _, err := adsim.NewSample("DC=branch,DC=example", adsim.Options{})
	if err != nil {
		t.Fatalf("adsim: %v", err)
	}
	defer sim.Close()
	disabledDN, heldID := auditSetup(t, srv, sim)
	auditor := srv.token(t, "branch", bridge.TokenAuditor)
	step(t, ctx, "sign out",
		chromedp.Click(chromedp.CSS("#sign-out")),
		chromedp.WaitVisible(chromedp.CSS("#token")))
	step(t, ctx, "auditor: deactivated users",
		signIn(base, auditor),
		until(`location.pathname === '/console/audit' && document.querySelector('#audit-status').textContent.includes('change(s)')`, 10*time.Second),
		chromedp.SetValue(chromedp.CSS("#au-status"), "deactivated"),
		chromedp.SetValue(chromedp.CSS("#au-since"), time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")),
		chromedp.Click(chromedp.CSS("#au-show")),
		until(fmt.Sprintf(`document.querySelector('#audit-table tbody').textContent.includes(%q) && document.querySelector('#audit-status').textContent.startsWith('1 ')`, disabledDN), 10*time.Second),
		chromedp.Click(chromedp.CSS(`#audit-table tbody button`)),
		until(`document.querySelector('#history').textContent.includes('deactivate')`, 10*time.Second),
		shot.take("audit"))
	nav, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`nav[aria-label=Main]`)))
	if err != nil {
		t.Fatalf("read the navigation: %v", err)
	}
	step(t, ctx, "auditor sees no admin pages",
		chromedp.Navigate(base+"/console/wizard"),
		until(`location.pathname === '/console/audit'`, 10*time.Second))
	if strings.Contains(nav, "Configure") {
		t.Errorf("auditor navigation offers Configure: %q", nav)
	}

	// A run held by the deletion threshold: an admin sees what it would
	// delete and approves it.
	branchAdmin := srv.token(t, "branch", bridge.TokenAdmin)
	step(t, ctx, "held run: approve",
		chromedp.Click(chromedp.CSS("#sign-out")),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		signIn(base, branchAdmin),
		until(`location.pathname === '/console/settings'`, 10*time.Second),
		chromedp.Navigate(base+"/console/runs/"+heldID),
		until(`!document.querySelector('#held').hidden && document.querySelectorAll('#held-table tbody tr').length === 2`, 10*time.Second),
		shot.take("report-held"),
		chromedp.Click(chromedp.CSS("#approve")),
		until(fmt.Sprintf(`location.pathname !== '/console/runs/%s' && document.querySelector('#overview .status-succeeded') && document.querySelector('#overview').textContent.includes('approval')`, heldID), 30*time.Second),
		until(`document.querySelector('#counts tbody').textContent.includes('Deleted') && [...document.querySelectorAll('#counts tbody tr')].find(r => r.textContent.startsWith('Deleted')).children[1].textContent === '2'`, 10*time.Second))
}

// auditSetup configures account "branch" on the adsim directory, syncs,
// disables one user, and syncs again. Then, with a deletion threshold of
// one object, it removes two users and syncs: that run is held. It returns
// the disabled user's DN and the held run's id.
func auditSetup(t *testing.T, srv *server, sim *adsim.Server) (string, string) {
	t.Helper()
	srv.call(t, "POST", "/accounts", map[string]any{"id": "branch", "name": "Branch office"})
	doc := map[string]any{
		"connection": map[string]any{"host": sim.Host(), "port": sim.Port(), "security": "none",
			"baseDn": sim.BaseDN(), "bindDn": sampleServiceDN(t, sim.BaseDN()), "password": adsim.SamplePassword},
		"organizationalUnits": map[string]any{"mode": "all"},
	}
	srv.call(t, "PUT", "/accounts/branch/directory", doc)
	srv.syncNow(t, "branch", "succeeded")
	var enabled []string
	entries, _ := adsim.SampleTree(sim.BaseDN())
	for _, e := range entries {
		if e.Get("userAccountControl") == "512" && strings.Contains(e.DN, "OU=Sales") {
			enabled = append(enabled, e.DN)
		}
	}
	if len(enabled) < 3 {
		t.Fatalf("want 3 enabled users in OU=Sales of the sample tree, have %d", len(enabled))
	}
	if err := sim.Modify(enabled[0], map[string][]string{"userAccountControl": {"514"}}); err != nil {
		t.Fatalf("disable %s: %v", enabled[0], err)
	}
	srv.syncNow(t, "branch", "succeeded")

	delete(doc["connection"].(map[string]any), "password") // kept: same endpoint
	doc["deletionThreshold"] = map[string]any{"maxCount": 1, "maxPercent": 100}
	srv.call(t, "PUT", "/accounts/branch/directory", doc)
	for _, dn := range enabled[1:3] {
		if !sim.Remove(dn) {
			t.Fatalf("remove %s: not found", dn)
		}
	}
	held := srv.syncNow(t, "branch", "held")
	return enabled[0], held
}

func sampleServiceDN(t *testing.T, base string) string {
	t.Helper()
	_, facts := adsim.SampleTree(base)
	return facts.ServiceDN
}
