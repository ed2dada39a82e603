package synctest

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

// instantDir is a benchmark harness only: a bridge.Directory that yields
// adsim.Generate's entries without LDAP, decoded as ldapsync would, so the
// engine alone (mapping, planning, store writes) is what is measured. It
// ignores scope filters (it is used with OU mode all, no filters) and has
// no delta support, so every run on it is full.
type instantDir struct {
	base          string
	users, groups int
	usn           int64
}

func (d *instantDir) open(context.Context, bridge.Connection, string, *slog.Logger) (bridge.Directory, error) {
	return d, nil
}

func (d *instantDir) ServerInfo(context.Context) (bridge.ServerInfo, error) {
	return bridge.ServerInfo{DNSHostName: "instant", DefaultNamingContext: d.base, HighestCommittedUSN: d.usn}, nil
}

func (d *instantDir) Count(context.Context, bridge.Scope) (bridge.ScopeCounts, error) {
	return bridge.ScopeCounts{Users: d.users, Groups: d.groups, OrganizationalUnits: 12}, nil
}

func (d *instantDir) OUTree(context.Context, string) ([]bridge.OUNode, error) { return nil, nil }
func (d *instantDir) Close() error                                            { return nil }

// Stream yields the entries adsim.Generate makes (same DNs, GUIDs and
// attributes), built directly as bridge.Entry values, one kind at a time.
func (d *instantDir) Stream(ctx context.Context, scope bridge.Scope, kind bridge.EntryKind, fn func(bridge.Entry) error) error {
	const depts = 10
	load := "OU=Load," + d.base
	dept := func(i int) string { return "OU=Dept" + strconv.Itoa(i%depts) + "," + load }
	userDN := func(i int) string { return "CN=User " + strconv.Itoa(i) + "," + dept(i) }
	guid := func(dn string) string { g, _ := ldapsync.FormatGUID(adsim.GUIDFor(dn)); return g }
	domain := "bench.example.com"
	switch kind {
	case bridge.EntryOU:
		ous := []string{load}
		for i := 0; i < depts; i++ {
			ous = append(ous, dept(i))
		}
		if d.groups > 0 {
			ous = append(ous, "OU=Groups,"+load)
		}
		for _, dn := range ous {
			name := bridge.RDNValue(dn)
			if err := fn(bridge.Entry{Kind: kind, DN: dn, GUID: guid(dn), Attrs: map[string][]string{"ou": {name}, "name": {name}}}); err != nil {
				return err
			}
		}
	case bridge.EntryUser:
		for i := 0; i < d.users; i++ {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			dn := userDN(i)
			cn := "User " + strconv.Itoa(i)
			sam := fmt.Sprintf("u%07d", i)
			a := map[string][]string{
				"cn": {cn}, "name": {cn}, "samaccountname": {sam}, "userprincipalname": {sam + "@" + domain},
				"givenname": {"User"}, "sn": {strconv.Itoa(i)}, "displayname": {cn}, "mail": {sam + "@" + domain},
				"title": {"Engineer"}, "department": {"Dept" + strconv.Itoa(i%depts)}, "employeeid": {strconv.Itoa(100000 + i)},
				"telephonenumber": {"+1 555 " + strconv.Itoa(1000000+i)}, "l": {"Springfield"}, "co": {"United States"},
				"c": {"US"}, "company": {"Load Corp"}, "useraccountcontrol": {"512"}, "accountexpires": {"9223372036854775807"},
			}
			if i > 0 {
				a["manager"] = []string{userDN(i / 10)}
			}
			if err := fn(bridge.Entry{Kind: kind, DN: dn, GUID: guid(dn), Attrs: a, UserAccountControl: 512}); err != nil {
				return err
			}
		}
	case bridge.EntryGroup:
		for g := 0; g < d.groups; g++ {
			var members []string
			if g == 0 {
				members = make([]string, d.users)
				for i := range members {
					members[i] = userDN(i)
				}
			} else {
				for i := g; i < d.users; i += d.groups {
					members = append(members, userDN(i))
				}
			}
			name := "Load Group " + strconv.Itoa(g)
			if g == 0 {
				name = "Load All"
			}
			dn := "CN=" + name + ",OU=Groups," + load
			e := bridge.Entry{Kind: kind, DN: dn, GUID: guid(dn), Members: members, GroupType: int64(uint32(0x80000002)),
				Attrs: map[string][]string{"cn": {name}, "name": {name}, "samaccountname": {name}, "grouptype": {"-2147483646"}}}
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}
