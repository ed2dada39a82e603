package bridge

import (
	"encoding/json"
	"sort"
	"strings"
)

// Plan is what a run would do, object by object: the diff of a complete
// directory read against the store. A dry run ends with the plan; a real
// run applies it.
type Plan struct {
	Items []PlanItem
	// Live is how many AD-sourced objects (users and groups) were live in
	// the store before the run: the base of the deletion threshold's
	// percentage.
	Live int
}

// PlanItem is one object's decision. User or Group carries the content to
// write for add, update, deactivate and reactivate; deletions carry only
// the ids.
type PlanItem struct {
	Action     Action
	ObjectType ObjectType
	ID         string
	ExternalID string
	DN         string
	Name       string
	Reason     string
	// Changed lists the top-level SCIM attributes an update changes
	// (extension attributes as URN:attribute, group membership as members).
	Changed []string
	User    *User
	Group   *Group
	// OutsideMembers counts members of a group that are not in the sync
	// scope and were left out.
	OutsideMembers int
	// missing marks a stored object the read did not return.
	missing bool
	// deferred marks a user whose userName a user deleted by this run
	// still holds: it is written after the deletions.
	deferred bool
	// ouRefresh, on a delta run, asks the sink to compare the stored OU
	// group's members with these and update them when they differ.
	ouRefresh      bool
	refreshMembers []Member
	// refreshDrop, with ouRefresh, says to drop these members from the
	// stored list instead (groups that held an object now gone).
	refreshDrop map[string]bool
	// membersByDeletion: the only member change is the removal of objects
	// this run soft-deletes, which drops their membership rows anyway; the
	// member list is not rewritten.
	membersByDeletion bool
}

// Writes reports whether applying the item writes the object.
func (it PlanItem) Writes() bool {
	switch it.Action {
	case ActionAdd, ActionUpdate, ActionDeactivate, ActionReactivate, ActionDelete:
		return true
	}
	return false
}

// Counts tallies the plan per object type.
func (p Plan) Counts() RunCounts {
	var c RunCounts
	for _, it := range p.Items {
		countItem(&c, it)
	}
	return c
}

func countItem(c *RunCounts, it PlanItem) {
	if it.ObjectType == ObjectUser {
		c.Users.Add(it.Action)
	} else {
		c.Groups.Add(it.Action)
	}
}

// Deletions is how many objects the plan deletes (users and groups).
// Deactivations are not deletions: the user is still served, with
// active=false, and comes back on re-enable, so they do not count towards
// the deletion threshold.
func (p Plan) Deletions() int {
	n := 0
	for _, it := range p.Items {
		if it.Action == ActionDelete {
			n++
		}
	}
	return n
}

// Reasons recorded in plans and run events.
const (
	ReasonNew              = "new in Active Directory"
	ReasonNewDisabled      = "new in Active Directory (disabled)"
	ReasonChanged          = "changed in Active Directory"
	ReasonDisabled         = "disabled in Active Directory"
	ReasonExpired          = "account expired in Active Directory"
	ReasonEnabled          = "enabled in Active Directory"
	ReasonBack             = "found in Active Directory again"
	ReasonBackDisabled     = "found in Active Directory again (disabled)"
	ReasonNotFound         = "not found in Active Directory"
	ReasonOutOfScope       = "out of scope"
	ReasonProtected        = "protected: changes from Active Directory are not applied to protected objects"
	ReasonProtectedNoDel   = "protected: not deleted"
	ReasonOwner            = "owner: account owners are never deleted/deactivated by a sync"
	reasonOutsideMembersFm = "%d member(s) outside the sync scope left out"
)

// protections indexes an account's protections by objectGUID and by SCIM id.
type protections map[string]ProtectionRole

func newProtections(ps []Protection) protections {
	out := protections{}
	for _, p := range ps {
		for _, k := range []string{strings.ToLower(p.ExternalID), p.ResourceID} {
			if k == "" {
				continue
			}
			// protected wins over owner: a protected object is never written.
			if out[k] != RoleProtected {
				out[k] = p.Role
			}
		}
	}
	return out
}

func (p protections) role(externalID, id string) ProtectionRole {
	if r, ok := p[strings.ToLower(externalID)]; ok && externalID != "" {
		return r
	}
	if id != "" {
		return p[id]
	}
	return ""
}

// decideUser decides what to do with a user read from AD. st is its stored
// state, nil when new.
func decideUser(cand *User, st *ObjectState, role ProtectionRole, expired bool) (Action, string) {
	if st == nil {
		if cand.Active {
			return ActionAdd, ReasonNew
		}
		return ActionAdd, ReasonNewDisabled
	}
	if st.Hash == cand.Hash && st.Status == cand.Status {
		return ActionUnchanged, ""
	}
	if role == RoleProtected {
		return ActionSkip, ReasonProtected
	}
	switch {
	case st.Status == StatusDeleted && cand.Active:
		return ActionReactivate, ReasonBack
	case st.Status == StatusDeleted:
		return ActionReactivate, ReasonBackDisabled
	case st.Status == StatusDeactivated && cand.Active:
		return ActionReactivate, ReasonEnabled
	case st.Status == StatusActive && !cand.Active:
		if role == RoleOwner {
			return ActionRefuse, ReasonOwner
		}
		if expired {
			return ActionDeactivate, ReasonExpired
		}
		return ActionDeactivate, ReasonDisabled
	}
	return ActionUpdate, ReasonChanged
}

// decideGroup decides what to do with a group or OU read from AD.
func decideGroup(cand *Group, st *ObjectState, role ProtectionRole) (Action, string) {
	if st == nil {
		return ActionAdd, ReasonNew
	}
	if st.Hash == cand.Hash && st.Status == cand.Status {
		return ActionUnchanged, ""
	}
	if role == RoleProtected {
		return ActionSkip, ReasonProtected
	}
	if st.Status == StatusDeleted {
		return ActionReactivate, ReasonBack
	}
	return ActionUpdate, ReasonChanged
}

// decideMissing decides what to do with a stored AD object that the
// complete read did not return; reason says why it is missing. ok is false
// when there is nothing to do (it is deleted already).
func decideMissing(st ObjectState, role ProtectionRole, reason string) (a Action, why string, ok bool) {
	if st.Status == StatusDeleted {
		return "", "", false
	}
	switch role {
	case RoleProtected:
		return ActionSkip, ReasonProtectedNoDel + " (" + reason + ")", true
	case RoleOwner:
		return ActionRefuse, ReasonOwner, true
	}
	return ActionDelete, reason, true
}

// changedAttributes names the top-level attributes that differ between the
// stored and the new content; inside an extension it names URN:attribute.
// Values are compared as JSON, so a store round trip (numbers, []any) does
// not count as a change.
func changedAttributes(old, new map[string]any) []string {
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range new {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		if strings.HasPrefix(k, "urn:") {
			om, _ := old[k].(map[string]any)
			nm, _ := new[k].(map[string]any)
			for _, sub := range changedAttributes(om, nm) {
				out = append(out, k+":"+sub)
			}
			continue
		}
		if !jsonEqual(old[k], new[k]) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func membersChanged(old, new []Member) bool {
	a := append([]Member(nil), old...)
	b := append([]Member(nil), new...)
	sortMembers(a)
	sortMembers(b)
	if len(a) != len(b) {
		return true
	}
	for i := range a {
		if a[i] != b[i] {
			return true
		}
	}
	return false
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
