package ldapsync_test

// Integration tests against a real Samba AD: scripts/samba-lab.sh up writes
// /var/tmp/scimbridge-lab/env and seeds what internal/labseed describes.
// Without a lab they skip, except in CI (CI=true), where they fail.

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/labseed"
	"github.com/scimbridge/scimbridge/ldapsync"
)

const labEnvFile = "/var/tmp/scimbridge-lab/env"

type labEnv struct {
	Host            string
	Port, LDAPSPort int
	BaseDN, BindDN  string
	Password        string
	CA, WrongCA     string // PEM
	Users           int
	Seed            *labseed.Seed
	Expect          labseed.Expectation
}

// lab loads the lab's settings from the environment, or from the env file
// the lab script writes when the variables are not exported.
func labConfig(tb testing.TB, connOnly bool) labEnv {
	tb.Helper()
	get := os.Getenv
	if get("SCIMBRIDGE_LAB_HOST") == "" {
		path := os.Getenv("SCIMBRIDGE_LAB_ENV_FILE")
		if path == "" {
			path = labEnvFile
		}
		vars := readEnvFile(path)
		get = func(k string) string { return vars[k] }
	}
	missing := func(what string) {
		tb.Helper()
		if os.Getenv("CI") == "true" {
			tb.Fatalf("Samba lab not available (%s); run scripts/samba-lab.sh up", what)
		}
		tb.Skipf("Samba lab not available (%s); run scripts/samba-lab.sh up", what)
	}
	e := labEnv{Host: get("SCIMBRIDGE_LAB_HOST"), BaseDN: get("SCIMBRIDGE_LAB_BASE_DN"),
		BindDN: get("SCIMBRIDGE_LAB_BIND_DN"), Password: get("SCIMBRIDGE_LAB_PASSWORD")}
	if e.Host == "" || e.BaseDN == "" || e.BindDN == "" {
		missing("SCIMBRIDGE_LAB_HOST, _BASE_DN or _BIND_DN unset")
	}
	var err error
	if e.Port, err = strconv.Atoi(get("SCIMBRIDGE_LAB_PORT")); err != nil {
		missing("SCIMBRIDGE_LAB_PORT")
	}
	if e.LDAPSPort, err = strconv.Atoi(get("SCIMBRIDGE_LAB_LDAPS_PORT")); err != nil {
		missing("SCIMBRIDGE_LAB_LDAPS_PORT")
	}
	if e.Users, err = strconv.Atoi(get("SCIMBRIDGE_LAB_USERS")); err != nil {
		missing("SCIMBRIDGE_LAB_USERS")
	}
	for _, f := range []struct {
		env string
		dst *string
	}{{"SCIMBRIDGE_LAB_CA_FILE", &e.CA}, {"SCIMBRIDGE_LAB_WRONG_CA_FILE", &e.WrongCA}} {
		b, err := os.ReadFile(get(f.env))
		if err != nil {
			missing(f.env + ": " + err.Error())
		}
		*f.dst = string(b)
	}
	if !connOnly {
		e.Seed = labseed.New(e.BaseDN, e.Users)
		e.Expect = e.Seed.Expected()
	}
	return e
}

// lab describes the Samba lab and what was seeded into it.
func lab(tb testing.TB) labEnv { return labConfig(tb, false) }

// labConn describes how to reach the lab without building the seed in
// memory, for benchmarks that measure this process's memory.
func labConn(tb testing.TB) labEnv { return labConfig(tb, true) }

func readEnvFile(path string) map[string]string {
	vars := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return vars
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		vars[k] = strings.Trim(v, `"'`)
	}
	return vars
}

func (e labEnv) conn(sec bridge.Security) bridge.Connection {
	c := bridge.Connection{Host: e.Host, Port: e.Port, Security: sec, BaseDN: e.BaseDN, BindDN: e.BindDN, TimeoutSeconds: 20}
	switch sec {
	case bridge.SecurityLDAPS:
		c.Port, c.CACertificate = e.LDAPSPort, e.CA
	case bridge.SecurityStartTLS:
		c.CACertificate = e.CA
	}
	return c
}

