package admin_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/scimapi/admin"
)

// TestOpenAPIDocumentsEveryRoute: the document is valid OpenAPI 3 and the
// router serves exactly the documented paths and methods.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := newEnv(t, backends[0].cfg(t))
	r := e.do("GET", "/openapi.json", "", nil)
	if r.status != 200 {
		t.Fatalf("GET openapi.json: %d", r.status)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	r.json(t, &doc)
	served := map[string]bool{}
	err := e.handler.(*mux.Router).Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil
		}
		for _, m := range methods {
			served[strings.ToLower(m)+" "+strings.TrimPrefix(tpl, "/api/v1")] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[m+" "+p] = true
		}
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("served but not documented: %s", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("documented but not served: %s", k)
		}
	}
	if len(served) < 25 {
		t.Errorf("only %d routes served", len(served))
	}
}

// TestRoleMatrix calls every route with no token, a token of another
// account, and each role.
func TestRoleMatrix(t *testing.T) {
	e := newEnv(t, backends[0].cfg(t))
	const (
		open    = "allowed"
		unauth  = "401"
		forbid  = "403"
		missing = "x"
	)
	callers := []string{"", "otherAdmin", "scim", "auditor", "admin", "bootstrap", "scb_not-a-token"}
	for _, rt := range admin.Routes() {
		path := strings.NewReplacer("{a}", "default", "{id}", "00000000-0000-0000-0000-000000000000").Replace(rt.Path)
		for _, who := range callers {
			want := expected(rt, who)
			t.Run(rt.Method+" "+rt.Path+" as "+name(who), func(t *testing.T) {
				var body any
				if rt.Method == "POST" || rt.Method == "PUT" {
					body = "{}"
				}
				if rt.Method == "DELETE" && rt.Path == "/accounts/{a}" {
					path = "/accounts/no-such-account"
				}
				r := e.do(rt.Method, path, who, body)
				got := open
				switch r.status {
				case 401:
					got = unauth
					if r.header.Get("WWW-Authenticate") == "" {
						t.Errorf("401 without WWW-Authenticate")
					}
				case 403:
					got = forbid
				}
				if got != want {
					t.Fatalf("status %d (%s), want %s; body %s", r.status, got, want, r.body)
				}
				if r.status >= 400 {
					r.problem(t)
				}
			})
		}
	}
}

func name(who string) string {
	if who == "" {
		return "no token"
	}
	return who
}

// expected is the role matrix: who may call which route.
func expected(rt admin.Route, who string) string {
	pub := rt.Path == "/openapi.json"
	switch {
	case pub:
		return "allowed"
	case who == "" || who == "scb_not-a-token":
		return "401"
	case who == "scim":
		return "403"
	case who == "bootstrap":
		return "allowed"
	}
	bootstrapOnly := (rt.Method == "POST" && rt.Path == "/accounts") || (rt.Method == "DELETE" && rt.Path == "/accounts/{a}")
	auditorOK := rt.Method == "GET" && (strings.HasPrefix(rt.Path, "/accounts/{a}/runs") || strings.HasPrefix(rt.Path, "/accounts/{a}/audit"))
	switch {
	case bootstrapOnly:
		return "403"
	case who == "auditor" && !auditorOK:
		return "403"
	case who == "otherAdmin" && strings.Contains(rt.Path, "{a}"):
		return "403"
	}
	return "allowed"
}

func TestAccounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/accounts", "bootstrap", map[string]any{"id": "acme", "name": "Acme"})
		if r.status != 201 || r.header.Get("Location") != "/api/v1/accounts/acme" {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/accounts", "bootstrap", map[string]any{"id": "acme"}); r.status != 409 {
			t.Fatalf("duplicate: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/accounts", "bootstrap", map[string]any{"id": "Bad Id!"}); r.status != 422 || len(r.problem(t).Problems) != 1 {
			t.Fatalf("bad id: %d %s", r.status, r.body)
		}
		var list struct{ Items []bridge.Account }
		e.do("GET", "/accounts", "bootstrap", nil).json(t, &list)
		if len(list.Items) != 3 {
			t.Fatalf("bootstrap sees %d accounts, want 3", len(list.Items))
		}
		e.do("GET", "/accounts", "admin", nil).json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != bridge.DefaultAccount {
			t.Fatalf("an account admin sees %+v, want only default", list.Items)
		}
		if r := e.do("DELETE", "/accounts/default", "bootstrap", nil); r.status != 409 {
			t.Fatalf("delete default: %d", r.status)
		}
		if r := e.do("DELETE", "/accounts/acme", "bootstrap", nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/accounts/acme", "bootstrap", nil); r.status != 404 {
			t.Fatalf("get deleted: %d", r.status)
		}
	})
}

