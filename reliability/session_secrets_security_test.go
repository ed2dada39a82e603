package reliability

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/labseed"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

// TestNoSecretInAWholeSession runs a whole session with the built binary,
// every process logging at Debug: `directory set` with the bind password,
// `token create` for scim, admin and auditor, `serve`; SCIM calls (and a
// wrong SCIM token), admin API calls (a token created over the API, the
// directory settings read back), console sign-ins through the form with a
// cookie jar and the page's CSRF token (admin and auditor, and a wrong
// token), Run Now from the console and the finished run, a test connection
// with a wrong password. Then every log line, every response status line,
// header and body, and every console page are searched for the bind
// password, the wrong password and every token secret: none appears
// (except each token where it is handed out: the stdout of `token create`,
// the body of the API's 201). At rest, no table column (PostgreSQL) and no
// file (SQLite) holds the password or a token. Against adsim and the Samba
// lab, on SQLite and PostgreSQL.
func TestNoSecretInAWholeSession(t *testing.T) {
	type directory struct {
		name     string
		settings func(t *testing.T) (doc map[string]any, password string)
	}
	dirs := []directory{
		{"adsim", func(t *testing.T) (map[string]any, string) {
			srv, facts, err := adsim.NewSample("DC=example,DC=com", adsim.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			host, port := splitAddr(t, srv.Addr())
			return map[string]any{
				"connection": map[string]any{"host": host, "port": port, "security": "none", "timeoutSeconds": 30,
					"baseDn": "DC=example,DC=com", "bindDn": facts.ServiceDN, "password": adsim.SamplePassword},
				"organizationalUnits": map[string]any{"mode": "all"},
				"distributionLists":   map[string]any{"import": true},
			}, adsim.SamplePassword
		}},
		{"samba", func(t *testing.T) (map[string]any, string) {
			lab := sambaLab(t)
			ca, err := os.ReadFile(lab.CAFile)
			if err != nil {
				t.Fatal(err)
			}
			x := labseed.Expected(lab.Users)
			return map[string]any{
				"connection": map[string]any{"host": lab.Host, "port": lab.LDAPSPort, "security": "ldaps", "timeoutSeconds": 30,
					"caCertificate": string(ca), "baseDn": lab.BaseDN, "bindDn": lab.BindDN, "password": lab.Password},
				// The Service OU (the bind account alone) and the groups:
				// a real sync in well under a second.
				"organizationalUnits": map[string]any{"mode": "selected", "selected": []string{"OU=Service," + lab.BaseDN, x.GroupsOU}},
			}, lab.Password
		}},
	}
	for _, d := range dirs {
		for _, b := range []string{"sqlite", "postgres"} {
			t.Run(d.name+"/"+b, func(t *testing.T) {
				doc, password := d.settings(t)
				runSecretSession(t, b, doc, password)
			})
		}
	}
}

func splitAddr(t *testing.T, addr string) (string, int) {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	port := 0
	for _, c := range addr[i+1:] {
		port = port*10 + int(c-'0')
	}
	return addr[:i], port
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func runSecretSession(t *testing.T, backend string, doc map[string]any, password string) {
	p := newProc(t, backend)
	bootstrap := "scb_bootstrap-" + randomHex(16)
	wrongPassword := "Wr0ng-" + randomHex(8)
	wrongToken := "scb_" + randomHex(32)
	p.setenv("SCIMBRIDGE_ADMIN_TOKEN=" + bootstrap)
	seen := &bytes.Buffer{} // every response: status, headers, body

	// 1. directory set (the password is in the file, nowhere else).
	p.setDirectory(doc)

	// 2. tokens from the CLI: the secret alone on stdout, logs on stderr.
	tokens := map[string]string{}
	for _, role := range []string{"scim", "admin", "auditor"} {
		var out bytes.Buffer
		c := exec.Command(binary(t), "token", "create", "--account", "default", "--role", role, "--name", "session "+role)
		c.Env = p.env
		c.Stdout, c.Stderr = &out, p.logs
		if err := c.Run(); err != nil {
			t.Fatalf("token create --role %s: %v", role, err)
		}
		tokens[role] = strings.TrimSpace(out.String())
		if !strings.HasPrefix(tokens[role], "scb_") || strings.ContainsAny(tokens[role], " \n") {
			t.Fatalf("token create printed %q, want the token alone", out.String())
		}
	}

	// 3. serve, at Debug.
	srv, base := p.serve()
	call := func(method, path, token, ctype string, body []byte) (int, []byte) {
		t.Helper()
		hr, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		if body == nil {
			hr, _ = http.NewRequest(method, base+path, nil)
		}
		if token != "" {
			hr.Header.Set("Authorization", "Bearer "+token)
		}
		if ctype != "" {
			hr.Header.Set("Content-Type", ctype)
		}
		res, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		seen.WriteString(method + " " + path + " -> " + res.Status + "\n")
		_ = res.Header.Write(seen)
		seen.Write(data)
		seen.WriteString("\n")
		return res.StatusCode, data
	}

	// 4. SCIM.
	if code, body := call("POST", "/scim/v2/Users", tokens["scim"], "application/scim+json",
		[]byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"local@example.com","password":"`+wrongPassword+`"}`)); code != 201 {
		t.Fatalf("SCIM POST: %d %s", code, body)
	}
	if code, body := call("GET", "/scim/v2/Users?count=5", tokens["scim"], "", nil); code != 200 {
		t.Fatalf("SCIM GET: %d %s", code, body)
	}
	if code, _ := call("GET", "/scim/v2/Users", wrongToken, "", nil); code != 401 {
		t.Fatalf("SCIM with a wrong token: %d", code)
	}

	// 5. Admin API: a token made over the API (its secret is in that one
	// answer), the settings read back, a test connection with a wrong
	// password.
	code, created := call("POST", "/api/v1/accounts/default/tokens", tokens["admin"], "application/json", []byte(`{"role":"scim","name":"api"}`))
	var apiTok struct{ Token string }
	_ = json.Unmarshal(created, &apiTok)
	if code != 201 || !strings.HasPrefix(apiTok.Token, "scb_") {
		t.Fatalf("POST tokens: %d %s", code, created)
	}
	createdAnswer := seen.Len()
	if code, body := call("GET", "/api/v1/accounts/default/tokens", tokens["admin"], "", nil); code != 200 {
		t.Fatalf("GET tokens: %d %s", code, body)
	}
	code, got := call("GET", "/api/v1/accounts/default/directory", tokens["admin"], "", nil)
	if code != 200 || !strings.Contains(string(got), `"bindDn"`) {
		t.Fatalf("GET directory: %d %s", code, got)
	}
	wrong := map[string]any{}
	for k, v := range doc {
		wrong[k] = v
	}
	conn := map[string]any{}
	for k, v := range doc["connection"].(map[string]any) {
		conn[k] = v
	}
	conn["password"] = wrongPassword
	wrong["connection"] = conn
	wrongDoc, _ := json.Marshal(wrong)
	code, report := call("POST", "/api/v1/accounts/default/directory/test", tokens["admin"], "application/json", wrongDoc)
	var rep struct {
		OK    bool
		Error string
	}
	_ = json.Unmarshal(report, &rep)
	if code != 200 || rep.OK || rep.Error == "" {
		t.Fatalf("test connection with a wrong password: %d %s", code, report)
	}
	t.Logf("wrong password: %s", rep.Error)
	if code, body := call("GET", "/api/v1/accounts/default/runs", tokens["auditor"], "", nil); code != 200 {
		t.Fatalf("auditor GET runs: %d %s", code, body)
	}

	// 6. Console: a wrong token, then admin and auditor through the form.
	wrongB := newBrowser(t, base)
	if res, _ := wrongB.signIn(wrongToken, ""); res.StatusCode != 401 {
		t.Fatalf("console sign-in with a wrong token: %d", res.StatusCode)
	}
	admin := newBrowser(t, base)
	res, page := admin.signIn(tokens["admin"], "")
	if res.StatusCode != 200 || res.Request.URL.Path != "/console/settings" {
		t.Fatalf("console sign-in: %d at %s", res.StatusCode, res.Request.URL)
	}
	csrf := admin.csrf(page)
	for _, p := range []string{"/console/wizard", "/console/runs", "/console/audit"} {
		if res, _ := admin.get(p); res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", p, res.StatusCode)
		}
	}
	if res, body := admin.api("GET", "directory", "", nil); res.StatusCode != 200 {
		t.Fatalf("console GET directory: %d %s", res.StatusCode, body)
	}
	if res, body := admin.api("POST", "directory/test", csrf, wrongDoc); res.StatusCode != 200 || !strings.Contains(body, `"ok": false`) {
		t.Fatalf("console test connection, wrong password: %d %s", res.StatusCode, body)
	}
	// Run Now from the console, to a finished run.
	res, body := admin.api("POST", "runs", csrf, []byte(`{}`))
	var run struct{ ID, Status, Error string }
	_ = json.Unmarshal([]byte(body), &run)
	if res.StatusCode != 202 || run.ID == "" {
		t.Fatalf("console Run Now: %d %s", res.StatusCode, body)
	}
	if !waitFor(60*time.Second, func() bool {
		_, body := admin.api("GET", "runs/"+run.ID, "", nil)
		_ = json.Unmarshal([]byte(body), &run)
		return run.Status != "running"
	}) || run.Status != "succeeded" {
		t.Fatalf("the run: %s %s", run.Status, run.Error)
	}
	if res, _ := admin.get("/console/runs/" + run.ID); res.StatusCode != 200 {
		t.Fatalf("run report page: %d", res.StatusCode)
	}
	if res, _ := admin.api("GET", "runs/"+run.ID+"/events?format=csv", "", nil); res.StatusCode != 200 {
		t.Fatalf("run events: %d", res.StatusCode)
	}
	auditor := newBrowser(t, base)
	if res, _ := auditor.signIn(tokens["auditor"], ""); res.StatusCode != 200 || res.Request.URL.Path != "/console/audit" {
		t.Fatalf("auditor sign-in: %d at %s", res.StatusCode, res.Request.URL)
	}
	if res, _ := auditor.api("GET", "audit/users", "", nil); res.StatusCode != 200 {
		t.Fatalf("auditor audit: %d", res.StatusCode)
	}

	// 7. Stop serve (its last lines are logged at shutdown).
	_ = srv.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}

	// 8. Search everything.
	secrets := map[string]string{"the bind password": password, "the wrong password": wrongPassword,
		"the bootstrap token": bootstrap, "the wrong token": wrongToken, "the API-created token": apiTok.Token}
	for role, s := range tokens {
		secrets["the "+role+" token"] = s
	}
	responses := seen.String()
	places := map[string]string{
		"the processes' logs":                  p.logs.String(),
		"the API answers":                      responses[:createdAnswer-len(created)-1] + responses[createdAnswer:],
		"the admin console (pages, answers)":   admin.seen.String(),
		"the auditor console (pages, answers)": auditor.seen.String(),
		"the refused console sign-in":          wrongB.seen.String(),
	}
	// The places searched hold what they should (so an empty capture
	// cannot pass the search).
	for where, want := range map[string][]string{
		"the processes' logs":                  {"level=DEBUG", "console sign-in", run.ID, "token created"},
		"the API answers":                      {`"bindDn"`, "invalid credentials", "local@example.com"},
		"the admin console (pages, answers)":   {"csrf-token", "Set-Cookie: scimbridge_console=", run.ID, "invalid credentials"},
		"the auditor console (pages, answers)": {"csrf-token", "Set-Cookie: scimbridge_console="},
		"the refused console sign-in":          {"This token is not valid"},
	} {
		for _, w := range want {
			if !strings.Contains(places[where], w) {
				t.Fatalf("%s lack %q: the search would prove nothing", where, w)
			}
		}
	}
	for what, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("%s is too short to search for", what)
		}
		for where, text := range places {
			if i := strings.Index(text, s); i >= 0 {
				lo, hi := max(i-120, 0), min(i+len(s)+40, len(text))
				t.Errorf("%s is in %s: ...%s...", what, where, strings.ReplaceAll(text[lo:hi], s, "<SECRET>"))
			}
		}
	}
	// The API-created token is only in its own 201.
	if strings.Count(responses, apiTok.Token) != 1 {
		t.Errorf("the API-created token appears %d times in the API answers, want once (its creation)", strings.Count(responses, apiTok.Token))
	}

	// 9. At rest.
	atRest := []string{password, wrongPassword}
	for _, s := range tokens {
		atRest = append(atRest, s)
	}
	atRest = append(atRest, apiTok.Token, bootstrap)
	switch backend {
	case "postgres":
		checkPostgresColumns(t, dbURLOf(p), atRest)
	case "sqlite":
		dir := dataDirOf(p)
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			for _, s := range atRest {
				if bytes.Contains(data, []byte(s)) {
					t.Errorf("%s holds a secret (%d chars) in plaintext", e.Name(), len(s))
				}
			}
		}
	}
}

func dbURLOf(p *proc) string {
	for i := len(p.env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(p.env[i], "SCIMBRIDGE_DATABASE_URL="); ok && v != "" {
			return v
		}
	}
	return ""
}

// checkPostgresColumns searches every text, JSON and bytea column of every
// table for each secret; the directory_settings row must exist and hold a
// sealed password.
func checkPostgresColumns(t *testing.T, url string, secrets []string) {
	t.Helper()
	conn, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	rows, err := conn.QueryContext(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'USER-DEFINED', 'ARRAY')`)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ table, name, typ string }
	var cols []col
	tables := map[string]bool{}
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.table, &c.name, &c.typ); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
		tables[c.table] = true
	}
	rows.Close()
	if !tables["directory_settings"] || len(cols) < 20 {
		t.Fatalf("only %d text columns in %d tables found (directory_settings: %v)", len(cols), len(tables), tables["directory_settings"])
	}
	for _, c := range cols {
		expr := `strpos("` + c.name + `"::text, $1) > 0`
		if c.typ == "bytea" {
			expr = `position(convert_to($1, 'UTF8') in "` + c.name + `") > 0`
		}
		for _, s := range secrets {
			var n int
			if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM "`+c.table+`" WHERE `+expr, s).Scan(&n); err != nil {
				t.Fatalf("search %s.%s: %v", c.table, c.name, err)
			}
			if n > 0 {
				t.Errorf("%s.%s holds a secret (%d chars) in plaintext in %d row(s)", c.table, c.name, len(s), n)
			}
		}
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM directory_settings`).Scan(&n); err != nil || n != 1 {
		t.Errorf("directory_settings rows: %d, %v", n, err)
	}
}