func (e labEnv) open(t *testing.T, sec bridge.Security) *ldapsync.Directory {
	t.Helper()
	d, err := ldapsync.Open(context.Background(), e.conn(sec), e.Password, testLogger(t))
	if err != nil {
		t.Fatalf("Open %s: %v", sec, err)
	}
	t.Cleanup(func() { d.Close() })
	return d.(*ldapsync.Directory)
}

func TestLabConnect(t *testing.T) {
	e := lab(t)
	for _, sec := range []bridge.Security{bridge.SecurityNone, bridge.SecurityStartTLS, bridge.SecurityLDAPS} {
		t.Run(string(sec), func(t *testing.T) {
			d := e.open(t, sec)
			info, err := d.ServerInfo(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			base, _ := ldap.ParseDN(e.BaseDN)
			got, _ := ldap.ParseDN(info.DefaultNamingContext)
			if !base.EqualFold(got) || info.HighestCommittedUSN <= 0 || !info.SupportsPaging || info.DNSHostName == "" {
				t.Fatalf("ServerInfo = %+v", info)
			}
			t.Logf("rootDSE: host %s usn %d dirsync %v showDeleted %v invocationId %q",
				info.DNSHostName, info.HighestCommittedUSN, info.SupportsDirSync, info.SupportsShowDeleted, info.InvocationID)
		})
	}
}

func TestLabErrors(t *testing.T) {
	e := lab(t)
	ldaps := func(c *bridge.Connection) { *c = e.conn(bridge.SecurityLDAPS) }
	tests := []struct {
		name     string
		edit     func(*bridge.Connection)
		password string
		kind     ldapsync.Kind
		want     string // exact sentence, or prefix when it ends with "…"
	}{
		{"wrong CA over ldaps", func(c *bridge.Connection) { ldaps(c); c.CACertificate = e.WrongCA }, e.Password, ldapsync.KindTLS,
			"TLS handshake with " + e.Host + ":" + strconv.Itoa(e.LDAPSPort) + " failed: the server's certificate is not signed by a trusted CA (set caCertificate)"},
		{"no CA over ldaps", func(c *bridge.Connection) { ldaps(c); c.CACertificate = "" }, e.Password, ldapsync.KindTLS,
			"TLS handshake with " + e.Host + ":" + strconv.Itoa(e.LDAPSPort) + " failed: the server's certificate is not signed by a trusted CA (set caCertificate)"},
		{"wrong CA over starttls", func(c *bridge.Connection) { *c = e.conn(bridge.SecurityStartTLS); c.CACertificate = e.WrongCA }, e.Password, ldapsync.KindTLS,
			"TLS handshake with " + e.Host + ":" + strconv.Itoa(e.Port) + " failed: the server's certificate is not signed by a trusted CA (set caCertificate)"},
		{"ldaps to the plain port", func(c *bridge.Connection) { ldaps(c); c.Port = e.Port }, e.Password, ldapsync.KindTLS,
			"TLS handshake with " + e.Host + ":" + strconv.Itoa(e.Port) + " failed: …"},
		{"wrong password", nil, "not-the-password", ldapsync.KindCredentials,
			"cannot bind as " + e.BindDN + ": invalid credentials (wrong DN or password)"},
		{"unreachable port", func(c *bridge.Connection) { c.Port = 1 }, e.Password, ldapsync.KindUnreachable,
			"cannot reach " + e.Host + ":1: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.conn(bridge.SecurityNone)
			if tt.edit != nil {
				tt.edit(&c)
			}
			d, err := ldapsync.Open(context.Background(), c, tt.password, testLogger(t))
			if err == nil {
				d.Close()
				t.Fatal("Open succeeded")
			}
			ok := err.Error() == tt.want
			if p, cut := strings.CutSuffix(tt.want, "…"); cut {
				ok = strings.HasPrefix(err.Error(), p)
			}
			if !ok || ldapsync.Classify(err) != tt.kind {
				t.Fatalf("error = %q (kind %q)\nwant    %q (kind %q)", err, ldapsync.Classify(err), tt.want, tt.kind)
			}
		})
	}
	// A certificate that does not name the host is tested against adsim
	// (TestTLS): the lab listens on 127.0.0.1 alone, which its
	// certificate names, so no other address reaches it.

	d := e.open(t, bridge.SecurityNone)
	scopeTests := []struct {
		name  string
		scope bridge.Scope
		kind  ldapsync.Kind
		want  string
	}{
		{"missing base DN", bridge.Scope{BaseDN: "OU=Nowhere," + e.BaseDN}, ldapsync.KindNoSuchBase,
			`base DN "OU=Nowhere,` + e.BaseDN + `" does not exist on the server`},
		{"bad filter", bridge.Scope{BaseDN: e.BaseDN, InclusionFilter: "(department=Sales"}, ldapsync.KindFilter,
			`filter "(department=Sales" is not a valid LDAP filter: …`},
	}
	for _, tt := range scopeTests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.Stream(context.Background(), tt.scope, bridge.EntryUser, func(bridge.Entry) error { return nil })
			p, _ := strings.CutSuffix(tt.want, "…")
			if err == nil || ldapsync.Classify(err) != tt.kind || !strings.HasPrefix(err.Error(), p) {
				t.Fatalf("error = %v (kind %q)\nwant %q", err, ldapsync.Classify(err), tt.want)
			}
		})
	}
}

