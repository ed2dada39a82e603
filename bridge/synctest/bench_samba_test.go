package synctest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/labseed"
)

// benchSamba is BenchmarkSamba's child: see there.
func benchSamba(t *testing.T) {
	lab := sambaLab(t)
	admin := adminConn(t, lab)
	// Not lab.Seed(): building the whole seed in memory would count in
	// this process's peak RSS. The users to modify are looked up instead.
	domain := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(lab.BaseDN, "DC=", ""), ",", "."))
	root := "CN=DeltaBench," + lab.BaseDN // a container: other tests count OUs
	const q = 25
	deleteTree(t, admin, root)
	t.Cleanup(func() { deleteTree(t, admin, root) })
	newUser := func(name string) {
		t.Helper()
		req := ldap.NewAddRequest("CN="+name+","+root, nil)
		req.Attribute("objectClass", []string{"user"})
		req.Attribute("sAMAccountName", []string{name})
		req.Attribute("userPrincipalName", []string{name + "@" + domain})
		req.Attribute("userAccountControl", []string{"512"})
		req.Attribute("title", []string{"Bench"})
		if err := admin.Add(req); err != nil {
			t.Fatalf("add %s: %v", name, err)
		}
	}
	if err := admin.Add(func() *ldap.AddRequest {
		r := ldap.NewAddRequest(root, nil)
		r.Attribute("objectClass", []string{"container"})
		return r
	}()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < q; i++ {
		newUser(fmt.Sprintf("bench-doomed-%02d", i))
	}
	group := "CN=Bench Group," + root
	if err := admin.Add(func() *ldap.AddRequest {
		r := ldap.NewAddRequest(group, nil)
		r.Attribute("objectClass", []string{"group"})
		return r
	}()); err != nil {
		t.Fatal(err)
	}
	// Regular users whose title changes (restored at the end), and whose
	// membership of the bench group is added.
	type modifiedUser struct{ dn, title string }
	var modified []modifiedUser
	for i := 0; i < q; i++ {
		res, err := admin.Search(ldap.NewSearchRequest(lab.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"(sAMAccountName="+labseed.UserName(lab.Users/2+i)+")", []string{"title"}, nil))
		if err != nil || len(res.Entries) != 1 {
			t.Fatalf("find %s: %v", labseed.UserName(lab.Users/2+i), err)
		}
		modified = append(modified, modifiedUser{res.Entries[0].DN, res.Entries[0].GetAttributeValue("title")})
	}
	t.Cleanup(func() {
		for _, m := range modified {
			req := ldap.NewModifyRequest(m.dn, nil)
			req.Replace("title", []string{m.title})
			if err := admin.Modify(req); err != nil {
				t.Errorf("restoring %s: %v", m.dn, err)
			}
		}
	})

	pem, err := os.ReadFile(lab.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	e := benchEnv(t, "SCIMBRIDGE_BENCH_CHILD_STORE")
	const acct = "bench"
	e.configure(acct, bridge.Settings{
		Connection: bridge.Connection{Host: lab.Host, Port: lab.Port, Security: bridge.SecurityStartTLS, CACertificate: string(pem),
			BaseDN: lab.BaseDN, BindDN: lab.BindDN, Password: lab.Password, TimeoutSeconds: 120},
		OrganizationalUnits: bridge.OrganizationalUnits{Mode: bridge.OUAll},
		DistributionLists:   bridge.DistributionLists{Import: true},
		DeletionThreshold:   bridge.DeletionThreshold{MaxCount: 500, MaxPercent: 20},
	}.WithDefaults())

	var res benchResult
	start := time.Now()
	r := e.mustSucceed(bridge.RunOptions{Account: acct, Full: true})
	res.FullSec = time.Since(start).Seconds()
	res.Users = r.Counts.Users.Added
	res.Objects = r.Counts.Users.Added + r.Counts.Groups.Added
	res.UsersPerS = float64(res.Users) / res.FullSec
	start = time.Now()
	r = e.mustSucceed(bridge.RunOptions{Account: acct, Full: true})
	res.SecondSec = time.Since(start).Seconds()
	if r.Counts.Users.Unchanged != res.Users {
		t.Fatalf("second run: %s", r.Summary())
	}
	start = time.Now()
	r = e.mustSucceed(bridge.RunOptions{Account: acct, Trigger: bridge.TriggerSchedule})
	res.NoChangeDeltaSec = time.Since(start).Seconds()
	if r.Kind != bridge.RunDelta {
		t.Fatalf("not a delta: %s (%s)", r.Kind, r.KindReason)
	}

	for i := 0; i < q; i++ {
		newUser(fmt.Sprintf("bench-new-%02d", i))
	}
	for i := 0; i < q; i++ {
		if err := admin.Del(ldap.NewDelRequest(fmt.Sprintf("CN=bench-doomed-%02d,%s", i, root), nil)); err != nil {
			t.Fatal(err)
		}
	}
	var members []string
	for i, m := range modified {
		replace(t, admin, m.dn, map[string][]string{"title": {"Changed " + strconv.Itoa(i)}})
		members = append(members, m.dn)
	}
	replace(t, admin, group, map[string][]string{"member": members})

	start = time.Now()
	r = e.mustSucceed(bridge.RunOptions{Account: acct, Trigger: bridge.TriggerSchedule})
	res.DeltaSec = time.Since(start).Seconds()
	res.DeltaKind = string(r.Kind)
	res.DeltaCount = r.Summary()
	if r.Kind != bridge.RunDelta || r.Counts.Users.Added != q || r.Counts.Users.Deleted != q || r.Counts.Users.Updated != q {
		t.Fatalf("delta: %s (%s) %s", r.Kind, r.KindReason, r.Summary())
	}
	res.PeakRSSMiB = peakRSSMiB()
	fmt.Printf("BENCHRESULT %s\n", asJSON(res))
}
