package bridge

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecideUser(t *testing.T) {
	cand := func(active bool, hash string) *User {
		st := StatusActive
		if !active {
			st = StatusDeactivated
		}
		return &User{Active: active, Status: st, Hash: hash}
	}
	state := func(st Status, hash string) *ObjectState { return &ObjectState{ID: "u1", Status: st, Hash: hash} }
	tests := []struct {
		name       string
		cand       *User
		st         *ObjectState
		role       ProtectionRole
		expired    bool
		wantAction Action
		wantReason string
	}{
		{"new", cand(true, "h"), nil, "", false, ActionAdd, ReasonNew},
		{"new and disabled", cand(false, "h"), nil, "", false, ActionAdd, ReasonNewDisabled},
		{"new and protected is still added", cand(true, "h"), nil, RoleProtected, false, ActionAdd, ReasonNew},
		{"unchanged", cand(true, "h"), state(StatusActive, "h"), "", false, ActionUnchanged, ""},
		{"unchanged protected", cand(true, "h"), state(StatusActive, "h"), RoleProtected, false, ActionUnchanged, ""},
		{"changed", cand(true, "h2"), state(StatusActive, "h"), "", false, ActionUpdate, ReasonChanged},
		{"changed owner is updated", cand(true, "h2"), state(StatusActive, "h"), RoleOwner, false, ActionUpdate, ReasonChanged},
		{"changed protected", cand(true, "h2"), state(StatusActive, "h"), RoleProtected, false, ActionSkip, ReasonProtected},
		{"disabled", cand(false, "h2"), state(StatusActive, "h"), "", false, ActionDeactivate, ReasonDisabled},
		{"expired", cand(false, "h2"), state(StatusActive, "h"), "", true, ActionDeactivate, ReasonExpired},
		{"owner disabled", cand(false, "h2"), state(StatusActive, "h"), RoleOwner, false, ActionRefuse, ReasonOwner},
		{"protected disabled", cand(false, "h2"), state(StatusActive, "h"), RoleProtected, false, ActionSkip, ReasonProtected},
		{"re-enabled", cand(true, "h2"), state(StatusDeactivated, "h"), "", false, ActionReactivate, ReasonEnabled},
		{"still disabled, changed", cand(false, "h2"), state(StatusDeactivated, "h"), "", false, ActionUpdate, ReasonChanged},
		{"back after deletion", cand(true, "h"), state(StatusDeleted, "h"), "", false, ActionReactivate, ReasonBack},
		{"back after deletion, disabled", cand(false, "h"), state(StatusDeleted, "h"), "", false, ActionReactivate, ReasonBackDisabled},
		{"back after deletion, protected", cand(true, "h"), state(StatusDeleted, "h"), RoleProtected, false, ActionSkip, ReasonProtected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, r := decideUser(tt.cand, tt.st, tt.role, tt.expired)
			if a != tt.wantAction || r != tt.wantReason {
				t.Errorf("decideUser = %s %q, want %s %q", a, r, tt.wantAction, tt.wantReason)
			}
		})
	}
}

func TestDecideGroupAndMissing(t *testing.T) {
	g := &Group{Status: StatusActive, Hash: "h"}
	tests := []struct {
		name string
		st   *ObjectState
		role ProtectionRole
		want Action
	}{
		{"new", nil, "", ActionAdd},
		{"unchanged", &ObjectState{Status: StatusActive, Hash: "h"}, "", ActionUnchanged},
		{"changed", &ObjectState{Status: StatusActive, Hash: "x"}, "", ActionUpdate},
		{"changed protected", &ObjectState{Status: StatusActive, Hash: "x"}, RoleProtected, ActionSkip},
		{"restored", &ObjectState{Status: StatusDeleted, Hash: "h"}, "", ActionReactivate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, _ := decideGroup(g, tt.st, tt.role); a != tt.want {
				t.Errorf("decideGroup = %s, want %s", a, tt.want)
			}
		})
	}

	missing := []struct {
		name   string
		st     ObjectState
		role   ProtectionRole
		want   Action
		reason string
		ok     bool
	}{
		{"gone", ObjectState{Status: StatusActive}, "", ActionDelete, ReasonNotFound, true},
		{"gone while disabled", ObjectState{Status: StatusDeactivated}, "", ActionDelete, ReasonNotFound, true},
		{"already deleted", ObjectState{Status: StatusDeleted}, "", "", "", false},
		{"protected", ObjectState{Status: StatusActive}, RoleProtected, ActionSkip, ReasonProtectedNoDel + " (" + ReasonNotFound + ")", true},
		{"owner", ObjectState{Status: StatusActive}, RoleOwner, ActionRefuse, ReasonOwner, true},
	}
	for _, tt := range missing {
		t.Run("missing "+tt.name, func(t *testing.T) {
			a, r, ok := decideMissing(tt.st, tt.role, ReasonNotFound)
			if a != tt.want || r != tt.reason || ok != tt.ok {
				t.Errorf("decideMissing = %s %q %v, want %s %q %v", a, r, ok, tt.want, tt.reason, tt.ok)
			}
		})
	}
}

