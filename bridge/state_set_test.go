package bridge

import (
	"fmt"
	"reflect"
	"testing"
)

// stateSetOf files the states of a test's map, checking each is under the
// key stateKey gives it.
func stateSetOf(t *testing.T, m map[string]ObjectState) *stateSet {
	t.Helper()
	s := newStateSet()
	for k, st := range m {
		if stateKey(st) != k {
			t.Fatalf("state %+v under %q, stateKey says %q", st, k, stateKey(st))
		}
		s.put(st)
	}
	return s
}

func TestStateSetRoundTrip(t *testing.T) {
	hash := mappingVersion + ":" + fmt.Sprintf("%064x", 7)
	tests := []struct {
		name string
		st   ObjectState
	}{
		{"canonical user", ObjectState{ID: "0190a3b4-1111-7abc-8def-0123456789ab", ExternalID: "6f1c2d3e-4a5b-4c6d-8e9f-a0b1c2d3e4f5",
			Type: ObjectUser, Source: SourceAD, Status: StatusActive, Hash: hash, Version: 3,
			DN: "CN=Ann,OU=Corp,DC=x", Name: "ann@x", Display: "Ann"}},
		{"upper-case objectGUID", ObjectState{ID: "0190a3b4-1111-7abc-8def-0123456789ac", ExternalID: "6F1C2D3E-4A5B-4C6D-8E9F-A0B1C2D3E4F6",
			Type: ObjectGroup, Kind: KindSecurity, Source: SourceAD, Status: StatusDeleted, Hash: hash, DN: "CN=G,DC=x", Name: "G"}},
		{"odd id and hash", ObjectState{ID: "u1", ExternalID: "g-1", Type: ObjectUser, Source: SourceAD,
			Status: StatusDeactivated, Hash: "h", Version: -1}},
		{"hash of another version", ObjectState{ID: "u2", ExternalID: " G-2 ", Type: ObjectUser, Source: SourceAD,
			Hash: "m0:" + fmt.Sprintf("%064x", 1)}},
		{"upper-case hash", ObjectState{ID: "u3", ExternalID: "g-3", Source: SourceAD, Hash: mappingVersion + ":" + fmt.Sprintf("%064X", 0xabc)}},
		{"local user", ObjectState{ID: "0190a3b4-1111-7abc-8def-0123456789ad", Type: ObjectUser, Source: SourceLocal,
			Status: StatusActive, Name: "bob", Display: "Bob"}},
		{"local with an objectGUID", ObjectState{ID: "l2", ExternalID: "6f1c2d3e-4a5b-4c6d-8e9f-a0b1c2d3e4f7", Source: SourceLocal}},
		{"empty", ObjectState{}},
		{"long DN", ObjectState{ID: "u4", ExternalID: "g-4", Source: SourceAD, DN: string(make([]byte, 3*textBlock))}},
	}
	s := newStateSet()
	for _, tc := range tests {
		s.put(tc.st)
	}
	if s.len() != len(tests) {
		t.Fatalf("len %d, want %d", s.len(), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := s.get(stateKey(tc.st))
			if !ok || !reflect.DeepEqual(got, tc.st) {
				t.Errorf("get = %+v, %v; want %+v", got, ok, tc.st)
			}
		})
	}
	i := 0
	s.each(func(k string, st ObjectState) bool {
		if k != stateKey(tests[i].st) || !reflect.DeepEqual(st, tests[i].st) {
			t.Errorf("each #%d = %q %+v, want %+v", i, k, st, tests[i].st)
		}
		i++
		return true
	})
	if i != len(tests) {
		t.Errorf("each visited %d states, want %d", i, len(tests))
	}
}

func TestStateSetReplaceAndMiss(t *testing.T) {
	s := newStateSet()
	g := "6f1c2d3e-4a5b-4c6d-8e9f-a0b1c2d3e4f5"
	s.put(ObjectState{ID: "user", ExternalID: g, Type: ObjectUser, Source: SourceAD})
	s.put(ObjectState{ID: "group", ExternalID: g, Type: ObjectGroup, Source: SourceAD})
	if st, ok := s.get(g); !ok || st.ID != "group" || s.len() != 1 {
		t.Errorf("after a second put: %+v %v len %d, want the group alone", st, ok, s.len())
	}
	n := 0
	s.each(func(string, ObjectState) bool { n++; return true })
	if n != 1 {
		t.Errorf("each visited %d states, want 1", n)
	}
	for _, k := range []string{"6f1c2d3e-4a5b-4c6d-8e9f-a0b1c2d3e4f6", "local:user", ""} {
		if _, ok := s.get(k); ok {
			t.Errorf("get(%q) found a state", k)
		}
	}
	var nilSet *stateSet
	if _, ok := nilSet.get(g); ok || nilSet.len() != 0 {
		t.Error("a nil set holds something")
	}
}

func TestStateSetManyBlocks(t *testing.T) {
	s := newStateSet()
	const n = 3*stateBlock + 5
	for i := 0; i < n; i++ {
		s.put(ObjectState{ID: fmt.Sprintf("%08x-0000-7000-8000-000000000000", i), ExternalID: fmt.Sprintf("%08x-1111-4000-8000-000000000000", i),
			Source: SourceAD, Type: ObjectUser, DN: fmt.Sprintf("CN=User %d,DC=x", i)})
	}
	for _, i := range []int{0, stateBlock - 1, stateBlock, n - 1} {
		st, ok := s.get(fmt.Sprintf("%08x-1111-4000-8000-000000000000", i))
		if !ok || st.DN != fmt.Sprintf("CN=User %d,DC=x", i) || st.ID != fmt.Sprintf("%08x-0000-7000-8000-000000000000", i) {
			t.Errorf("state %d = %+v, %v", i, st, ok)
		}
	}
}
