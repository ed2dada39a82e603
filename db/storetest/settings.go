package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

func sampleSettings() bridge.Settings {
	return bridge.Settings{
		Connection: bridge.Connection{Host: "dc1.example.com", Port: 636, Security: bridge.SecurityLDAPS,
			BaseDN: "DC=example,DC=com", BindDN: "CN=svc,DC=example,DC=com", Password: "plaintext-secret", TimeoutSeconds: 30},
		OrganizationalUnits: bridge.OrganizationalUnits{Mode: bridge.OUSelected, Selected: []string{"OU=Corp,DC=example,DC=com"}},
		DistributionLists:   bridge.DistributionLists{Import: true},
		Users: bridge.UserRules{Mapping: bridge.MappingCustom,
			CustomMappings:  []bridge.CustomMapping{{SCIM: "title", LDAP: "extensionAttribute1"}},
			InclusionFilter: "(department=*)"},
		DeletionThreshold: bridge.DeletionThreshold{MaxCount: 500, MaxPercent: 20},
		Schedule: bridge.Schedule{Enabled: true, Frequency: bridge.FrequencyInterval, Every: &bridge.Every{Days: 3},
			Start: "2026-12-01T02:00", TimeZone: "Europe/Berlin"},
	}
}

var settingsTests = []test{
	{"NotConfigured", func(t *testing.T, s bridge.Store) {
		_, err := s.GetSettings(ctx(t), bridge.DefaultAccount)
		wantErr(t, "GetSettings", err, bridge.ErrNotConfigured)
	}},
	{"RoundTripKeepsSealedPasswordNotPlaintext", func(t *testing.T, s bridge.Store) {
		sealed := []byte{0x00, 0xff, 0x10, 'x', 0x00} // binary, NULs included
		in := bridge.StoredSettings{Settings: sampleSettings(), SealedPassword: sealed}
		noErr(t, "PutSettings", s.PutSettings(ctx(t), bridge.DefaultAccount, in))
		out, err := s.GetSettings(ctx(t), bridge.DefaultAccount)
		noErr(t, "GetSettings", err)
		if !bytes.Equal(out.SealedPassword, sealed) {
			t.Errorf("SealedPassword = %x, want %x", out.SealedPassword, sealed)
		}
		if out.Settings.Connection.Password != "" {
			t.Errorf("plaintext password was stored")
		}
		want := sampleSettings().Redacted()
		if out.Settings.Connection != want.Connection || out.Settings.Schedule.Every == nil ||
			out.Settings.Schedule.Every.Days != 3 || out.Settings.Users.CustomMappings[0] != want.Users.CustomMappings[0] ||
			out.Settings.OrganizationalUnits.Selected[0] != want.OrganizationalUnits.Selected[0] {
			t.Errorf("settings round trip:\n got %+v\nwant %+v", out.Settings, want)
		}
		if out.UpdatedAt.IsZero() {
			t.Errorf("UpdatedAt not set")
		}
	}},
	{"PutReplaces", func(t *testing.T, s bridge.Store) {
		noErr(t, "PutSettings", s.PutSettings(ctx(t), bridge.DefaultAccount, bridge.StoredSettings{Settings: sampleSettings(), SealedPassword: []byte("one")}))
		next := sampleSettings()
		next.Connection.Host = "dc2.example.com"
		at := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
		noErr(t, "PutSettings again", s.PutSettings(ctx(t), bridge.DefaultAccount, bridge.StoredSettings{Settings: next, SealedPassword: nil, UpdatedAt: at}))
		out, err := s.GetSettings(ctx(t), bridge.DefaultAccount)
		noErr(t, "GetSettings", err)
		if out.Settings.Connection.Host != "dc2.example.com" || len(out.SealedPassword) != 0 || !sameTime(out.UpdatedAt, at) {
			t.Errorf("after replace: host %q sealed %q updated %v", out.Settings.Connection.Host, out.SealedPassword, out.UpdatedAt)
		}
	}},
	{"UnknownAccount", func(t *testing.T, s bridge.Store) {
		err := s.PutSettings(ctx(t), "nope", bridge.StoredSettings{Settings: sampleSettings()})
		wantErr(t, "PutSettings(nope)", err, bridge.ErrNotFound)
	}},
	{"PerAccount", func(t *testing.T, s bridge.Store) {
		mustAccount(t, s, "acme")
		noErr(t, "PutSettings", s.PutSettings(ctx(t), "acme", bridge.StoredSettings{Settings: sampleSettings()}))
		_, err := s.GetSettings(ctx(t), bridge.DefaultAccount)
		wantErr(t, "GetSettings(default)", err, bridge.ErrNotConfigured)
	}},
}