func TestDirectorySettings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		if r := e.do("GET", "/accounts/default/directory", "admin", nil); r.status != 404 {
			t.Fatalf("GET before PUT: %d %s", r.status, r.body)
		}
		// Every problem at once.
		bad := e.settingsDoc(func(m map[string]any) {
			c := m["connection"].(map[string]any)
			c["host"], c["port"], c["baseDn"] = "ldap://dc", 70000, "not a dn"
			m["users"] = map[string]any{"mapping": "default", "inclusionFilter": "(broken"}
			m["schedule"] = map[string]any{"enabled": true, "frequency": "weekly", "weekday": "funday", "start": "2026-12-01T02:00"}
		})
		r := e.do("PUT", "/accounts/default/directory", "admin", bad)
		if r.status != 422 {
			t.Fatalf("invalid PUT: %d %s", r.status, r.body)
		}
		fields := map[string]bool{}
		for _, p := range r.problem(t).Problems {
			fields[p.Field] = true
		}
		for _, f := range []string{"connection.host", "connection.port", "connection.baseDn", "users.inclusionFilter", "schedule.weekday"} {
			if !fields[f] {
				t.Errorf("no problem reported for %s; got %v", f, fields)
			}
		}
		if r := e.do("PUT", "/accounts/default/directory", "admin", `{"connection": {"hots": "x"}}`); r.status != 422 {
			t.Fatalf("unknown field: %d %s", r.status, r.body)
		}
		if r := e.do("PUT", "/accounts/default/directory", "admin", strings.Repeat(" ", 70<<10)+"{}"); r.status != 413 {
			t.Fatalf("large body: %d %s", r.status, r.body)
		}

		e.configure(nil)
		r = e.do("GET", "/accounts/default/directory", "admin", nil)
		if r.status != 200 || contains(r.body, adsimPassword) || contains(r.body, `"password"`) {
			t.Fatalf("GET shows the password or failed: %d %s", r.status, r.body)
		}
		if r.header.Get(admin.PasswordSetHeader) != "true" {
			t.Fatalf("%s = %q", admin.PasswordSetHeader, r.header.Get(admin.PasswordSetHeader))
		}
		st, err := e.store.GetSettings(context.Background(), bridge.DefaultAccount)
		if err != nil {
			t.Fatal(err)
		}
		if st.Settings.Connection.Password != "" || len(st.SealedPassword) == 0 || contains(st.SealedPassword, adsimPassword) {
			t.Fatalf("the password is not sealed at rest")
		}
		if pw, err := e.box.Open(st.SealedPassword); err != nil || pw != adsimPassword {
			t.Fatalf("sealed password opens to %q, %v", pw, err)
		}

		// Without the password: kept for the same server, refused for another.
		noPW := func(host string) map[string]any {
			return e.settingsDoc(func(m map[string]any) {
				c := m["connection"].(map[string]any)
				delete(c, "password")
				c["host"] = host
			})
		}
		if r := e.do("PUT", "/accounts/default/directory", "admin", noPW(e.srv.Host())); r.status != 200 {
			t.Fatalf("PUT keeping the password: %d %s", r.status, r.body)
		}
		if r := e.do("PUT", "/accounts/default/directory", "admin", noPW("evil.example.com")); r.status != 422 {
			t.Fatalf("PUT moving the stored password to another host: %d %s", r.status, r.body)
		}

		// Test connection, stored and posted.
		var rep admin.ConnectionReport
		r = e.do("POST", "/accounts/default/directory/test", "admin", nil)
		r.json(t, &rep)
		if r.status != 200 || !rep.OK || rep.InScope == nil || rep.InScope.Users == 0 || rep.Server.DefaultNamingContext == "" {
			t.Fatalf("test connection: %d %s", r.status, r.body)
		}
		wrong := e.settingsDoc(func(m map[string]any) { m["connection"].(map[string]any)["password"] = "wrong" })
		r = e.do("POST", "/accounts/default/directory/test", "admin", wrong)
		rep = admin.ConnectionReport{}
		r.json(t, &rep)
		if r.status != 200 || rep.OK || rep.Error == "" || contains(r.body, "wrong") && !contains(r.body, "error") {
			t.Fatalf("test with a wrong password: %d %s", r.status, r.body)
		}

		// The OU tree.
		var tree struct {
			BaseDN string          `json:"baseDn"`
			Items  []bridge.OUNode `json:"items"`
		}
		r = e.do("GET", "/accounts/default/directory/ous", "admin", nil)
		r.json(t, &tree)
		if r.status != 200 || len(tree.Items) == 0 || !contains(r.body, "OU=Backend") {
			t.Fatalf("OU tree: %d %s", r.status, r.body)
		}
	})
}

