package bridge

import (
	"slices"
	"testing"
)

func TestIDMap(t *testing.T) {
	const (
		guid = "0f8fad5b-d9cb-469f-a165-70867728950e"
		id   = "01a224dc-2088-7e1f-90b1-bb20de7cca9b"
	)
	tests := []struct {
		name     string
		key, val string
	}{
		{"both canonical", guid, id},
		{"odd objectGUID", "not-a-guid", id},
		{"odd id", "7c9e6679-7425-40de-944b-e07fc1f90ae7", "id-from-elsewhere"},
		{"upper-case id kept as written", "a5c3c4f2-3b5e-4a38-9a7e-0a1c2b3d4e5f", "01A224DC-2088-7E1F-90B1-BB20DE7CCA9B"},
	}
	m := newIDMap()
	for _, tt := range tests {
		m.set(tt.key, tt.val)
	}
	var keys []string
	m.each(func(g string) { keys = append(keys, g) })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, ok := m.get(tt.key); !ok || got != tt.val {
				t.Errorf("get(%q) = %q, %v; want %q", tt.key, got, ok, tt.val)
			}
			if !slices.Contains(keys, tt.key) {
				t.Errorf("each did not give %q (gave %v)", tt.key, keys)
			}
		})
	}
	if len(keys) != len(tests) {
		t.Errorf("each gave %d keys, want %d", len(keys), len(tests))
	}
	if _, ok := m.get("1b4e28ba-2fa1-11d2-883f-0016d3cca427"); ok {
		t.Error("get found a key never set")
	}
	// A key set again with an odd id keeps one answer.
	m.set(guid, "odd")
	if got, _ := m.get(guid); got != "odd" {
		t.Errorf("after a second set: %q, want odd", got)
	}
}