func TestProtectionsLookup(t *testing.T) {
	p := newProtections([]Protection{
		{Role: RoleOwner, ExternalID: "AAAA-1"},
		{Role: RoleProtected, ExternalID: "aaaa-1"},
		{Role: RoleOwner, ResourceID: "id-2"},
	})
	if r := p.role("aaaa-1", "x"); r != RoleProtected {
		t.Errorf("protected and owner: role %q, want protected", r)
	}
	if r := p.role("bbbb", "id-2"); r != RoleOwner {
		t.Errorf("by resource id: role %q, want owner", r)
	}
	if r := p.role("", ""); r != "" {
		t.Errorf("empty: role %q", r)
	}
}

func TestChangedAttributes(t *testing.T) {
	old := map[string]any{"title": "A", "emails": []any{map[string]any{"type": "work", "value": "a@x", "primary": true}},
		SchemaEnterpriseUser: map[string]any{"department": "X", "employeeNumber": float64(1)}}
	new := map[string]any{"title": "B", "emails": []map[string]any{{"primary": true, "type": "work", "value": "a@x"}},
		SchemaEnterpriseUser: map[string]any{"department": "Y", "employeeNumber": 1}, "nickName": "n"}
	want := []string{"nickName", "title", SchemaEnterpriseUser + ":department"}
	if got := changedAttributes(old, new); !reflect.DeepEqual(got, want) {
		t.Errorf("changedAttributes = %v, want %v", got, want)
	}
	if membersChanged([]Member{{"a", "User"}, {"b", "Group"}}, []Member{{"b", "Group"}, {"a", "User"}}) {
		t.Error("member order counted as a change")
	}
	if !membersChanged([]Member{{"a", "User"}}, nil) {
		t.Error("removed member not counted")
	}
}

// planFixture is a small directory: OU=Corp with OU=Eng; two users and a
// group with an out-of-scope member.
func planFixture() dirRead {
	ou := func(dn, guid, name string) Entry {
		return Entry{Kind: EntryOU, DN: dn, GUID: guid, Attrs: map[string][]string{"ou": {name}}}
	}
	user := func(dn, guid, sam string, extra map[string]string) Entry {
		e := Entry{Kind: EntryUser, DN: dn, GUID: guid, UserAccountControl: UACNormalAccount,
			Attrs: map[string][]string{"samaccountname": {sam}, "displayname": {strings.ToUpper(sam)}}}
		for k, v := range extra {
			e.Attrs[strings.ToLower(k)] = []string{v}
		}
		return e
	}
	return dirRead{
		// child before parent: the builder sorts OUs by depth
		ous: []Entry{ou("OU=Eng,OU=Corp,DC=x", "g-eng", "Eng"), ou("OU=Corp,DC=x", "g-corp", "Corp")},
		users: []Entry{
			user("CN=Boss,OU=Corp,DC=x", "g-boss", "boss", nil),
			user("CN=Dev,OU=Eng,OU=Corp,DC=x", "g-dev", "dev", map[string]string{"manager": "cn=BOSS, ou=corp,dc=x"}),
		},
		groups: []Entry{
			{Kind: EntryGroup, DN: "CN=Team,OU=Corp,DC=x", GUID: "g-team", GroupType: GroupTypeSecurity | GroupTypeGlobal,
				Attrs:   map[string][]string{"cn": {"Team"}},
				Members: []string{"CN=Dev,OU=Eng,OU=Corp,DC=x", "CN=Boss,OU=Corp,DC=x", "CN=Stranger,CN=Users,DC=x", "CN=Dev,OU=Eng,OU=Corp,DC=X"}},
			{Kind: EntryGroup, DN: "CN=News,OU=Corp,DC=x", GUID: "g-news", GroupType: GroupTypeUniversal,
				Attrs: map[string][]string{"cn": {"News"}}, Members: []string{"CN=Boss,OU=Corp,DC=x"}},
		},
	}
}

