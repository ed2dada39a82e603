package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Delta runs read only what changed in AD since the last successful run:
// objects whose uSNChanged is above the cursor's highestCommittedUSN, and
// tombstones (deletions) above it. The cursor is valid for one domain
// controller database (its invocationId) and one set of sync settings; a
// full run reconciles everything at least every FullEvery.

// DefaultFullEvery is how old the last full run may be before the next run
// is full again (the daily reconcile).
const DefaultFullEvery = 24 * time.Hour

// cursorVersion changes when the cursor's meaning changes; an older cursor
// forces a full run.
const cursorVersion = 1

// deltaCursor is Run.Cursor: where the next delta run starts.
type deltaCursor struct {
	V                   int       `json:"v"`
	HighestCommittedUSN int64     `json:"highestCommittedUSN"`
	InvocationID        string    `json:"invocationId,omitempty"`
	DNSHostName         string    `json:"dnsHostName,omitempty"`
	Settings            string    `json:"settings"`
	LastFullAt          time.Time `json:"lastFullAt"`
}

// settingsHash digests what decides the content of a sync: scope, rules,
// mapping and protections. When it changes, a delta would leave objects
// that did not change in AD with stale content, so the run is full.
func settingsHash(s Settings, prots []Protection) string {
	ps := make([]string, 0, len(prots))
	for _, p := range prots {
		ps = append(ps, string(p.Role)+"|"+strings.ToLower(p.ExternalID)+"|"+p.ResourceID)
	}
	sort.Strings(ps)
	b, _ := json.Marshal(struct {
		Base, Mapping string
		OUs           OrganizationalUnits
		DLs           DistributionLists
		Users         UserRules
		Prots         []string
	}{NormalizeDN(s.Connection.BaseDN), mappingVersion, s.OrganizationalUnits, s.DistributionLists, s.Users, ps})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// previousCursor is the cursor of the account's last successful real run,
// if any. Failed, held, cancelled and dry runs leave it where it was.
func (s *syncRun) previousCursor(ctx context.Context) (*deltaCursor, error) {
	const page = 100
	for offset := 0; offset < 1000; offset += page {
		runs, total, err := s.e.Store.ListRuns(ctx, s.opt.Account, offset, page)
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			if r.ID == s.run.ID || r.DryRun || r.Status != RunSucceeded {
				continue
			}
			if r.Cursor == "" {
				return nil, nil
			}
			var c deltaCursor
			if json.Unmarshal([]byte(r.Cursor), &c) != nil || c.V != cursorVersion {
				return nil, nil
			}
			return &c, nil
		}
		if offset+page >= total {
			break
		}
	}
	return nil, nil
}

// chooseKind decides between a full and a delta run, and says why.
func (s *syncRun) chooseKind(prev *deltaCursor, info ServerInfo, dir Directory, hash string) (RunKind, string) {
	fullEvery := s.e.FullEvery
	if fullEvery <= 0 {
		fullEvery = DefaultFullEvery
	}
	_, canDelta := dir.(DeltaDirectory)
	switch {
	case s.opt.Full:
		return RunFull, "a full run was asked for"
	case s.opt.ApproveRunID != "":
		return RunFull, "carrying out an approved run: full enumeration"
	case prev == nil:
		return RunFull, "no earlier successful run to continue from"
	case prev.Settings != hash:
		return RunFull, "the scope, rules, mapping or protections changed since the last run"
	case !canDelta || !info.SupportsShowDeleted:
		return RunFull, "the directory cannot list deleted objects (Show Deleted control); every run is full"
	case info.InvocationID == "":
		return RunFull, "the domain controller's invocationId is not readable; every run is full"
	case prev.InvocationID != info.InvocationID:
		return RunFull, fmt.Sprintf("a different or restored domain controller (invocationId %s, the cursor is for %s)", info.InvocationID, prev.InvocationID)
	case info.HighestCommittedUSN < prev.HighestCommittedUSN:
		return RunFull, fmt.Sprintf("the domain controller's highestCommittedUSN %d is below the cursor's %d (restored from a backup?)", info.HighestCommittedUSN, prev.HighestCommittedUSN)
	case s.e.now().Sub(prev.LastFullAt) >= fullEvery:
		return RunFull, fmt.Sprintf("the last full run is older than %s (scheduled reconcile)", fullEvery)
	}
	return RunDelta, fmt.Sprintf("changes since USN %d on %s", prev.HighestCommittedUSN, info.DNSHostName)
}

