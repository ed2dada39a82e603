package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

func tokenHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

var tokenTests = []test{
	{"CreateFindListDelete", func(t *testing.T, s bridge.Store) {
		tok := bridge.Token{ID: newID(), AccountID: acct, Role: bridge.TokenAuditor, Name: "audit", Hash: tokenHash("s3cret")}
		noErr(t, "CreateToken", s.CreateToken(ctx(t), tok))
		got, err := s.FindToken(ctx(t), tokenHash("s3cret"))
		noErr(t, "FindToken", err)
		if got.ID != tok.ID || got.AccountID != acct || got.Role != bridge.TokenAuditor || got.Name != "audit" || got.CreatedAt.IsZero() {
			t.Errorf("FindToken = %+v", got)
		}
		if got.LastUsedAt == nil || time.Since(*got.LastUsedAt) > time.Minute {
			t.Errorf("FindToken did not record use: %v", got.LastUsedAt)
		}
		_, err = s.FindToken(ctx(t), tokenHash("wrong"))
		wantErr(t, "FindToken wrong secret", err, bridge.ErrNotFound)
		_, err = s.FindToken(ctx(t), nil)
		wantErr(t, "FindToken empty", err, bridge.ErrNotFound)

		noErr(t, "CreateToken 2", s.CreateToken(ctx(t), bridge.Token{AccountID: acct, Role: bridge.TokenSCIM, Hash: tokenHash("other")}))
		ts, err := s.ListTokens(ctx(t), acct)
		noErr(t, "ListTokens", err)
		if len(ts) != 2 {
			t.Fatalf("ListTokens = %+v", ts)
		}
		wantErr(t, "DeleteToken unknown", s.DeleteToken(ctx(t), acct, newID()), bridge.ErrNotFound)
		noErr(t, "DeleteToken", s.DeleteToken(ctx(t), acct, tok.ID))
		_, err = s.FindToken(ctx(t), tokenHash("s3cret"))
		wantErr(t, "FindToken after delete", err, bridge.ErrNotFound)
	}},
	{"HashUnique", func(t *testing.T, s bridge.Store) {
		noErr(t, "CreateToken", s.CreateToken(ctx(t), bridge.Token{AccountID: acct, Role: bridge.TokenAdmin, Hash: tokenHash("x")}))
		err := s.CreateToken(ctx(t), bridge.Token{AccountID: acct, Role: bridge.TokenAdmin, Hash: tokenHash("x")})
		wantErr(t, "same hash twice", err, bridge.ErrConflict)
	}},
	{"Isolation", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "other")
		tok := bridge.Token{ID: newID(), AccountID: "other", Role: bridge.TokenSCIM, Hash: tokenHash("theirs")}
		noErr(t, "CreateToken", s.CreateToken(ctx(t), tok))
		if ts, _ := s.ListTokens(ctx(t), acct); len(ts) != 0 {
			t.Errorf("default account lists another account's tokens: %+v", ts)
		}
		wantErr(t, "DeleteToken of another account", s.DeleteToken(ctx(t), acct, tok.ID), bridge.ErrNotFound)
		err := s.CreateToken(ctx(t), bridge.Token{AccountID: "nope", Role: bridge.TokenSCIM, Hash: tokenHash("n")})
		wantErr(t, "CreateToken in unknown account", err, bridge.ErrNotFound)
	}},
}
