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
	// stored DN index of the objects that did not change, built on first use.
	stored map[string]storedRef
	// affected OU groups (normalized DN) whose members may have changed.
	affected map[string]bool
	// holders are groups that held a gone object (MembershipStore).
	holders []string
}

type storedRef struct {
	Ref
	guid string
}

func (d *deltaState) lookup(b *planBuilder, key string) (Ref, bool) {
	if d.stored == nil {
		d.stored = map[string]storedRef{}
		for k, st := range b.states {
			if strings.HasPrefix(k, "local:") || st.Status == StatusDeleted || st.DN == "" {
				continue
			}
			kind := EntryGroup
			name := st.Name
			switch {
			case st.Type == ObjectUser:
				kind = EntryUser
				if st.Display != "" {
					name = st.Display
				}
			case st.Kind == KindOU:
				kind = EntryOU
			}
			d.stored[NormalizeDN(st.DN)] = storedRef{Ref{ID: st.ID, Kind: kind, Name: name}, k}
		}
	}
	r, ok := d.stored[key]
	if !ok || b.saw(r.guid) || d.gone[r.guid] != "" {
		return Ref{}, false
	}
	return r.Ref, true
}

// ouMembers computes the members of the OU groups a delta touches: the
// parents (before and after) of every changed or gone user and OU.
func (d *deltaState) ouMembers(b *planBuilder) {
	d.affected = map[string]bool{}
	// An object that stays live in the same OU changes no OU's members.
	moved := func(guid, newParent string) bool {
		st, ok := b.states[normGUID(guid)]
		return !ok || st.Status == StatusDeleted || st.DN == "" || ParentDN(st.DN) != newParent
	}
	for _, e := range b.ous {
		key, parent := NormalizeDN(e.DN), ParentDN(e.DN)
		d.affected[key] = true // its group is rewritten: with all its members
		if moved(e.GUID, parent) {
			d.affected[parent] = true
			if st, ok := b.states[normGUID(e.GUID)]; ok && st.DN != "" {
				d.affected[ParentDN(st.DN)] = true
			}
		}
	}
	for _, p := range b.users {
		if moved(p.guid, p.parent) {
			d.affected[p.parent] = true
			if st, ok := b.states[normGUID(p.guid)]; ok && st.DN != "" {
				d.affected[ParentDN(st.DN)] = true
			}
		}
	}
	for g := range d.gone {
		if st, ok := b.states[g]; ok && st.DN != "" && (st.Type == ObjectUser || st.Kind == KindOU) {
			d.affected[ParentDN(st.DN)] = true
		}
	}
	if len(d.affected) == 0 {
		return
	}
	// Members after the run: unchanged stored objects where they were, the
	// changed ones where they are now.
	for k, st := range b.states {
		if strings.HasPrefix(k, "local:") || st.Status == StatusDeleted || b.saw(k) || d.gone[k] != "" || st.DN == "" {
			continue
		}
		typ := ""
		switch {
		case st.Type == ObjectUser:
			typ = "User"
		case st.Kind == KindOU:
			typ = "Group"
		default:
			continue
		}
		if p := ParentDN(st.DN); d.affected[p] {
			b.ouMembers[p] = append(b.ouMembers[p], Member{ID: st.ID, Type: typ})
		}
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
	byID := map[string]ObjectState{}
	want := map[string]bool{}
	for _, id := range d.holders {
		want[id] = true
	}
	for k, st := range b.states {
		if d.gone[k] != "" {
			drop[st.ID] = true
		}
		if want[st.ID] && st.Type != ObjectUser {
			byID[st.ID] = st
		}
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