func byExternalID(p Plan) map[string]PlanItem {
	out := map[string]PlanItem{}
	for _, it := range p.Items {
		out[it.ExternalID] = it
	}
	return out
}

func TestPlanBuildFirstRun(t *testing.T) {
	b := &planBuilder{mapper: NewMapper(Settings{}), settings: Settings{}.WithDefaults(), states: newStateSet(),
		prots: protections{}, now: mapNow}
	plan := b.build(planFixture())
	items := byExternalID(plan)
	if len(plan.Items) != 5 {
		t.Fatalf("plan has %d items, want 5 (2 OUs, 2 users, 1 security group; the distribution list is not imported): %+v", len(plan.Items), plan.Items)
	}
	for _, it := range plan.Items {
		if it.Action != ActionAdd {
			t.Errorf("%s: %s, want add", it.DN, it.Action)
		}
	}
	if plan.Items[0].ExternalID != "g-corp" {
		t.Errorf("first item %s, want the parent OU first", plan.Items[0].DN)
	}
	corp, eng, boss, dev, team := items["g-corp"], items["g-eng"], items["g-boss"], items["g-dev"], items["g-team"]
	if eng.Group.ParentID != corp.ID || corp.Group.ParentID != "" {
		t.Errorf("OU parents: eng %q corp %q, want eng under corp (%s)", eng.Group.ParentID, corp.Group.ParentID, corp.ID)
	}
	wantCorp := []Member{{ID: boss.ID, Type: "User"}, {ID: eng.ID, Type: "Group"}}
	if !reflect.DeepEqual(corp.Group.Members, wantCorp) {
		t.Errorf("Corp members = %v, want %v", corp.Group.Members, wantCorp)
	}
	if !reflect.DeepEqual(eng.Group.Members, []Member{{ID: dev.ID, Type: "User"}}) {
		t.Errorf("Eng members = %v", eng.Group.Members)
	}
	mgr := dev.User.Attributes[SchemaEnterpriseUser].(map[string]any)["manager"].(map[string]any)
	if mgr["value"] != boss.ID || mgr["displayName"] != "BOSS" {
		t.Errorf("manager = %v, want boss %s", mgr, boss.ID)
	}
	if p := dev.User.Attributes[SchemaBridgeUser].(map[string]any)["parent"]; p != eng.ID {
		t.Errorf("dev parent = %v, want Eng %s", p, eng.ID)
	}
	if team.OutsideMembers != 1 || len(team.Group.Members) != 2 || !strings.Contains(team.Reason, "1 member(s) outside the sync scope") {
		t.Errorf("team: outside %d, members %v, reason %q", team.OutsideMembers, team.Group.Members, team.Reason)
	}
}

