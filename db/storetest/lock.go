package storetest

import (
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

var lockTests = []test{
	{"ExclusiveUntilUnlocked", func(t *testing.T, s bridge.Store) {
		unlock, err := s.LockAccount(ctx(t), acct)
		noErr(t, "LockAccount", err)
		_, err = s.LockAccount(ctx(t), acct)
		wantErr(t, "second LockAccount", err, bridge.ErrRunInProgress)
		unlock()
		unlock() // idempotent
		unlock2, err := s.LockAccount(ctx(t), acct)
		noErr(t, "LockAccount after unlock", err)
		unlock2()
	}},
	{"PerAccount", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "other")
		u1, err := s.LockAccount(ctx(t), acct)
		noErr(t, "LockAccount(default)", err)
		defer u1()
		u2, err := s.LockAccount(ctx(t), "other")
		noErr(t, "LockAccount(other) while default is locked", err)
		u2()
	}},
	{"UnknownAccount", func(t *testing.T, s bridge.Store) {
		_, err := s.LockAccount(ctx(t), "nope")
		wantErr(t, "LockAccount(nope)", err, bridge.ErrNotFound)
	}},
}
