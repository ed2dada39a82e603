package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
)

// TestAppendJSONMatchesEncodingJSON: AppendJSON must give encoding/json's
// bytes, or every stored hash would change.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	cases := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"nil map", map[string]any(nil)},
		{"nil list", []any(nil)},
		{"empty map", map[string]any{}},
		{"empty list", []any{}},
		{"plain string", "Ada Lovelace"},
		{"empty string", ""},
		{"quotes and backslash", `a "b" \c`},
		{"html", "<b>&amp;</b>"},
		{"control characters", "tab\there\nnew\rline\b\f\x00\x1f"},
		{"del", "x\x7fy"},
		{"unicode", "Zoë Ñúñez 日本"},
		{"line separators", "a\u2028b\u2029c"},
		{"invalid utf-8", "a\xffb\xc3"},
		{"bools", []any{true, false}},
		{"numbers fall back", []any{1, 2.5, int64(-3), 1e21, 0.000001}},
		{"other types fall back", []any{[]string{"a", "<"}, map[string]string{"b": "1", "a": "2"}}},
		{"keys sorted and escaped", map[string]any{"b": 1, "a": "x", "<k>": true, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "R&D"}}},
		{"a mapped user", map[string]any{
			"userName": "ada@example.com", "displayName": "Ada", "active": true, "externalId": "0f1e",
			"name":           map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
			"emails":         []any{map[string]any{"type": "work", "value": "ada@example.com", "primary": true}},
			SchemaBridgeUser: map[string]any{"dn": "CN=Ada,OU=Staff,DC=example,DC=com", "ouPath": "Staff", "protected": false},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, werr := json.Marshal(tc.v)
			got, gerr := AppendJSON([]byte("prefix"), tc.v)
			if (werr != nil) != (gerr != nil) {
				t.Fatalf("errors: encoding/json %v, AppendJSON %v", werr, gerr)
			}
			if string(got) != "prefix"+string(want) {
				t.Fatalf("AppendJSON = %s\nencoding/json = %s", got[len("prefix"):], want)
			}
		})
	}
}

// TestContentHashUnchanged: the hash is the one encoding/json's struct
// encoding gave, so stored objects are not rewritten by the change.
func TestContentHashUnchanged(t *testing.T) {
	attrs := map[string]any{"displayName": "Staff & <Friends>", "externalId": "x", SchemaBridgeGroup: map[string]any{"kind": "ou"}}
	for _, members := range [][]Member{nil, {}, {{ID: "u1", Type: "User"}, {ID: `g"2`, Type: "Group"}}} {
		b, _ := json.Marshal(struct {
			A map[string]any `json:"a"`
			M []Member       `json:"m,omitempty"`
		}{attrs, members})
		sum := sha256.Sum256(b)
		if want, got := mappingVersion+":"+hex.EncodeToString(sum[:]), contentHash(attrs, members); got != want {
			t.Errorf("members %v: hash %s, want %s", members, got, want)
		}
	}
	if contentHash(nil, nil) == "" {
		t.Error("empty hash")
	}
}
