// Package storetest is the conformance suite every bridge.Store must pass.
// Each backend runs it with a function that opens a fresh, migrated, empty
// store (only the default account exists):
//
//	storetest.RunTests(t, func(t *testing.T) bridge.Store { ... })
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
)

// RunTests runs every conformance test against stores made by open. open
// must register its own cleanup (t.Cleanup) and call t.Fatal on failure.
func RunTests(t *testing.T, open func(t *testing.T) bridge.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Accounts", accountTests},
		{"Settings", settingsTests},
		{"Apply", applyTests},
		{"Objects", objectTests},
		{"Delta", deltaTests},
		{"Runs", runTests},
		{"Lock", lockTests},
		{"Protections", protectionTests},
		{"Tokens", tokenTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					s := open(t)
					tc.run(t, s)
				})
			}
		})
	}
}

type test struct {
	name string
	run  func(t *testing.T, s bridge.Store)
}

func ctx(t *testing.T) context.Context { return t.Context() }

// Helpers. They stop the test on failure: a missing fixture makes every
// later check meaningless.

func mustAccount(t *testing.T, s bridge.Store, id string) {
	t.Helper()
	if err := s.CreateAccount(ctx(t), bridge.Account{ID: id, Name: "Account " + id}); err != nil {
		t.Fatalf("CreateAccount(%s): %v", id, err)
	}
}

func mustApply(t *testing.T, s bridge.Store, account string, c bridge.Changes) {
	t.Helper()
	if err := s.Apply(ctx(t), account, c); err != nil {
		t.Fatalf("Apply(%s): %v", account, err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func newID() string { return uuid.NewString() }

func user(name string) bridge.User {
	return bridge.User{
		ID: newID(), ExternalID: newID(), Source: bridge.SourceAD, UserName: name,
		DisplayName: "User " + name, Active: true, Status: bridge.StatusActive,
		DN: "CN=" + name + ",OU=Staff,DC=example,DC=com", OUPath: "Staff",
		Attributes: map[string]any{"userName": name, "title": "Engineer"},
		Hash:       "h-" + name,
	}
}

func group(name string, kind bridge.GroupKind) bridge.Group {
	return bridge.Group{
		ID: newID(), ExternalID: newID(), Source: bridge.SourceAD, Kind: kind, DisplayName: name,
		DN: "CN=" + name + ",OU=Groups,DC=example,DC=com", Status: bridge.StatusActive,
		Attributes: map[string]any{"displayName": name}, Hash: "h-" + name,
	}
}

func userMember(u bridge.User) bridge.Member   { return bridge.Member{ID: u.ID, Type: "User"} }
func groupMember(g bridge.Group) bridge.Member { return bridge.Member{ID: g.ID, Type: "Group"} }

func getUser(t *testing.T, s bridge.Store, account, id string) bridge.User {
	t.Helper()
	u, err := s.GetUser(ctx(t), account, id)
	noErr(t, "GetUser", err)
	return u
}

func getGroup(t *testing.T, s bridge.Store, account, id string) bridge.Group {
	t.Helper()
	g, err := s.GetGroup(ctx(t), account, id)
	noErr(t, "GetGroup", err)
	return g
}

func memberIDs(g bridge.Group) map[string]string {
	m := map[string]string{}
	for _, x := range g.Members {
		m[x.ID] = x.Type
	}
	return m
}

func states(t *testing.T, s bridge.Store, account string) map[string]bridge.ObjectState {
	t.Helper()
	out := map[string]bridge.ObjectState{}
	err := s.ObjectStates(ctx(t), account, func(st bridge.ObjectState) error {
		if _, dup := out[st.ID]; dup {
			return fmt.Errorf("object %s reported twice", st.ID)
		}
		out[st.ID] = st
		return nil
	})
	noErr(t, "ObjectStates", err)
	return out
}

func mustRun(t *testing.T, s bridge.Store, account string, started time.Time) bridge.Run {
	t.Helper()
	r := bridge.Run{ID: newID(), AccountID: account, Trigger: bridge.TriggerManual, Kind: bridge.RunFull,
		Status: bridge.RunRunning, StartedAt: started}
	noErr(t, "CreateRun", s.CreateRun(ctx(t), r))
	return r
}

// sameTime compares instants at the microsecond, what every backend keeps.
func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}