func TestPlanBuildAgainstStore(t *testing.T) {
	// First run to learn ids and hashes.
	settings := Settings{DistributionLists: DistributionLists{Import: true}}.WithDefaults()
	first := (&planBuilder{mapper: NewMapper(settings), settings: settings, states: newStateSet(), prots: protections{}, now: mapNow}).build(planFixture())
	states := map[string]ObjectState{}
	for _, it := range first.Items {
		st := ObjectState{ID: it.ID, ExternalID: it.ExternalID, Source: SourceAD, Status: StatusActive, DN: it.DN, Name: it.Name}
		if it.User != nil {
			st.Type, st.Hash = ObjectUser, it.User.Hash
		} else {
			st.Type, st.Kind, st.Hash = ObjectGroup, it.Group.Kind, it.Group.Hash
		}
		states[it.ExternalID] = st
	}
	if len(states) != 6 {
		t.Fatalf("first run: %d objects, want 6", len(states))
	}
	states["g-gone"] = ObjectState{ID: "id-gone", ExternalID: "G-GONE", Type: ObjectUser, Source: SourceAD, Status: StatusActive, Name: "gone"}
	states["g-owner"] = ObjectState{ID: "id-owner", ExternalID: "g-owner", Type: ObjectUser, Source: SourceAD, Status: StatusActive, Name: "owner"}
	states["g-old"] = ObjectState{ID: "id-old", ExternalID: "g-old", Type: ObjectUser, Source: SourceAD, Status: StatusDeleted, Name: "old"}
	states["local:id-l"] = ObjectState{ID: "id-l", Type: ObjectUser, Source: SourceLocal, Status: StatusActive, Name: "BOSS"}

	tests := []struct {
		name   string
		mutate func(r *dirRead)
		prots  []Protection
		want   map[string]Action // by externalId
		check  func(t *testing.T, items map[string]PlanItem)
	}{
		{"nothing changed", nil, nil,
			map[string]Action{"g-corp": ActionUnchanged, "g-boss": ActionError, "g-dev": ActionUnchanged, "G-GONE": ActionDelete, "g-owner": ActionDelete},
			func(t *testing.T, items map[string]PlanItem) {
				if r := items["g-boss"].Reason; !strings.Contains(r, "already used by the local user id-l") {
					t.Errorf("boss clash reason %q", r)
				}
				if _, ok := items["g-old"]; ok {
					t.Error("an already deleted object is in the plan")
				}
			}},
		{"rename, disable, owner kept", func(r *dirRead) {
			r.users[1].DN = "CN=Developer,OU=Corp,DC=x"
			r.users[1].UserAccountControl |= UACAccountDisabled
		}, []Protection{{Role: RoleOwner, ExternalID: "g-owner"}},
			map[string]Action{"g-dev": ActionDeactivate, "g-eng": ActionUpdate, "g-corp": ActionUpdate, "g-owner": ActionRefuse},
			func(t *testing.T, items map[string]PlanItem) {
				if items["g-dev"].ID != states["g-dev"].ID {
					t.Error("renamed user got a new id")
				}
				if items["g-dev"].deferred {
					t.Error("a user keeping its own name is deferred")
				}
			}},
		{"new user takes the name of a deleted one", func(r *dirRead) {
			e := r.users[1]
			e.GUID, e.DN = "g-new", "CN=Dev2,OU=Eng,OU=Corp,DC=x"
			e.Attrs = map[string][]string{"samaccountname": {"GONE"}}
			r.users = append(r.users, e)
		}, nil,
			map[string]Action{"g-new": ActionAdd, "g-dev": ActionUnchanged, "G-GONE": ActionDelete},
			func(t *testing.T, items map[string]PlanItem) {
				if !items["g-new"].deferred {
					t.Error("the user taking a deleted user's name is not deferred")
				}
			}},
		{"protected group changed", func(r *dirRead) { r.groups[0].Members = r.groups[0].Members[:1] },
			[]Protection{{Role: RoleProtected, ExternalID: "g-team"}},
			map[string]Action{"g-team": ActionSkip}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := planFixture()
			if tt.mutate != nil {
				tt.mutate(&r)
			}
			b := &planBuilder{mapper: NewMapper(settings), settings: settings, states: stateSetOf(t, states), prots: newProtections(tt.prots), now: mapNow}
			plan := b.build(r)
			items := byExternalID(plan)
			for ext, want := range tt.want {
				if got := items[ext].Action; got != want {
					t.Errorf("%s: %s (%s), want %s", ext, got, items[ext].Reason, want)
				}
			}
			if plan.Live != 8 {
				t.Errorf("live = %d, want 8", plan.Live)
			}
			if tt.check != nil {
				tt.check(t, items)
			}
		})
	}
}