// deltaState is what a delta plan knows beyond the changed entries: the
// objects AD reports gone, and the stored objects, which stand in for
// everything that did not change.
type deltaState struct {
	// gone: stored objectGUID -> why it is no longer live (tombstoned, or
	// changed and now out of scope).
	gone map[string]string
	// load, when set, asks the store for the stored objects the plan looks
	// at: the states map holds only those (see stateLoader). nil: the
	// states map holds every stored object.
	load *stateLoader
	// stored DN index of the objects that did not change, built on first
	// use (complete states map only).
	stored map[string]storedRef
	// affected OU groups (normalized DN) whose members may have changed.
	affected map[string]bool
	// storedMembers are the stored members of the affected OU groups that
	// exist (load only), by normalized DN.
	storedMembers map[string][]Member
	// holders are groups that held a gone object (MembershipStore), and
	// with a loader their states (loadHolders).
	holders      []string
	holderStates []ObjectState
}

// loadHolders loads the states of the holders (loader only).
func (d *deltaState) loadHolders() error {
	if d.load == nil || len(d.holders) == 0 {
		return nil
	}
	var err error
	d.holderStates, err = d.load.store.StatesByID(d.load.ctx, d.load.account, d.holders)
	return err
}

type storedRef struct {
	Ref
	guid string
}

func (d *deltaState) lookup(b *planBuilder, key string) (Ref, bool) {
	if d.load != nil {
		st, ok := d.load.storedAt(key)
		if g := normGUID(st.ExternalID); !ok || b.saw(g) || d.gone[g] != "" {
			return Ref{}, false
		}
		return storedRefOf(st), true
	}
	if d.stored == nil {
		d.stored = map[string]storedRef{}
		b.states.each(func(k string, st ObjectState) bool {
			if !strings.HasPrefix(k, "local:") && st.Status != StatusDeleted && st.DN != "" {
				d.stored[NormalizeDN(st.DN)] = storedRef{storedRefOf(st), k}
			}
			return true
		})
	}
	r, ok := d.stored[key]
	if !ok || b.saw(r.guid) || d.gone[r.guid] != "" {
		return Ref{}, false
	}
	return r.Ref, true
}

// prepare runs after the changes are indexed: it finds the OU groups whose
// members may change, the parents (before and after) of every changed or
// gone user and OU, and with a loader their stored members. It returns
// false when the loader cannot answer as the complete states would (an
// OU group that is new, restored or protected: its members may include
// stored objects no stored membership lists); the caller then loads every
// state and drops the loader.
func (d *deltaState) prepare(b *planBuilder) (bool, error) {
	d.affected = map[string]bool{}
	if !b.settings.ImportsOUs() {
		return true, nil
	}
	// An object that stays live in the same OU changes no OU's members.
	moved := func(guid, newParent string) bool {
		st, ok := b.states.get(normGUID(guid))
		return !ok || st.Status == StatusDeleted || st.DN == "" || ParentDN(st.DN) != newParent
	}
	for _, e := range b.ous {
		key, parent := NormalizeDN(e.DN), ParentDN(e.DN)
		d.affected[key] = true // its group is rewritten: with all its members
		if moved(e.GUID, parent) {
			d.affected[parent] = true
			if st, ok := b.states.get(normGUID(e.GUID)); ok && st.DN != "" {
				d.affected[ParentDN(st.DN)] = true
			}
		}
	}
	for _, p := range b.users {
		if moved(p.guid, p.parent) {
			d.affected[p.parent] = true
			if st, ok := b.states.get(normGUID(p.guid)); ok && st.DN != "" {
				d.affected[ParentDN(st.DN)] = true
			}
		}
	}
	for g := range d.gone {
		if st, ok := b.states.get(g); ok && st.DN != "" && (st.Type == ObjectUser || st.Kind == KindOU) {
			d.affected[ParentDN(st.DN)] = true
		}
	}
	if d.load == nil || len(d.affected) == 0 {
		return true, nil
	}
	read := map[string]string{} // normalized DN -> objectGUID of the OUs read
	for _, e := range b.ous {
		read[NormalizeDN(e.DN)] = e.GUID
	}
	ask := map[string]string{}
	for k := range d.affected {
		if _, ok := read[k]; !ok {
			ask[k] = ""
		}
	}
	if err := d.load.resolveDNs(ask); err != nil {
		return false, err
	}
	groups := map[string]string{} // group id -> normalized DN
	for k := range d.affected {
		var st ObjectState
		if g, ok := read[k]; ok {
			p := b.state(g, ObjectOU)
			if p == nil || p.Status == StatusDeleted {
				return false, nil
			}
			st = *p
		} else if r, ok := d.lookup(b, k); !ok || r.Kind != EntryOU {
			continue // not an OU group: nothing lists its members
		} else {
			st, _ = d.load.storedAt(k)
		}
		if b.prots.role(st.ExternalID, st.ID) == RoleProtected {
			return false, nil
		}
		groups[st.ID] = k
	}
	ids := make([]string, 0, len(groups))
	for id := range groups {
		ids = append(ids, id)
	}
	members, err := d.load.store.GroupMembers(d.load.ctx, d.load.account, ids)
	if err != nil {
		return false, err
	}
	d.storedMembers = map[string][]Member{}
	for id, k := range groups {
		d.storedMembers[k] = members[id]
	}
	return true, nil
}

