package reliability

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/ldapsync"
)

// rowCounts counts the rows of the tables an injection could change.
func rowCounts(t *testing.T, s *scimServer) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, res := range []string{"Users", "Groups"} {
		code, body := s.do("GET", "/scim/v2/"+res+"?count=0", "", nil)
		if code != 200 {
			t.Fatalf("count %s: %d %s", res, code, body)
		}
		out[res] = len(body) // totalResults is in the body; compare whole answers
		out[res+":"+string(body)] = 1
	}
	users, n, err := s.store.ListUsers(context.Background(), "default", "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out["store users"] = n
	for _, u := range users {
		out["v:"+u.ID] = int(u.Version)
	}
	toks, err := s.store.ListTokens(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	out["tokens"] = len(toks)
	return out
}

// TestSQLInjectionThroughSCIM sends filters and sortBy values carrying SQL
// (quotes, ;, --, /*, unicode, NUL) to the SCIM endpoint on SQLite and
// PostgreSQL: each is a 400 (or, where the text is a valid string value,
// a 200 that matches nothing), never a 500, and no row changes.
func TestSQLInjectionThroughSCIM(t *testing.T) {
	cases := []struct{ filter, sortBy string }{
		{`userName eq "x" or "1"="1"`, ""},
		{`userName eq "x' OR '1'='1"`, ""},
		{`userName eq "x'; DROP TABLE users; --"`, ""},
		{`userName eq "x"; DROP TABLE users; --`, ""},
		{`userName eq "x" -- and active eq true`, ""},
		{`userName eq "x" /* comment */`, ""},
		{`userName co "%"`, ""},
		{`userName sw "_"`, ""},
		{"userName eq \"a\x00'; DELETE FROM users; --\"", ""},
		{`userName eq "\u0027 OR 1=1 --"`, ""},
		{`userName eq "ʼ OR 1=1 --"`, ""},
		{`emails[value eq "x') OR ('1'='1"]`, ""},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName' OR '1'='1 eq "x"`, ""},
		{`name.familyName) OR (1=1 eq "x"`, ""},
		{"", "userName; DROP TABLE users"},
		{"", "userName DESC, (SELECT 1)"},
		{"", "userName--"},
		{"", "userName/**/"},
		{"", "\"userName\""},
		{"", "userName\x00"},
		{"", "(CASE WHEN 1=1 THEN user_name END)"},
		{"", "emails[type eq \"work\"].value'"},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newSCIMServer(t, b.open(t).store)
			before := rowCounts(t, s)
			for _, c := range cases {
				q := url.Values{}
				if c.filter != "" {
					q.Set("filter", c.filter)
				}
				if c.sortBy != "" {
					q.Set("sortBy", c.sortBy)
				}
				for _, res := range []string{"Users", "Groups"} {
					code, body := s.do("GET", "/scim/v2/"+res+"?"+q.Encode(), "", nil)
					switch {
					case code == 400:
						if !strings.Contains(string(body), "invalidFilter") && !strings.Contains(string(body), "invalidValue") &&
							!strings.Contains(string(body), "invalidPath") && !strings.Contains(string(body), "invalidSyntax") {
							t.Errorf("%s %q/%q: 400 without a scimType: %s", res, c.filter, c.sortBy, body)
						}
					case code == 200:
						if c.filter != "" && !strings.Contains(string(body), `"totalResults":0`) {
							t.Errorf("%s filter %q matched something: %s", res, c.filter, body)
						}
					default:
						t.Errorf("%s %q/%q: %d %s", res, c.filter, c.sortBy, code, body)
					}
					// The same through POST /.search.
					code, body = s.do("POST", "/scim/v2/"+res+"/.search", "application/scim+json",
						[]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":`+jsonString(c.filter)+`,"sortBy":`+jsonString(c.sortBy)+`}`))
					if code != 200 && code != 400 {
						t.Errorf(".search %s %q/%q: %d %s", res, c.filter, c.sortBy, code, body)
					}
				}
			}
			after := rowCounts(t, s)
			if len(before) != len(after) {
				t.Fatalf("rows changed: %v -> %v", before, after)
			}
			for k, v := range before {
				if after[k] != v {
					t.Fatalf("rows changed at %q: %d -> %d", k, v, after[k])
				}
			}
		})
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestLDAPFilterInjectionEscaped: every value ldapsync puts into a filter
// goes through Equals, which escapes *, (, ), \ and NUL: the filter
// compiles and matches the literal value only.
func TestLDAPFilterInjectionEscaped(t *testing.T) {
	for _, v := range []string{
		"*", "admin*", "*)(objectClass=*", "x)(|(cn=*", `\`, `\2a`, "a\x00b", "(", ")", "CN=Odd \\, Name (test) *\\,OU=Corp,DC=x",
		"ü*)", "",
	} {
		t.Run(v, func(t *testing.T) {
			f := ldapsync.Equals("manager", v)
			pf, err := ldap.CompileFilter(f)
			if err != nil {
				t.Fatalf("Equals(%q) = %q does not compile: %v", v, f, err)
			}
			// One equality match of exactly v: no substring, no OR.
			if pf.Tag != ldap.FilterEqualityMatch || len(pf.Children) != 2 || pf.Children[1].Data.String() != v {
				got := ""
				if len(pf.Children) == 2 {
					got = pf.Children[1].Data.String()
				}
				t.Fatalf("Equals(%q) = %q is not an equality match of the value (tag %d, value %q)", v, f, pf.Tag, got)
			}
			back, err := ldap.DecompileFilter(pf)
			if err != nil || strings.Count(back, "(") != 1 {
				t.Fatalf("Equals(%q) decompiles to %q (%v)", v, back, err)
			}
		})
	}
}
