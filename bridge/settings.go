package bridge

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Settings is the directory settings document of one account, exactly as
// `scimbridge directory set` and PUT /api/v1/accounts/{a}/directory accept
// it. Keep the JSON names stable: scripts depend on them.
type Settings struct {
	Connection          Connection          `json:"connection"`
	OrganizationalUnits OrganizationalUnits `json:"organizationalUnits"`
	DistributionLists   DistributionLists   `json:"distributionLists"`
	Users               UserRules           `json:"users"`
	DeletionThreshold   DeletionThreshold   `json:"deletionThreshold"`
	Schedule            Schedule            `json:"schedule"`
}

// Security is how the LDAP connection is protected.
type Security string

const (
	SecurityNone     Security = "none"
	SecurityStartTLS Security = "starttls"
	SecurityLDAPS    Security = "ldaps"
)

// Connection says how to reach and bind to the domain controller.
type Connection struct {
	Host               string   `json:"host"`
	Port               int      `json:"port"`
	Security           Security `json:"security"`
	CACertificate      string   `json:"caCertificate,omitempty"`
	InsecureSkipVerify bool     `json:"insecureSkipVerify,omitempty"`
	BaseDN             string   `json:"baseDn"`
	BindDN             string   `json:"bindDn"`
	// Password is write-only: it is accepted on input, stored encrypted, and
	// never serialised back (see Settings.Redacted).
	Password       string `json:"password,omitempty"`
	TimeoutSeconds int    `json:"timeoutSeconds,omitempty"`
}

// Timeout returns the per-operation timeout, 30 s when unset.
func (c Connection) Timeout() time.Duration {
	if c.TimeoutSeconds <= 0 {
		return 30 * time.Second
	}
	return time.Duration(c.TimeoutSeconds) * time.Second
}

// OUMode selects which OUs are read and whether they become groups.
type OUMode string

const (
	OUAll      OUMode = "all"      // whole base DN, every OU becomes a group
	OUSelected OUMode = "selected" // only the selected subtrees, OUs become groups
	OUNone     OUMode = "none"     // whole base DN, no OU groups
)

type OrganizationalUnits struct {
	Mode     OUMode   `json:"mode"`
	Selected []string `json:"selected,omitempty"`
}

type DistributionLists struct {
	Import bool `json:"import"`
}

// MappingMode is "default" (the table in DESIGN.md) or "custom" (the default
// table overridden or extended per SCIM path by CustomMappings).
type MappingMode string

const (
	MappingDefault MappingMode = "default"
	MappingCustom  MappingMode = "custom"
)

// CustomMapping maps an LDAP attribute, or a constant Value, to a SCIM path.
type CustomMapping struct {
	SCIM  string `json:"scim"`
	LDAP  string `json:"ldap,omitempty"`
	Value string `json:"value,omitempty"`
}

type UserRules struct {
	Mapping         MappingMode     `json:"mapping"`
	CustomMappings  []CustomMapping `json:"customMappings,omitempty"`
	InclusionFilter string          `json:"inclusionFilter,omitempty"`
	ExclusionFilter string          `json:"exclusionFilter,omitempty"`
}

// DeletionThreshold holds a run that would delete more than MaxCount objects
// or more than MaxPercent of the account's live objects.
type DeletionThreshold struct {
	MaxCount   int `json:"maxCount"`
	MaxPercent int `json:"maxPercent"`
}

// Default deletion threshold, in line with peers (Entra Connect: 500).
const (
	DefaultDeletionMaxCount   = 500
	DefaultDeletionMaxPercent = 20
)

// Frequency of a schedule.
type Frequency string

const (
	FrequencyDaily    Frequency = "daily"
	FrequencyWeekly   Frequency = "weekly"
	FrequencyMonthly  Frequency = "monthly"
	FrequencyInterval Frequency = "interval"
)

type Every struct {
	Days  int `json:"days,omitempty"`
	Weeks int `json:"weeks,omitempty"`
}

type Schedule struct {
	Enabled    bool      `json:"enabled"`
	Frequency  Frequency `json:"frequency,omitempty"`
	Weekday    string    `json:"weekday,omitempty"`
	DayOfMonth int       `json:"dayOfMonth,omitempty"`
	Every      *Every    `json:"every,omitempty"`
	// Start is a local date and time, "2006-01-02T15:04", in TimeZone.
	Start    string `json:"start,omitempty"`
	TimeZone string `json:"timeZone,omitempty"`
}

// WithDefaults fills the values a document may leave out.
func (s Settings) WithDefaults() Settings {
	if s.Connection.Security == "" {
		s.Connection.Security = SecurityLDAPS
	}
	if s.Connection.Port == 0 {
		switch s.Connection.Security {
		case SecurityLDAPS:
			s.Connection.Port = 636
		default:
			s.Connection.Port = 389
		}
	}
	if s.Connection.TimeoutSeconds == 0 {
		s.Connection.TimeoutSeconds = 30
	}
	if s.OrganizationalUnits.Mode == "" {
		s.OrganizationalUnits.Mode = OUAll
	}
	if s.Users.Mapping == "" {
		s.Users.Mapping = MappingDefault
	}
	if s.DeletionThreshold.MaxCount == 0 {
		s.DeletionThreshold.MaxCount = DefaultDeletionMaxCount
	}
	if s.DeletionThreshold.MaxPercent == 0 {
		s.DeletionThreshold.MaxPercent = DefaultDeletionMaxPercent
	}
	if s.Schedule.TimeZone == "" {
		s.Schedule.TimeZone = "UTC"
	}
	return s
}

// Redacted returns a copy without the password, for display.
func (s Settings) Redacted() Settings {
	s.Connection.Password = ""
	return s
}

// Scope turns the settings into the part of the directory a sync reads.
func (s Settings) Scope() Scope {
	sc := Scope{
		BaseDN:            s.Connection.BaseDN,
		InclusionFilter:   s.Users.InclusionFilter,
		ExclusionFilter:   s.Users.ExclusionFilter,
		DistributionLists: s.DistributionLists.Import,
	}
	if s.OrganizationalUnits.Mode == OUSelected {
		sc.Subtrees = append([]string(nil), s.OrganizationalUnits.Selected...)
	}
	return sc
}

// ImportsOUs reports whether OUs become SCIM groups.
func (s Settings) ImportsOUs() bool { return s.OrganizationalUnits.Mode != OUNone }

// ParseSettings decodes a settings document, refusing unknown fields so a
// misspelt key is an error and not a silently ignored setting, and
// anything after the document (a second document, stray text) so that
// what is saved is exactly what was written.
func ParseSettings(data []byte) (Settings, error) {
	var s Settings
	dec := json.NewDecoder(bytesReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Settings{}, &ValidationError{Problems: []Problem{{Field: "", Message: "the document is not valid JSON for directory settings: " + err.Error()}}}
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return Settings{}, &ValidationError{Problems: []Problem{{Field: "",
			Message: fmt.Sprintf("the document must be one JSON object, but more follows it (after byte %d)", end)}}}
	}
	return s, nil
}