func TestLabCounts(t *testing.T) {
	e := lab(t)
	x := e.Expect
	d := e.open(t, bridge.SecurityLDAPS)
	ctx := context.Background()

	all, err := d.Count(ctx, bridge.Scope{BaseDN: e.BaseDN, DistributionLists: true})
	if err != nil {
		t.Fatal(err)
	}
	if all.Users != x.Users+labseed.BuiltinPersonUsers {
		t.Errorf("users under the base DN = %d, want %d seeded + %d builtin", all.Users, x.Users, labseed.BuiltinPersonUsers)
	}
	t.Logf("whole base DN: %+v (Samba's builtin groups and OU=Domain Controllers included)", all)

	seeded := bridge.Scope{BaseDN: e.BaseDN, DistributionLists: true,
		Subtrees: []string{x.CorpOU, x.ContractorsOU, x.ServiceOU, x.GroupsOU, x.EmptyOU}}
	c, err := d.Count(ctx, seeded)
	if err != nil {
		t.Fatal(err)
	}
	if want := (bridge.ScopeCounts{Users: x.Users, Groups: x.Groups, OrganizationalUnits: x.OUs}); c != want {
		t.Errorf("seeded subtrees: Count = %+v, want %+v", c, want)
	}
	// Stream agrees with Count.
	n := 0
	if err := d.Stream(ctx, seeded, bridge.EntryUser, func(bridge.Entry) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != x.Users {
		t.Errorf("streamed %d users, want %d", n, x.Users)
	}
	for ou, want := range x.UsersByOU {
		n := 0
		err := d.Stream(ctx, bridge.Scope{BaseDN: e.BaseDN, Subtrees: []string{ou}}, bridge.EntryUser, func(u bridge.Entry) error {
			if dnParent(u.DN, ou) {
				n++
			}
			return nil
		})
		if err != nil || n != want {
			t.Errorf("%s: %d direct users (%v), want %d", ou, n, err, want)
		}
	}
}

func dnParent(dn, parent string) bool {
	d, err1 := ldap.ParseDN(dn)
	p, err2 := ldap.ParseDN(parent)
	if err1 != nil || err2 != nil || len(d.RDNs) < 2 {
		return false
	}
	return (&ldap.DN{RDNs: d.RDNs[1:]}).EqualFold(p)
}

func TestLabGroups(t *testing.T) {
	e := lab(t)
	x := e.Expect
	d := e.open(t, bridge.SecurityStartTLS)
	got := map[string]bridge.Entry{}
	scope := bridge.Scope{BaseDN: e.BaseDN, Subtrees: []string{x.GroupsOU}, DistributionLists: true}
	if err := d.Stream(context.Background(), scope, bridge.EntryGroup, func(g bridge.Entry) error {
		got[strings.ToLower(g.DN)] = g
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	find := func(dn string) bridge.Entry {
		t.Helper()
		want, _ := ldap.ParseDN(dn)
		for _, g := range got {
			if d, _ := ldap.ParseDN(g.DN); d != nil && d.EqualFold(want) {
				return g
			}
		}
		t.Fatalf("group %s not streamed", dn)
		return bridge.Entry{}
	}
	for dn, want := range x.GroupMembers {
		if g := find(dn); len(g.Members) != want {
			t.Errorf("%s: %d members, want %d", dn, len(g.Members), want)
		}
	}
	big := find(x.BigGroupDN)
	if want := min(e.Users, labseed.BigGroupMax); len(big.Members) != want {
		t.Fatalf("Big Group: %d members, want %d", len(big.Members), want)
	}
	uniq := map[string]bool{}
	for _, m := range big.Members {
		uniq[strings.ToLower(m)] = true
	}
	if len(uniq) != len(big.Members) {
		t.Errorf("Big Group: %d distinct of %d members", len(uniq), len(big.Members))
	}
	for dn, security := range map[string]bool{x.GlobalSecDN: true, x.DomainLocalDN: true, x.UniversalSecDN: true,
		x.DistGlobalDN: false, x.DistUniversalDN: false} {
		if g := find(dn); g.SecurityGroup() != security {
			t.Errorf("%s: groupType %#x, security %v", dn, g.GroupType, g.SecurityGroup())
		}
	}
	if g := find(x.EmptyGroupDN); len(g.Members) != 0 {
		t.Errorf("Empty Group has %d members", len(g.Members))
	}
	nested := find(x.NestedGroupDN)
	found := false
	for _, m := range find(x.GlobalSecDN).Members {
		if dnEqual(m, nested.DN) {
			found = true
		}
	}
	if !found {
		t.Errorf("%s is not a member of %s", x.NestedGroupDN, x.GlobalSecDN)
	}
	// Without distribution lists, only security groups come.
	n := 0
	scope.DistributionLists = false
	if err := d.Stream(context.Background(), scope, bridge.EntryGroup, func(g bridge.Entry) error {
		n++
		if !g.SecurityGroup() {
			t.Errorf("%s streamed without DistributionLists", g.DN)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n >= x.Groups {
		t.Errorf("%d groups without distribution lists, of %d", n, x.Groups)
	}
}

func dnEqual(a, b string) bool {
	x, err1 := ldap.ParseDN(a)
	y, err2 := ldap.ParseDN(b)
	return err1 == nil && err2 == nil && x.EqualFold(y)
}

func TestLabUsers(t *testing.T) {
	e := lab(t)
	x := e.Expect
	d := e.open(t, bridge.SecurityNone)
	one := func(filter string) bridge.Entry {
		t.Helper()
		var out []bridge.Entry
		err := d.Stream(context.Background(), bridge.Scope{BaseDN: e.BaseDN, InclusionFilter: filter}, bridge.EntryUser,
			func(u bridge.Entry) error { out = append(out, u); return nil })
		if err != nil || len(out) != 1 {
			t.Fatalf("filter %s: %d users, %v", filter, len(out), err)
		}
		return out[0]
	}
	byDN := func(dn string) bridge.Entry {
		t.Helper()
		s, _ := e.Seed.Entry(dn)
		return one(ldapsync.Equals("sAMAccountName", s.First("sAMAccountName")))
	}
	if u := byDN(x.DisabledDN); !u.Disabled() {
		t.Errorf("disabled user: UAC %#x", u.UserAccountControl)
	}
	if u := byDN(x.ExpiredDN); !u.AccountExpires.Equal(labseed.ExpiredAt) || !u.Expired(time.Now()) {
		t.Errorf("expired user: accountExpires %v", u.AccountExpires)
	}
	if u := byDN(x.FutureExpiryDN); !u.AccountExpires.Equal(labseed.FutureExpiry) || u.Expired(time.Now()) {
		t.Errorf("future expiry: %v", u.AccountExpires)
	}
	if u := byDN(x.NeverExpiresDN); !u.AccountExpires.IsZero() || u.Disabled() {
		t.Errorf("never expires: %v, UAC %#x", u.AccountExpires, u.UserAccountControl)
	}
	// The odd name is found by an inclusion filter holding the escaped value,
	// and nothing else matches it.
	odd := one(ldapsync.Equals("cn", x.OddNameCN))
	if !dnEqual(odd.DN, x.OddNameDN) || odd.Get("cn") != x.OddNameCN {
		t.Errorf("odd user: DN %q cn %q", odd.DN, odd.Get("cn"))
	}
	if u := byDN(x.UnicodeDN); u.GUID == "" || !strings.ContainsFunc(u.Get("displayName"), func(r rune) bool { return r > 127 }) {
		t.Errorf("unicode user: %+v", u.Attrs)
	}
	// GUIDs are canonical and round-trip.
	raw, err := ldapsync.ParseGUID(odd.GUID)
	if back, _ := ldapsync.FormatGUID(raw); err != nil || back != odd.GUID {
		t.Errorf("GUID %s does not round-trip", odd.GUID)
	}
}

func TestLabOUTree(t *testing.T) {
	e := lab(t)
	x := e.Expect
	d := e.open(t, bridge.SecurityLDAPS)
	tree, err := d.OUTree(context.Background(), e.BaseDN)
	if err != nil {
		t.Fatal(err)
	}
	var find func(ns []bridge.OUNode, dn string) *bridge.OUNode
	find = func(ns []bridge.OUNode, dn string) *bridge.OUNode {
		for i := range ns {
			if dnEqual(ns[i].DN, dn) {
				return &ns[i]
			}
			if n := find(ns[i].Children, dn); n != nil {
				return n
			}
		}
		return nil
	}
	corp := find(tree, x.CorpOU)
	if corp == nil || find(corp.Children, x.EngineeringOU) == nil || find(corp.Children, x.SalesOU) == nil {
		t.Fatalf("Corp, Engineering, Sales not nested: %+v", tree)
	}
	if eng := find(corp.Children, x.EngineeringOU); find(eng.Children, x.BackendOU) == nil {
		t.Fatalf("Backend not under Engineering")
	}
	for _, dn := range []string{x.ContractorsOU, x.ServiceOU, x.GroupsOU, x.EmptyOU} {
		if find(tree, dn) == nil {
			t.Errorf("%s missing", dn)
		}
	}
}

// BenchmarkStreamUsers reads every user of the lab (LDAPS) and reports
// entries/s and the process's peak RSS (VmHWM), for docs/benchmarks.md:
//
//	go test ./ldapsync -run '^$' -bench StreamUsers -benchtime 3x
func BenchmarkStreamUsers(b *testing.B) {
	e := labConn(b)
	// SCIMBRIDGE_BENCH_PAGE_SIZE compares page sizes (default MaxPageSize).
	page, _ := strconv.Atoi(os.Getenv("SCIMBRIDGE_BENCH_PAGE_SIZE"))
	d, err := ldapsync.Options{PageSize: page}.Open(context.Background(), e.conn(bridge.SecurityLDAPS), e.Password, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	benchStream(b, d, bridge.Scope{BaseDN: e.BaseDN})
}

func benchStream(b *testing.B, d bridge.Directory, scope bridge.Scope) {
	total := 0
	resetPeakRSS()
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := d.Stream(context.Background(), scope, bridge.EntryUser, func(bridge.Entry) error { total++; return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "entries/s")
	b.ReportMetric(float64(total/b.N), "entries/op")
	if kb := peakRSSKB(); kb > 0 {
		b.ReportMetric(float64(kb)/1024, "peak-RSS-MiB")
	}
}

// resetPeakRSS restarts VmHWM from the current RSS (Linux clear_refs "5"),
// so the peak reported is the stream's and not the harness's setup.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSKB reads VmHWM (peak resident set) from /proc/self/status; 0 when
// unavailable (not Linux).
func peakRSSKB() int {
	if runtime.GOOS != "linux" {
		return 0
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