const adsimPassword = "Demo-Passw0rd!"

func TestSchedule(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		if r := e.do("PUT", "/accounts/default/schedule", "admin", map[string]any{"enabled": true, "frequency": "daily", "start": "2026-12-01T02:00"}); r.status != 404 {
			t.Fatalf("schedule before settings: %d %s", r.status, r.body)
		}
		e.configure(nil)
		var v struct {
			bridge.Schedule
			NextRuns []string `json:"nextRuns"`
		}
		r := e.do("GET", "/accounts/default/schedule", "admin", nil)
		r.json(t, &v)
		if r.status != 200 || v.Enabled || len(v.NextRuns) != 0 {
			t.Fatalf("disabled schedule: %d %s", r.status, r.body)
		}
		r = e.do("PUT", "/accounts/default/schedule", "admin", map[string]any{"enabled": true, "frequency": "monthly",
			"dayOfMonth": 31, "start": "2026-01-01T02:30", "timeZone": "Europe/Berlin"})
		r.json(t, &v)
		if r.status != 200 || len(v.NextRuns) != 5 {
			t.Fatalf("PUT schedule: %d %s", r.status, r.body)
		}
		prev := time.Time{}
		for _, s := range v.NextRuns {
			ts, err := time.Parse(time.RFC3339, s)
			if err != nil || !ts.After(prev) || !ts.After(time.Now()) {
				t.Fatalf("nextRuns %v: %q not an increasing future RFC 3339 time", v.NextRuns, s)
			}
			if local := ts.In(mustZone(t, "Europe/Berlin")); local.Hour() != 2 && local.Hour() != 3 || local.AddDate(0, 0, 1).Day() != 1 {
				t.Fatalf("nextRuns %v: %s is not 02:30 on a month's last day", v.NextRuns, s)
			}
			prev = ts
		}
		// The round trip: GET's document is accepted by PUT.
		if r := e.do("PUT", "/accounts/default/schedule", "admin", r.body); r.status != 200 {
			t.Fatalf("PUT of GET's document: %d %s", r.status, r.body)
		}
		// The directory document carries the schedule too.
		var doc bridge.Settings
		e.do("GET", "/accounts/default/directory", "admin", nil).json(t, &doc)
		if doc.Schedule.Frequency != bridge.FrequencyMonthly || doc.Schedule.DayOfMonth != 31 {
			t.Fatalf("directory document schedule = %+v", doc.Schedule)
		}
		r = e.do("PUT", "/accounts/default/schedule", "admin", map[string]any{"enabled": true, "frequency": "interval",
			"every": map[string]any{"days": 2, "weeks": 1}, "start": "tomorrow", "timeZone": "Mars/Base"})
		if r.status != 422 || len(r.problem(t).Problems) != 3 {
			t.Fatalf("invalid schedule: %d %s", r.status, r.body)
		}
	})
}

