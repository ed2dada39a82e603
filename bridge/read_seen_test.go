package bridge

import "testing"

func TestReadSeen(t *testing.T) {
	g := "6f1c2d3e-4a5b-4c6d-8e9f-a0b1c2d3e4f5"
	s := newReadSeen()
	tests := []struct {
		name string
		e    Entry
		want bool
	}{
		{"user", Entry{Kind: EntryUser, GUID: g}, true},
		{"same user again", Entry{Kind: EntryUser, GUID: g}, false},
		{"same user, upper-case GUID", Entry{Kind: EntryUser, GUID: "6F1C2D3E-4A5B-4C6D-8E9F-A0B1C2D3E4F5"}, false},
		{"a group with that GUID", Entry{Kind: EntryGroup, GUID: g}, true},
		{"odd GUID", Entry{Kind: EntryUser, GUID: "g-1"}, true},
		{"odd GUID again", Entry{Kind: EntryUser, GUID: "G-1"}, false},
		{"no GUID", Entry{Kind: EntryUser, DN: "CN=A,DC=x"}, true},
		{"no GUID, same DN spelt otherwise", Entry{Kind: EntryUser, DN: "cn=a, dc=X"}, false},
		{"no GUID, an OU at that DN", Entry{Kind: EntryOU, DN: "CN=A,DC=x"}, true},
	}
	for _, tc := range tests {
		if got := s.first(tc.e); got != tc.want {
			t.Errorf("%s: first = %v, want %v", tc.name, got, tc.want)
		}
	}
}
