package bridge

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

func TestFirstOfEachID(t *testing.T) {
	tests := []struct {
		name     string
		in, want []Member
	}{
		{"none", nil, nil},
		{"no duplicates", []Member{{"b", "User"}, {"a", "Group"}}, []Member{{"a", "Group"}, {"b", "User"}}},
		{"duplicates keep the first", []Member{{"b", "User"}, {"a", "Group"}, {"b", "Group"}, {"a", "User"}},
			[]Member{{"a", "Group"}, {"b", "User"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := firstOfEachID(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// The digest is written in pieces; it must be the digest of the whole JSON.
func TestContentHashLargeGroup(t *testing.T) {
	attrs := map[string]any{"displayName": "All", "x": []any{"a", 1.0}}
	for _, n := range []int{0, 1, 100, 5000} {
		ms := make([]Member, n)
		for i := range ms {
			ms[i] = Member{ID: fmt.Sprintf("id-%06d", i), Type: "User"}
		}
		doc := struct {
			A map[string]any `json:"a"`
			M []Member       `json:"m,omitempty"`
		}{attrs, ms}
		j, _ := json.Marshal(doc)
		sum := sha256.Sum256(j)
		if got, want := contentHash(attrs, ms), mappingVersion+":"+hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%d members: %s, want %s", n, got, want)
		}
	}
}