func mustZone(t *testing.T, name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestRunsAndAudit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if r := e.do("POST", "/accounts/default/runs", "admin", nil); r.status != 202 {
			t.Fatalf("Run Now without settings: %d %s", r.status, r.body)
		} else {
			var run bridge.Run
			r.json(t, &run)
			if got := e.wait(run.ID); got.Status != bridge.RunFailed || !strings.Contains(got.Error, "not configured") {
				t.Fatalf("run without settings: %s %q", got.Status, got.Error)
			}
		}
		e.configure(nil)
		dry := e.runAndWait(map[string]any{"dryRun": true})
		if dry.Status != bridge.RunSucceeded || !dry.DryRun || dry.Counts.Users.Added == 0 {
			t.Fatalf("dry run: %+v", dry)
		}
		first := e.runAndWait(nil)
		if first.Status != bridge.RunSucceeded || first.Counts.Users.Added == 0 {
			t.Fatalf("first run: %+v", first)
		}

		// History, newest first, paged.
		var page admin.Page[bridge.Run]
		e.do("GET", "/accounts/default/runs?limit=2", "auditor", nil).json(t, &page)
		if page.Total != 3 || len(page.Items) != 2 || page.Items[0].ID != first.ID || page.Items[1].ID != dry.ID {
			t.Fatalf("history: %+v", page)
		}
		if r := e.do("GET", "/accounts/default/runs?limit=0", "auditor", nil); r.status != 400 {
			t.Fatalf("limit=0: %d", r.status)
		}

		// Events: JSON paged with an action filter, and CSV.
		var events admin.Page[bridge.RunEvent]
		e.do("GET", "/accounts/default/runs/"+first.ID+"/events?action=add&limit=5", "auditor", nil).json(t, &events)
		if events.Total != first.Counts.Users.Added+first.Counts.Groups.Added || len(events.Items) != 5 {
			t.Fatalf("events: total %d, %d items; counts %+v", events.Total, len(events.Items), first.Counts)
		}
		for _, ev := range events.Items {
			if ev.Action != bridge.ActionAdd {
				t.Fatalf("filtered events include %s", ev.Action)
			}
		}
		r := e.do("GET", "/accounts/default/runs/"+first.ID+"/events?format=csv&action=add", "auditor", nil)
		rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || len(rows) != events.Total+1 || rows[0][0] != "id" {
			t.Fatalf("CSV: %v, %d rows, %s", err, len(rows), r.header.Get("Content-Type"))
		}
		if r := e.do("GET", "/accounts/default/runs/"+first.ID+"/events?action=explode", "auditor", nil); r.status != 400 {
			t.Fatalf("bad action: %d", r.status)
		}
		if r := e.do("GET", "/accounts/other/runs/"+first.ID, "bootstrap", nil); r.status != 404 {
			t.Fatalf("a run seen from another account: %d", r.status)
		}

		// Disable one user and remove another in AD; the next run
		// deactivates and deletes them, and the audit trail says so.
		users, _, err := e.store.ListUsers(ctx, bridge.DefaultAccount, bridge.StatusActive, 0, 100)
		if err != nil || len(users) < 3 {
			t.Fatalf("users: %d, %v", len(users), err)
		}
		var disabled, removed bridge.User
		for _, u := range users {
			switch {
			case u.DN == e.facts.ServiceDN || u.DN == "":
			case disabled.ID == "":
				disabled = u
			case removed.ID == "":
				removed = u
			}
		}
		if err := e.srv.Modify(disabled.DN, map[string][]string{"userAccountControl": {"514"}}); err != nil {
			t.Fatal(err)
		}
		if !e.srv.Remove(removed.DN) {
			t.Fatalf("remove %s", removed.DN)
		}
		second := e.runAndWait(nil)
		if second.Status != bridge.RunSucceeded || second.Counts.Users.Deactivated != 1 || second.Counts.Users.Deleted != 1 {
			t.Fatalf("second run: %+v", second)
		}
		var audit admin.Page[admin.AuditEntry]
		e.do("GET", "/accounts/default/audit/users?status=deactivated", "auditor", nil).json(t, &audit)
		if audit.Total != 1 || audit.Items[0].UserID != disabled.ID || audit.Items[0].RunID != second.ID || audit.Items[0].Reason == "" {
			t.Fatalf("deactivated audit: %+v", audit)
		}
		e.do("GET", "/accounts/default/audit/users", "auditor", nil).json(t, &audit)
		if audit.Total != 2 {
			t.Fatalf("audit of both: %+v", audit)
		}
		since := qtime(time.Now().Add(time.Hour))
		e.do("GET", "/accounts/default/audit/users?since="+since, "auditor", nil).json(t, &audit)
		if audit.Total != 0 {
			t.Fatalf("audit since the future: %+v", audit)
		}
		r = e.do("GET", "/accounts/default/audit/users?status=deleted&format=csv", "auditor", nil)
		rows, err = csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil || len(rows) != 2 || rows[1][1] != "deleted" || rows[1][2] != removed.ID {
			t.Fatalf("audit CSV: %v %v", err, rows)
		}
		if r := e.do("GET", "/accounts/default/audit/users?status=gone", "auditor", nil); r.status != 400 {
			t.Fatalf("bad status: %d", r.status)
		}
		var hist admin.UserHistory
		e.do("GET", "/accounts/default/audit/users/"+removed.ID, "auditor", nil).json(t, &hist)
		if hist.User == nil || hist.User.Status != bridge.StatusDeleted || hist.Total != 2 ||
			hist.Items[0].Action != bridge.ActionDelete || hist.Items[1].Action != bridge.ActionAdd {
			t.Fatalf("history: %+v", hist)
		}
		if r := e.do("GET", "/accounts/default/audit/users/no-such-user", "auditor", nil); r.status != 404 {
			t.Fatalf("unknown user history: %d", r.status)
		}

		// Cancelling a finished run is a conflict.
		if r := e.do("POST", "/accounts/default/runs/"+second.ID+"/cancel", "admin", nil); r.status != 409 {
			t.Fatalf("cancel a finished run: %d %s", r.status, r.body)
		}
		if r := e.do("POST", "/accounts/default/runs/"+second.ID+"/approve", "admin", nil); r.status != 409 {
			t.Fatalf("approve a succeeded run: %d %s", r.status, r.body)
		}
	})
}

