package scimapi

import (
	"reflect"
	"testing"
)

// TestSimpleFilterMatchesParser checks parseSimpleFilter against the
// general parser: where it answers, the parser gives the same tree; where
// the parser refuses, it does not answer.
func TestSimpleFilterMatchesParser(t *testing.T) {
	for _, tc := range []struct {
		rt     *resourceType
		filter string
		fast   bool // whether the simple path should take it
	}{
		{userType, `userName eq "alice@example.com"`, true},
		{userType, `externalId eq "6f1c9a8e-0000-4000-8000-000000000001"`, true},
		{userType, `displayName co "Al (ice) [x] * é"`, true},
		{userType, `name.familyName sw "Ar"`, true},
		{userType, `emails.value ew "@example.com"`, true},
		{userType, `emails co "example"`, true},
		{userType, `meta.lastModified gt "2024-01-01T00:00:00Z"`, true},
		{userType, `id ne ""`, true},
		{groupType, `displayName eq "Ops Team"`, true},
		{groupType, `members.value eq "abc"`, true},
		{userType, `userName EQ "a"`, false},
		{userType, `userName eq "a\"b"`, false},
		{userType, `userName eq "a\\b"`, false},
		{userType, `userName eq "tab	tab"`, false},
		{userType, `active eq "true"`, false},
		{userType, `active eq true`, false},
		{userType, `name eq "x"`, false},
		{userType, `nosuch eq "x"`, false},
		{userType, `userName  eq "a"`, false},
		{userType, ` userName eq "a"`, false},
		{userType, `userName eq "a" `, false},
		{userType, `userName eq "a" and active eq true`, false},
		{userType, `userName pr`, false},
		{userType, `userName.x.y eq "a"`, false},
		{userType, `1userName eq "a"`, false},
		{userType, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"`, false},
		{userType, `meta.lastModified gt "yesterday"`, false},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			got, ok := parseSimpleFilter(tc.rt, tc.filter)
			if ok != tc.fast {
				t.Fatalf("simple path took it: %v, want %v", ok, tc.fast)
			}
			if !ok {
				return
			}
			want, err := parseFilterGeneral(tc.rt, tc.filter)
			if err != nil {
				t.Fatalf("the parser refuses what the simple path takes: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("simple %#v, parser %#v", got, want)
			}
		})
	}
}
