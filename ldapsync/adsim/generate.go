package adsim

import (
	"fmt"
	"strconv"
)

// Generate yields an AD-shaped directory of users and groups under baseDN
// for load tests: OU=Load with ten department OUs, users spread over them
// with the default-mapping attributes, and groups. The first group, "Load
// All", holds every user, so a big directory always has a group far above
// MaxValRange; group g > 0 holds every groups-th user from g. Entries are produced one at a time
// (feed them to Server.AddAll) so building a million-user tree does not
// hold them twice.
func Generate(baseDN string, users, groups int) func(yield func(Entry) bool) {
	return func(yield func(Entry) bool) {
		if !yield(Domain(baseDN)) {
			return
		}
		load := OU(baseDN, "Load")
		if !yield(load) {
			return
		}
		const depts = 10
		deptDN := make([]string, depts)
		for d := 0; d < depts; d++ {
			ou := OU(load.DN, "Dept"+strconv.Itoa(d))
			deptDN[d] = ou.DN
			if !yield(ou) {
				return
			}
		}
		userDN := func(i int) string { return "CN=User " + strconv.Itoa(i) + "," + deptDN[i%depts] }
		for i := 0; i < users; i++ {
			p := Person{
				Given: "User", Surname: strconv.Itoa(i), Sam: fmt.Sprintf("u%07d", i),
				Title: "Engineer", Dept: "Dept" + strconv.Itoa(i%depts), EmployeeID: strconv.Itoa(100000 + i),
				Phone: "+1 555 " + strconv.Itoa(1000000+i), City: "Springfield", Country: "United States", CountryCode: "US",
				Company: "Load Corp",
			}
			if i > 0 {
				p.Manager = userDN(i / 10)
			}
			if !yield(User(baseDN, deptDN[i%depts], p)) {
				return
			}
		}
		if groups <= 0 {
			return
		}
		gou := OU(load.DN, "Groups")
		if !yield(gou) {
			return
		}
		for g := 0; g < groups; g++ {
			var members []string
			if g == 0 {
				members = make([]string, users)
				for i := range members {
					members[i] = userDN(i)
				}
			} else {
				// Every groups-th user, starting at g: each user is in
				// about one group besides "Load All".
				for i := g; i < users; i += groups {
					members = append(members, userDN(i))
				}
			}
			name := "Load Group " + strconv.Itoa(g)
			if g == 0 {
				name = "Load All"
			}
			if !yield(Group(gou.DN, name, GroupGlobalSecurity, members...)) {
				return
			}
		}
	}
}
