package bridge_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
)

func validSettings() bridge.Settings {
	return bridge.Settings{
		Connection: bridge.Connection{
			Host: "dc1.example.com", Security: bridge.SecurityLDAPS,
			BaseDN: "DC=example,DC=com", BindDN: "CN=svc,OU=Service,DC=example,DC=com", Password: "pw",
		},
	}.WithDefaults()
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name         string
		edit         func(s *bridge.Settings)
		havePassword bool
		want         []string // fields with a problem; none means valid
	}{
		{"valid defaults", func(s *bridge.Settings) {}, false, nil},
		{"password kept from before", func(s *bridge.Settings) { s.Connection.Password = "" }, true, nil},
		{"password required the first time", func(s *bridge.Settings) { s.Connection.Password = "" }, false, []string{"connection.password"}},
		{"host with a scheme", func(s *bridge.Settings) { s.Connection.Host = "ldaps://dc1" }, false, []string{"connection.host"}},
		{"IPv6 host", func(s *bridge.Settings) { s.Connection.Host = "::1" }, false, nil},
		{"port out of range", func(s *bridge.Settings) { s.Connection.Port = 0 }, false, []string{"connection.port"}},
		{"unknown security", func(s *bridge.Settings) { s.Connection.Security = "ssl" }, false, []string{"connection.security"}},
		{"CA that is not PEM", func(s *bridge.Settings) { s.Connection.CACertificate = "hello" }, false, []string{"connection.caCertificate"}},
		{"bad base DN", func(s *bridge.Settings) { s.Connection.BaseDN = "example.com" }, false, []string{"connection.baseDn"}},
		{"selected OU outside the base", func(s *bridge.Settings) {
			s.OrganizationalUnits = bridge.OrganizationalUnits{Mode: bridge.OUSelected, Selected: []string{"OU=Corp,DC=other,DC=com"}}
		}, false, []string{"organizationalUnits.selected[0]"}},
		{"selected OU inside the base, any case", func(s *bridge.Settings) {
			s.OrganizationalUnits = bridge.OrganizationalUnits{Mode: bridge.OUSelected, Selected: []string{"ou=Corp,dc=EXAMPLE,dc=com"}}
		}, false, nil},
		{"selected mode without OUs", func(s *bridge.Settings) { s.OrganizationalUnits.Mode = bridge.OUSelected }, false, []string{"organizationalUnits.selected"}},
		{"unknown OU mode", func(s *bridge.Settings) { s.OrganizationalUnits.Mode = "some" }, false, []string{"organizationalUnits.mode"}},
		{"custom mapping to a known path", func(s *bridge.Settings) {
			s.Users.Mapping = bridge.MappingCustom
			s.Users.CustomMappings = []bridge.CustomMapping{{SCIM: "title", LDAP: "extensionAttribute1"}, {SCIM: "userType", Value: "Employee"},
				{SCIM: `emails[type eq "home"]`, LDAP: "otherMailbox"}, {SCIM: bridge.SchemaEnterpriseUser + ":costCenter", LDAP: "extensionAttribute2"}}
		}, false, nil},
		{"custom mapping to an unknown path", func(s *bridge.Settings) {
			s.Users.Mapping = bridge.MappingCustom
			s.Users.CustomMappings = []bridge.CustomMapping{{SCIM: "shoeSize", LDAP: "extensionAttribute1"}}
		}, false, []string{"users.customMappings[0].scim"}},
		{"custom mapping to a path scimbridge sets", func(s *bridge.Settings) {
			s.Users.Mapping = bridge.MappingCustom
			s.Users.CustomMappings = []bridge.CustomMapping{{SCIM: "active", Value: "true"}}
		}, false, []string{"users.customMappings[0].scim"}},
		{"custom mapping with both ldap and value", func(s *bridge.Settings) {
			s.Users.Mapping = bridge.MappingCustom
			s.Users.CustomMappings = []bridge.CustomMapping{{SCIM: "title", LDAP: "title", Value: "x"}}
		}, false, []string{"users.customMappings[0]"}},
		{"the same path mapped twice", func(s *bridge.Settings) {
			s.Users.Mapping = bridge.MappingCustom
			s.Users.CustomMappings = []bridge.CustomMapping{{SCIM: "title", LDAP: "title"}, {SCIM: "TITLE", LDAP: "description"}}
		}, false, []string{"users.customMappings[1].scim"}},
		{"filters with injection-looking values compile", func(s *bridge.Settings) {
			s.Users.InclusionFilter = `(cn=a\2a\28\29\5c)`
		}, false, nil},
		{"unbalanced inclusion filter", func(s *bridge.Settings) { s.Users.InclusionFilter = "(department=*" }, false, []string{"users.inclusionFilter"}},
		{"exclusion filter without parentheses", func(s *bridge.Settings) { s.Users.ExclusionFilter = "title=x)" }, false, []string{"users.exclusionFilter"}},
		{"threshold percent over 100", func(s *bridge.Settings) { s.DeletionThreshold.MaxPercent = 150 }, false, []string{"deletionThreshold.maxPercent"}},
		{"weekly schedule without weekday", func(s *bridge.Settings) {
			s.Schedule = bridge.Schedule{Enabled: true, Frequency: bridge.FrequencyWeekly, Start: "2026-12-01T02:00", TimeZone: "Europe/Berlin"}
		}, false, []string{"schedule.weekday"}},
		{"interval with days and weeks", func(s *bridge.Settings) {
			s.Schedule = bridge.Schedule{Enabled: true, Frequency: bridge.FrequencyInterval, Every: &bridge.Every{Days: 1, Weeks: 1}, Start: "2026-12-01T02:00"}
		}, false, []string{"schedule.every"}},
		{"monthly on the 31st", func(s *bridge.Settings) {
			s.Schedule = bridge.Schedule{Enabled: true, Frequency: bridge.FrequencyMonthly, DayOfMonth: 31, Start: "2026-12-01T02:00", TimeZone: "America/New_York"}
		}, false, nil},
		{"every problem at once", func(s *bridge.Settings) {
			s.Connection.Host, s.Connection.Port, s.Users.InclusionFilter = "", -1, "("
		}, false, []string{"connection.host", "connection.port", "users.inclusionFilter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSettings()
			tt.edit(&s)
			err := s.Validate(ldapsync.Syntax{}, tt.havePassword)
			var got []string
			if err != nil {
				ve, ok := err.(*bridge.ValidationError)
				if !ok {
					t.Fatalf("error %T is not a *ValidationError", err)
				}
				for _, p := range ve.Problems {
					got = append(got, p.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("problems in %v, want %v (%v)", got, tt.want, err)
			}
		})
	}
}

func TestParseSettingsRefusesUnknownFields(t *testing.T) {
	_, err := bridge.ParseSettings([]byte(`{"connection": {"hostname": "dc1"}}`))
	if err == nil || !strings.Contains(err.Error(), "hostname") {
		t.Fatalf("a misspelt key was accepted: %v", err)
	}
}