// ouMembers computes the members of the affected OU groups (prepare).
func (d *deltaState) ouMembers(b *planBuilder) {
	if len(d.affected) == 0 {
		return
	}
	// Members after the run: unchanged stored objects where they were, the
	// changed ones where they are now.
	if d.load != nil {
		// The stored members of each affected OU group, without the
		// objects read or gone (placed below where they are now).
		changed := map[string]bool{}
		b.ids.each(func(g string) {
			if st, ok := b.states.get(g); ok {
				changed[st.ID] = true
			}
		})
		for g := range d.gone {
			if st, ok := b.states.get(g); ok {
				changed[st.ID] = true
			}
		}
		for k, ms := range d.storedMembers {
			for _, m := range ms {
				if !changed[m.ID] {
					b.ouMembers[k] = append(b.ouMembers[k], m)
				}
			}
		}
	} else {
		b.states.each(func(k string, st ObjectState) bool {
			if strings.HasPrefix(k, "local:") || st.Status == StatusDeleted || b.saw(k) || d.gone[k] != "" || st.DN == "" {
				return true
			}
			typ := ""
			switch {
			case st.Type == ObjectUser:
				typ = "User"
			case st.Kind == KindOU:
				typ = "Group"
			default:
				return true
			}
			if p := ParentDN(st.DN); d.affected[p] {
				b.ouMembers[p] = append(b.ouMembers[p], Member{ID: st.ID, Type: typ})
			}
			return true
		})
	}
	for _, e := range b.ous {
		if r, ok := b.refs[NormalizeDN(e.DN)]; ok {
			p := ParentDN(e.DN)
			b.ouMembers[p] = append(b.ouMembers[p], Member{ID: r.ID, Type: "Group"})
		}
	}
	for _, p := range b.users {
		if r, ok := b.refs[p.key]; ok && r.ID == p.id {
			b.ouMembers[p.parent] = append(b.ouMembers[p.parent], Member{ID: p.id, Type: "User"})
		}
	}
}

// emitOUs plans the OU groups whose members changed although the OU did
// not: their stored content with the new member list.
func (d *deltaState) emitOUs(b *planBuilder, sink func(PlanItem) error) error {
	changed := map[string]bool{}
	for _, e := range b.ous {
		changed[NormalizeDN(e.DN)] = true
	}
	keys := make([]string, 0, len(d.affected))
	for k := range d.affected {
		if !changed[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		r, ok := b.lookup(k)
		if !ok || r.Kind != EntryOU {
			continue
		}
		if err := sink(PlanItem{ObjectType: ObjectOU, ID: r.ID, DN: k, Name: r.Name, ouRefresh: true, refreshMembers: b.ouMembers[k]}); err != nil {
			return err
		}
	}
	return nil
}

// emitHolders plans the groups that held an object now gone: the same
// members without it (the store drops the membership rows with the
// deletion; the group's content and hash follow here, as a full run would
// write them).
func (d *deltaState) emitHolders(b *planBuilder, sink func(PlanItem) error) error {
	if len(d.holders) == 0 {
		return nil
	}
	drop := map[string]bool{}
	for g := range d.gone {
		if st, ok := b.states.get(g); ok {
			drop[st.ID] = true
		}
	}
	byID := map[string]ObjectState{}
	want := map[string]bool{}
	for _, id := range d.holders {
		want[id] = true
	}
	if d.load != nil {
		for _, st := range d.holderStates {
			if st.Type != ObjectUser {
				byID[st.ID] = st
			}
		}
	} else {
		b.states.each(func(_ string, st ObjectState) bool {
			if want[st.ID] && st.Type != ObjectUser {
				byID[st.ID] = st
			}
			return true
		})
	}
	for _, id := range d.holders {
		st, ok := byID[id]
		if !ok || b.saw(normGUID(st.ExternalID)) || d.gone[normGUID(st.ExternalID)] != "" || st.Status == StatusDeleted {
			continue
		}
		if st.Kind == KindOU && b.settings.ImportsOUs() && d.affected[NormalizeDN(st.DN)] {
			continue // recomputed whole by emitOUs
		}
		if err := sink(PlanItem{ObjectType: objectTypeOf(st.Kind), ID: st.ID, DN: st.DN, Name: st.Name,
			ouRefresh: true, refreshDrop: drop}); err != nil {
			return err
		}
	}
	return nil
}
