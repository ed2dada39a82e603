package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
)

func TestTestConnectionJSON(t *testing.T) {
	srv, facts := sample(t)
	c := newCLI(t)
	if r := c.setDirectory(sampleDoc(srv, facts)); r.code != 0 {
		t.Fatalf("directory set: %s", r.stderr)
	}
	r := c.run("test-connection", "--account", "default", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var rep struct {
		OK     bool `json:"ok"`
		Server struct {
			DNSHostName          string   `json:"dnsHostName"`
			DefaultNamingContext string   `json:"defaultNamingContext"`
			HighestCommittedUSN  int64    `json:"highestCommittedUSN"`
			SupportedControls    []string `json:"supportedControls"`
		} `json:"server"`
		InScope struct {
			Users, Groups, OrganizationalUnits int
		} `json:"inScope"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, r.stdout)
	}
	if !rep.OK || rep.Server.DefaultNamingContext != "DC=example,DC=com" || rep.Server.HighestCommittedUSN == 0 ||
		len(rep.Server.SupportedControls) == 0 || rep.Server.DNSHostName == "" {
		t.Fatalf("server part is wrong: %+v", rep)
	}
	wantGroups := facts.SecurityGroups + facts.Distribution
	if rep.InScope.Users != facts.Users || rep.InScope.Groups != wantGroups || rep.InScope.OrganizationalUnits != facts.OUs {
		t.Fatalf("inScope = %+v, want %d users, %d groups, %d OUs", rep.InScope, facts.Users, wantGroups, facts.OUs)
	}

	plain := c.run("test-connection", "--account", "default")
	if plain.code != 0 || !strings.Contains(plain.stdout, "In scope:") || !strings.Contains(plain.stdout, "paged results          supported") {
		t.Fatalf("plain output:\n%s", plain.stdout)
	}
}

// Each failure is one clear sentence and a non-zero exit, in both outputs.
func TestTestConnectionFailures(t *testing.T) {
	srv, facts := sample(t)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	_, closedPort := splitAddr(closed.Addr().String())
	closed.Close()

	tests := []struct {
		name string
		edit func(conn map[string]any)
		want string
	}{
		{"wrong password", func(c map[string]any) { c["password"] = "wrong" }, "invalid credentials"},
		{"unreachable host", func(c map[string]any) { c["port"] = closedPort }, "cannot reach"},
		{"base DN that does not exist", func(c map[string]any) { c["baseDn"] = "DC=nowhere,DC=test" }, "does not exist"},
		{"TLS to a plain LDAP port", func(c map[string]any) { c["security"] = "ldaps" }, "TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t)
			doc := sampleDoc(srv, facts)
			tt.edit(doc["connection"].(map[string]any))
			if r := c.setDirectory(doc); r.code != 0 {
				t.Fatalf("directory set: %s", r.stderr)
			}
			r := c.run("test-connection", "--account", "default", "--json")
			var rep connectionReport
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, r.stdout)
			}
			if r.code == 0 || rep.OK {
				t.Fatalf("exit %d, ok %v: want a failure", r.code, rep.OK)
			}
			if !strings.Contains(rep.Error, tt.want) || strings.Count(rep.Error, ". ") > 0 || !strings.HasSuffix(rep.Error, ".") {
				t.Fatalf("error %q: want one sentence mentioning %q", rep.Error, tt.want)
			}
			plain := c.run("test-connection", "--account", "default")
			if plain.code == 0 || strings.TrimSpace(plain.stderr) != rep.Error {
				t.Fatalf("plain output: exit %d, stderr %q, want %q", plain.code, plain.stderr, rep.Error)
			}
		})
	}
}

func TestTestConnectionWithoutSettings(t *testing.T) {
	r := newCLI(t).run("test-connection", "--account", "default", "--json")
	if r.code == 0 || !strings.Contains(r.stdout, `"ok": false`) || !strings.Contains(r.stdout, "directory set") {
		t.Fatalf("exit %d:\n%s", r.code, r.stdout)
	}
}