func qtime(t time.Time) string { return strings.ReplaceAll(t.UTC().Format(time.RFC3339), "+", "%2B") }

// TestRunNowConflict: while the account's lock is held (another replica
// runs), Run Now answers 409 with the running run.
func TestRunNowConflict(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.configure(nil)
		unlock, err := e.store.LockAccount(ctx, bridge.DefaultAccount)
		if err != nil {
			t.Fatal(err)
		}
		running := bridge.Run{ID: "11111111-2222-3333-4444-555555555555", AccountID: bridge.DefaultAccount,
			Trigger: bridge.TriggerSchedule, Kind: bridge.RunFull, Status: bridge.RunRunning, StartedAt: time.Now().UTC()}
		if err := e.store.CreateRun(ctx, running); err != nil {
			t.Fatal(err)
		}
		r := e.do("POST", "/accounts/default/runs", "admin", map[string]any{"dryRun": false})
		if r.status != 409 {
			t.Fatalf("Run Now while running: %d %s", r.status, r.body)
		}
		p := r.problem(t)
		if p.Run == nil || p.Run.ID != running.ID || r.header.Get("Location") == "" {
			t.Fatalf("409 without the running run: %s", r.body)
		}
		// Cancel from this replica: the run belongs to "another" one, so it
		// is marked cancelled in the store.
		r = e.do("POST", "/accounts/default/runs/"+running.ID+"/cancel", "admin", nil)
		var got bridge.Run
		r.json(t, &got)
		if r.status != 200 || got.Status != bridge.RunCancelled {
			t.Fatalf("cancel: %d %s", r.status, r.body)
		}
		unlock()
		if run := e.runAndWait(nil); run.Status != bridge.RunSucceeded {
			t.Fatalf("run after the lock was released: %+v", run)
		}
	})
}

// TestHeldRunApproved: a run over the deletion threshold is held with
// nothing deleted; approving it deletes.
func TestHeldRunApproved(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.configure(func(m map[string]any) { m["deletionThreshold"] = map[string]any{"maxCount": 1, "maxPercent": 100} })
		if run := e.runAndWait(nil); run.Status != bridge.RunSucceeded {
			t.Fatalf("first run: %+v", run)
		}
		users, _, _ := e.store.ListUsers(ctx, bridge.DefaultAccount, bridge.StatusActive, 0, 100)
		n := 0
		for _, u := range users {
			if n < 3 && u.DN != "" && u.DN != e.facts.ServiceDN && e.srv.Remove(u.DN) {
				n++
			}
		}
		held := e.runAndWait(nil)
		if held.Status != bridge.RunHeld || held.Counts.Users.Deleted != 3 {
			t.Fatalf("want a held run deleting 3: %+v", held)
		}
		if live, _, _ := e.store.ListUsers(ctx, bridge.DefaultAccount, bridge.StatusActive, 0, 100); len(live) != len(users) {
			t.Fatalf("a held run deleted users: %d left of %d", len(live), len(users))
		}
		var audit admin.Page[admin.AuditEntry]
		e.do("GET", "/accounts/default/audit/users", "auditor", nil).json(t, &audit)
		if audit.Total != 0 {
			t.Fatalf("a held run's hypothetical deletions are in the audit trail: %+v", audit)
		}
		r := e.do("POST", "/accounts/default/runs/"+held.ID+"/approve", "admin", nil)
		if r.status != 202 {
			t.Fatalf("approve: %d %s", r.status, r.body)
		}
		var approved bridge.Run
		r.json(t, &approved)
		approved = e.wait(approved.ID)
		if approved.Status != bridge.RunSucceeded || approved.ApprovedRunID != held.ID || approved.Counts.Users.Deleted != 3 ||
			approved.Trigger != bridge.TriggerApproval {
			t.Fatalf("approved run: %+v", approved)
		}
		e.do("GET", "/accounts/default/audit/users?status=deleted", "auditor", nil).json(t, &audit)
		if audit.Total != 3 {
			t.Fatalf("audit after approval: %+v", audit)
		}
	})
}

