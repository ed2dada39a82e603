package db

import (
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

// TestAggregateDecoding checks the readers of the JSON aggregates against
// what SQLite and PostgreSQL print, escapes (encoding/json) included.
func TestAggregateDecoding(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []bridge.GroupRef
	}{
		{``, nil},
		{`[]`, nil},
		{`[["b","Zed"],["a","Alpha"]]`, []bridge.GroupRef{{ID: "a", DisplayName: "Alpha"}, {ID: "b", DisplayName: "Zed"}}},
		{`[["b", "Same"], ["a", "Same"]]`, []bridge.GroupRef{{ID: "a", DisplayName: "Same"}, {ID: "b", DisplayName: "Same"}}},
		{`[["x", "Q \"uoted\" \u00e9"]]`, []bridge.GroupRef{{ID: "x", DisplayName: `Q "uoted" é`}}},
	} {
		got, err := decodeGroupRefs([]byte(tc.in))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("decodeGroupRefs(%s) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	ms, err := appendMembers(nil, []byte(`["u1", "u2"]`), "User")
	if err == nil {
		ms, err = appendMembers(ms, []byte(`["g\"1"]`), "Group")
	}
	want := []bridge.Member{{ID: "u1", Type: "User"}, {ID: "u2", Type: "User"}, {ID: `g"1`, Type: "Group"}}
	if err != nil || !reflect.DeepEqual(ms, want) {
		t.Errorf("appendMembers = %v, %v; want %v", ms, err, want)
	}
	if _, err := appendMembers(nil, []byte(`["u1",`), "User"); err == nil {
		t.Error("truncated member list accepted")
	}
}
