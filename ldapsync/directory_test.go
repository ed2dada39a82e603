package ldapsync_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

func TestOpenErrors(t *testing.T) {
	srv, facts, c := startSample(t, adsim.Options{})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().(*net.TCPAddr)
	closed.Close()

	tests := []struct {
		name     string
		edit     func(*bridge.Connection)
		password string
		kind     ldapsync.Kind
		prefix   string
	}{
		{"wrong password", nil, "nope", ldapsync.KindCredentials,
			"cannot bind as " + facts.ServiceDN + ": invalid credentials (wrong DN or password)"},
		{"unknown bind DN", func(c *bridge.Connection) { c.BindDN = "CN=ghost,DC=example,DC=com" }, adsim.SamplePassword, ldapsync.KindCredentials,
			"cannot bind as CN=ghost,DC=example,DC=com: invalid credentials"},
		{"empty password", nil, "", ldapsync.KindCredentials, "cannot bind as " + facts.ServiceDN + ": no password is set"},
		{"closed port", func(c *bridge.Connection) { c.Port = deadAddr.Port }, adsim.SamplePassword, ldapsync.KindUnreachable,
			fmt.Sprintf("cannot reach 127.0.0.1:%d: connection refused", deadAddr.Port)},
		{"host does not resolve", func(c *bridge.Connection) { c.Host = "no-such-host.invalid" }, adsim.SamplePassword, ldapsync.KindUnreachable,
			"cannot reach no-such-host.invalid:"},
		{"plain server, ldaps", func(c *bridge.Connection) { c.Security = bridge.SecurityLDAPS }, adsim.SamplePassword, ldapsync.KindTLS,
			fmt.Sprintf("TLS handshake with %s failed: ", srv.Addr())},
		{"plain server, starttls", func(c *bridge.Connection) { c.Security = bridge.SecurityStartTLS }, adsim.SamplePassword, ldapsync.KindTLS,
			fmt.Sprintf("StartTLS with %s failed: the server refused it", srv.Addr())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := c
			if tt.edit != nil {
				tt.edit(&cc)
			}
			cc.TimeoutSeconds = 3
			d, err := ldapsync.Open(context.Background(), cc, tt.password, testLogger(t))
			if err == nil {
				d.Close()
				t.Fatal("Open succeeded")
			}
			if got := ldapsync.Classify(err); got != tt.kind {
				t.Errorf("Classify = %q, want %q (%v)", got, tt.kind, err)
			}
			if !strings.HasPrefix(err.Error(), tt.prefix) {
				t.Errorf("error = %q\nwant prefix %q", err, tt.prefix)
			}
			if !errors.Is(err, bridge.ErrDirectoryRead) {
				t.Errorf("error does not match bridge.ErrDirectoryRead")
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	t.Run("wrong password keeps the LDAP code", func(t *testing.T) {
		_, err := ldapsync.Open(context.Background(), c, "nope", nil)
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			t.Fatalf("err = %v does not unwrap to invalidCredentials", err)
		}
	})
}

func TestSearchErrors(t *testing.T) {
	_, _, c := startSample(t, adsim.Options{})
	d := open(t, c, adsim.SamplePassword, ldapsync.Options{})
	ctx := context.Background()
	tests := []struct {
		name   string
		scope  bridge.Scope
		kind   ldapsync.Kind
		prefix string
	}{
		{"missing base DN", bridge.Scope{BaseDN: "DC=nowhere,DC=com"}, ldapsync.KindNoSuchBase, `base DN "DC=nowhere,DC=com" does not exist on the server`},
		{"missing subtree", bridge.Scope{BaseDN: sampleBase, Subtrees: []string{"OU=Gone," + sampleBase}}, ldapsync.KindNoSuchBase, `base DN "OU=Gone,DC=example,DC=com" does not exist`},
		{"bad inclusion filter", bridge.Scope{BaseDN: sampleBase, InclusionFilter: "(department=*"}, ldapsync.KindFilter, `filter "(department=*" is not a valid LDAP filter`},
		{"bad exclusion filter", bridge.Scope{BaseDN: sampleBase, ExclusionFilter: "(&(a=b)"}, ldapsync.KindFilter, `filter "(&(a=b)" is not a valid LDAP filter`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.Stream(ctx, tt.scope, bridge.EntryUser, func(bridge.Entry) error { return nil })
			if ldapsync.Classify(err) != tt.kind || !strings.HasPrefix(err.Error(), tt.prefix) {
				t.Fatalf("Stream error = %v (kind %q)\nwant %q: %s", err, ldapsync.Classify(err), tt.kind, tt.prefix)
			}
			if _, err := d.Count(ctx, tt.scope); ldapsync.Classify(err) != tt.kind {
				t.Fatalf("Count error = %v", err)
			}
		})
	}
}

func TestServerInfo(t *testing.T) {
	srv, _, c := startSample(t, adsim.Options{})
	d := open(t, c, adsim.SamplePassword, ldapsync.Options{})
	info, err := d.ServerInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.DefaultNamingContext != sampleBase || info.DNSHostName != "dc1.example.com" ||
		info.HighestCommittedUSN != srv.HighestCommittedUSN() || !info.SupportsPaging ||
		info.SupportsDirSync || !strings.HasPrefix(info.DSServiceName, "CN=NTDS Settings,") {
		t.Fatalf("ServerInfo = %+v", info)
	}
	want, _ := ldapsync.FormatGUID(adsim.GUIDFor("invocationId:" + sampleBase))
	if info.InvocationID != want {
		t.Fatalf("InvocationID = %q, want %q", info.InvocationID, want)
	}
}

func TestStreamSample(t *testing.T) {
	_, facts, c := startSample(t, adsim.Options{})
	// A page of 4 makes every kind span several pages.
	d := open(t, c, adsim.SamplePassword, ldapsync.Options{PageSize: 4})
	base := bridge.Scope{BaseDN: sampleBase}

	users := collect(t, d, base, bridge.EntryUser)
	if len(users) != facts.Users {
		t.Fatalf("%d users, want %d", len(users), facts.Users)
	}
	byDN := map[string]bridge.Entry{}
	seen := map[string]bool{}
	for _, u := range users {
		if seen[u.GUID] {
			t.Fatalf("GUID %s seen twice", u.GUID)
		}
		seen[u.GUID] = true
		byDN[u.DN] = u
	}
	if _, ok := byDN[facts.Computer]; ok {
		t.Errorf("the computer account was streamed as a user")
	}
	dis := byDN[facts.DisabledUser]
	if !dis.Disabled() || dis.UserAccountControl != 514 {
		t.Errorf("disabled user: UAC %d", dis.UserAccountControl)
	}
	exp := byDN[facts.ExpiredUser]
	if exp.AccountExpires.IsZero() || exp.AccountExpires.Year() != 2025 || exp.Disabled() {
		t.Errorf("expired user: %v", exp.AccountExpires)
	}
	ada := byDN["CN=Ada Lovelace,OU=Corp,"+sampleBase]
	for attr, want := range map[string]string{
		"userPrincipalName": "alovelace@example.com", "mail": "alovelace@example.com", "givenName": "Ada",
		"sn": "Lovelace", "title": "Chief Executive Officer", "c": "DE", "co": "Germany", "employeeID": "E0001",
	} {
		if got := ada.Get(attr); got != want {
			t.Errorf("%s = %q, want %q", attr, got, want)
		}
	}
	if ada.Get("objectGUID") != "" || ada.GUID == "" || !ada.AccountExpires.IsZero() || ada.USNChanged == 0 {
		t.Errorf("decoded fields of Ada: %+v", ada)
	}

	groups := collect(t, d, base, bridge.EntryGroup)
	if len(groups) != facts.SecurityGroups {
		t.Fatalf("%d security groups, want %d", len(groups), facts.SecurityGroups)
	}
	for _, g := range groups {
		if !g.SecurityGroup() {
			t.Errorf("%s is not a security group", g.DN)
		}
		if g.DN == facts.EmptyGroup && len(g.Members) != 0 {
			t.Errorf("empty group has members %v", g.Members)
		}
		if g.DN == facts.NestedGroup && len(g.Members) != 8 {
			t.Errorf("nested group has %d members", len(g.Members))
		}
	}
	all := collect(t, d, bridge.Scope{BaseDN: sampleBase, DistributionLists: true}, bridge.EntryGroup)
	if len(all) != facts.SecurityGroups+facts.Distribution {
		t.Fatalf("%d groups with distribution lists", len(all))
	}
	ous := collect(t, d, base, bridge.EntryOU)
	if len(ous) != facts.OUs {
		t.Fatalf("%d OUs, want %d", len(ous), facts.OUs)
	}

	counts, err := d.Count(context.Background(), bridge.Scope{BaseDN: sampleBase, DistributionLists: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := (bridge.ScopeCounts{Users: facts.Users, Groups: facts.SecurityGroups + facts.Distribution, OrganizationalUnits: facts.OUs}); counts != want {
		t.Fatalf("Count = %+v, want %+v", counts, want)
	}
}

func TestStreamScopeRules(t *testing.T) {
	srv, facts, c := startSample(t, adsim.Options{})
	d := open(t, c, adsim.SamplePassword, ldapsync.Options{})
	odd := adsim.User(sampleBase, "OU=Sales,OU=Corp,"+sampleBase, adsim.Person{Given: `Odd *()\,`, Surname: "Name", Sam: "oddname", Dept: "Sales"})
	if err := srv.Add(odd); err != nil {
		t.Fatal(err)
	}
	corp := "OU=Corp," + sampleBase
	tests := []struct {
		name  string
		scope bridge.Scope
		want  int
	}{
		{"inclusion", bridge.Scope{BaseDN: sampleBase, InclusionFilter: "(department=Sales)"}, 9},
		{"exclusion", bridge.Scope{BaseDN: sampleBase, ExclusionFilter: "(|(department=Sales)(department=Engineering))"}, facts.Users + 1 - 9 - 14},
		{"escaped odd name", bridge.Scope{BaseDN: sampleBase, InclusionFilter: ldapsync.Equals("givenName", `Odd *()\,`)}, 1},
		{"escaped star matches only itself", bridge.Scope{BaseDN: sampleBase, InclusionFilter: ldapsync.Equals("cn", "*")}, 0},
		{"subtree", bridge.Scope{BaseDN: sampleBase, Subtrees: []string{"OU=Engineering," + corp}}, 14},
		{"nested subtrees deduplicated", bridge.Scope{BaseDN: sampleBase, Subtrees: []string{"OU=Backend,OU=Engineering," + corp, "OU=Engineering," + corp}}, 14},
		{"two subtrees", bridge.Scope{BaseDN: sampleBase, Subtrees: []string{"OU=Backend,OU=Engineering," + corp, "OU=Sales," + corp}}, 7 + 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(collect(t, d, tt.scope, bridge.EntryUser)); got != tt.want {
				t.Fatalf("%d users, want %d", got, tt.want)
			}
		})
	}
}

func TestStreamExtraAttributes(t *testing.T) {
	srv, _, c := startSample(t, adsim.Options{})
	dn := "CN=Ada Lovelace,OU=Corp," + sampleBase
	if err := srv.Modify(dn, map[string][]string{"extensionAttribute1": {"x1"}, "costCenter": {"CC-7"}}); err != nil {
		t.Fatal(err)
	}
	d := open(t, c, adsim.SamplePassword, ldapsync.Options{})
	scope := bridge.Scope{BaseDN: sampleBase, InclusionFilter: ldapsync.Equals("sAMAccountName", "alovelace")}
	u := collect(t, d, scope, bridge.EntryUser)[0]
	if u.Get("extensionAttribute1") != "x1" || u.Get("costCenter") != "" {
		t.Fatalf("without extras: %v", u.Attrs)
	}
	scope.Attributes = []string{"costCenter"}
	u = collect(t, d, scope, bridge.EntryUser)[0]
	if u.Get("costCenter") != "CC-7" {
		t.Fatalf("extra attribute not read: %v", u.Attrs)
	}
}

// A group larger than MaxValRange comes back whole through ranged reads,
// and users beyond MaxPageSize come back through paging.
func TestStreamLargeDirectory(t *testing.T) {
	const users, groups = 5003, 4
	srv, err := adsim.New(adsim.Options{BaseDN: sampleBase, BindDN: "CN=svc," + sampleBase, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddAll(adsim.Generate(sampleBase, users, groups)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	d := open(t, connFor(srv, "CN=svc,"+sampleBase), "pw", ldapsync.Options{})

	n := 0
	if err := d.Stream(context.Background(), bridge.Scope{BaseDN: sampleBase}, bridge.EntryUser, func(bridge.Entry) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != users {
		t.Fatalf("%d users streamed, want %d", n, users)
	}
	got := map[string]int{}
	err = d.Stream(context.Background(), bridge.Scope{BaseDN: sampleBase}, bridge.EntryGroup, func(e bridge.Entry) error {
		got[e.Get("cn")] = len(e.Members)
		uniq := map[string]bool{}
		for _, m := range e.Members {
			uniq[m] = true
		}
		if len(uniq) != len(e.Members) {
			t.Errorf("%s: duplicate members", e.DN)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got["Load All"] != users || got["Load Group 1"] != (users+2)/groups {
		t.Fatalf("members: %v", got)
	}
	c, err := d.Count(context.Background(), bridge.Scope{BaseDN: sampleBase})
	if err != nil || c.Users != users || c.Groups != groups {
		t.Fatalf("Count = %+v, %v", c, err)
	}
}

// The caller's error stops the stream, comes back unchanged, and the
// server-side paged search is abandoned.
func TestStreamStopsOnCallbackError(t *testing.T) {
	srv, _, c := startSample(t, adsim.Options{})
	d := open(t, c, adsim.SamplePassword, ldapsync.Options{PageSize: 3})
	stop := errors.New("stop here")
	n := 0
	err := d.Stream(context.Background(), bridge.Scope{BaseDN: sampleBase}, bridge.EntryUser, func(bridge.Entry) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Fatalf("err = %v, want the callback's error", err)
	}
	if p := srv.PendingPagedSearches(); p != 0 {
		t.Fatalf("%d paged searches left open on the server", p)
	}
}

func TestStreamCancelled(t *testing.T) {
	_, _, c := startSample(t, adsim.Options{})
	d := open(t, c, adsim.SamplePassword, ldapsync.Options{PageSize: 2})
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := d.Stream(ctx, bridge.Scope{BaseDN: sampleBase}, bridge.EntryUser, func(bridge.Entry) error {
		n++
		if n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > 4 {
		t.Fatalf("err = %v after %d entries", err, n)
	}
}

func TestOUTree(t *testing.T) {
	_, _, c := startSample(t, adsim.Options{})
	d := open(t, c, adsim.SamplePassword, ldapsync.Options{PageSize: 2})
	tree, err := d.OUTree(context.Background(), sampleBase)
	if err != nil {
		t.Fatal(err)
	}
	var render func(ns []bridge.OUNode, depth int) string
	render = func(ns []bridge.OUNode, depth int) string {
		var b strings.Builder
		for _, n := range ns {
			if n.GUID == "" {
				t.Errorf("%s has no GUID", n.DN)
			}
			fmt.Fprintf(&b, "%s%s\n%s", strings.Repeat("  ", depth), n.Name, render(n.Children, depth+1))
		}
		return b.String()
	}
	want := "Corp\n  Engineering\n    Backend\n  Groups\n  Sales\nService Accounts\n"
	if got := render(tree, 0); got != want {
		t.Fatalf("tree:\n%s\nwant:\n%s", got, want)
	}
	sub, err := d.OUTree(context.Background(), "OU=Engineering,OU=Corp,"+sampleBase)
	if err != nil || len(sub) != 1 || len(sub[0].Children) != 1 || sub[0].Children[0].Name != "Backend" {
		t.Fatalf("subtree = %+v, %v", sub, err)
	}
}

// A server that goes away in the middle of a paged read must make the read
// fail: go-ldap ends searches on a lost connection with no error, and a
// read taken for complete would let the engine delete what it did not see.
func TestStreamServerLostMidRead(t *testing.T) {
	for _, kind := range []bridge.EntryKind{bridge.EntryUser, bridge.EntryGroup, bridge.EntryOU} {
		t.Run(string(kind), func(t *testing.T) {
			srv, _, c := startSample(t, adsim.Options{})
			d := open(t, c, adsim.SamplePassword, ldapsync.Options{PageSize: 2})
			n := 0
			err := d.Stream(context.Background(), bridge.Scope{BaseDN: sampleBase}, kind, func(bridge.Entry) error {
				n++
				if n == 1 {
					srv.Close()
				}
				return nil
			})
			if err == nil || !errors.Is(err, bridge.ErrDirectoryRead) {
				t.Fatalf("Stream after the server closed returned %v after %d entries; want a read error", err, n)
			}
			if _, err := d.Count(context.Background(), bridge.Scope{BaseDN: sampleBase}); err == nil {
				t.Fatal("Count on a lost connection succeeded")
			}
		})
	}
}