func TestProtectionsAndOwners(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		for _, list := range []string{"protected", "owners"} {
			base := "/accounts/default/" + list
			r := e.do("POST", base, "admin", map[string]any{"objectType": "user", "externalId": "5b1e2f0c-0000-4000-8000-000000000001", "note": "CEO"})
			if r.status != 201 {
				t.Fatalf("%s add: %d %s", list, r.status, r.body)
			}
			var p bridge.Protection
			r.json(t, &p)
			if r := e.do("POST", base, "admin", map[string]any{"objectType": "user", "externalId": "5b1e2f0c-0000-4000-8000-000000000001"}); r.status != 409 {
				t.Fatalf("%s duplicate: %d %s", list, r.status, r.body)
			}
			if r := e.do("POST", base, "admin", map[string]any{"objectType": "printer"}); r.status != 422 || len(r.problem(t).Problems) != 2 {
				t.Fatalf("%s invalid: %d %s", list, r.status, r.body)
			}
			var items struct{ Items []bridge.Protection }
			e.do("GET", base, "admin", nil).json(t, &items)
			if len(items.Items) != 1 || items.Items[0].ID != p.ID {
				t.Fatalf("%s list: %+v", list, items)
			}
			if r := e.do("DELETE", base+"/"+p.ID, "admin", nil); r.status != 204 {
				t.Fatalf("%s delete: %d", list, r.status)
			}
			if r := e.do("DELETE", base+"/"+p.ID, "admin", nil); r.status != 404 {
				t.Fatalf("%s delete again: %d", list, r.status)
			}
		}
		if r := e.do("POST", "/accounts/default/owners", "admin", map[string]any{"objectType": "group", "externalId": "x"}); r.status != 422 {
			t.Fatalf("a group as owner: %d", r.status)
		}
	})
}

func TestTokens(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/accounts/default/tokens", "admin", map[string]any{"role": "auditor", "name": "siem"})
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		var created struct {
			ID    string `json:"id"`
			Role  string `json:"role"`
			Token string `json:"token"`
		}
		r.json(t, &created)
		if created.Role != "auditor" || !strings.HasPrefix(created.Token, bridge.TokenPrefix) {
			t.Fatalf("created: %s", r.body)
		}
		e.tokens["new"] = created.Token
		if r := e.do("GET", "/accounts/default/runs", "new", nil); r.status != 200 {
			t.Fatalf("the new auditor token: %d", r.status)
		}
		r = e.do("GET", "/accounts/default/tokens", "admin", nil)
		if r.status != 200 || contains(r.body, created.Token) || contains(r.body, `"hash"`) || regexp.MustCompile(`"token"`).Match(r.body) {
			t.Fatalf("the list shows secrets: %s", r.body)
		}
		if r := e.do("POST", "/accounts/default/tokens", "admin", map[string]any{"role": "root"}); r.status != 422 {
			t.Fatalf("bad role: %d", r.status)
		}
		if r := e.do("DELETE", "/accounts/default/tokens/"+created.ID, "admin", nil); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/accounts/default/runs", "new", nil); r.status != 401 {
			t.Fatalf("a revoked token: %d", r.status)
		}
	})
}

func TestProblemDocuments(t *testing.T) {
	e := newEnv(t, backends[0].cfg(t))
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/nowhere", nil, 404},
		{"PATCH", "/accounts/default/schedule", "{}", 405},
		{"POST", "/accounts/default/tokens", "not json", 400},
		{"POST", "/accounts/default/tokens", `{"role": "scim"} {"role": "scim"}`, 400},
		{"POST", "/accounts/default/tokens", "", 400},
		{"GET", "/accounts/nope/runs", nil, 404},
	} {
		r := e.do(tc.method, tc.path, "bootstrap", tc.body)
		if r.status != tc.status {
			t.Errorf("%s %s: %d, want %d; %s", tc.method, tc.path, r.status, tc.status, r.body)
			continue
		}
		p := r.problem(t)
		if p.Status != tc.status || p.Title == "" || p.Detail == "" || p.Type == "" {
			t.Errorf("%s %s: incomplete problem %+v", tc.method, tc.path, p)
		}
	}
	_ = http.StatusOK
}
