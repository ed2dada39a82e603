package bridge

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Problem is one thing wrong with a submitted document.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every problem of a document at once, so an admin
// fixes them in one round trip. It matches ErrInvalid with errors.Is.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		if p.Field == "" {
			parts[i] = p.Message
		} else {
			parts[i] = p.Field + ": " + p.Message
		}
	}
	return "invalid settings: " + strings.Join(parts, "; ")
}

func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// LDAPSyntax checks LDAP strings; ldapsync.Syntax implements it with go-ldap's
// parsers so validation and the real searches agree.
type LDAPSyntax interface {
	CheckFilter(filter string) error
	CheckDN(dn string) error
	// CheckFilter and CheckDN return one sentence naming the bad value.
	// DNWithin reports whether dn equals base or lies under it (case-insensitive, by RDN).
	DNWithin(dn, base string) bool
}

var (
	hostPattern     = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.\-]*[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$`)
	attrNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9\-]*$`)
)

// Validate checks the whole document and returns a *ValidationError listing
// every problem, or nil. havePassword says whether a password is already
// stored, so an update may leave the write-only password out.
func (s Settings) Validate(syn LDAPSyntax, havePassword bool) error {
	var v validator
	c := s.Connection
	switch {
	case c.Host == "":
		v.add("connection.host", "is required")
	case !hostPattern.MatchString(c.Host):
		v.add("connection.host", fmt.Sprintf("%q is not a host name or IP address (leave out ldap:// and the port)", c.Host))
	}
	if c.Port < 1 || c.Port > 65535 {
		v.add("connection.port", fmt.Sprintf("%d is not a TCP port (1-65535)", c.Port))
	}
	switch c.Security {
	case SecurityNone, SecurityStartTLS, SecurityLDAPS:
	default:
		v.add("connection.security", fmt.Sprintf("%q is not one of none, starttls, ldaps", c.Security))
	}
	if c.CACertificate != "" {
		if err := checkPEMCertificates(c.CACertificate); err != nil {
			v.add("connection.caCertificate", err.Error())
		}
		if c.Security == SecurityNone {
			v.add("connection.caCertificate", "is only used with security starttls or ldaps")
		}
	}
	if c.InsecureSkipVerify && c.Security == SecurityNone {
		v.add("connection.insecureSkipVerify", "is only meaningful with security starttls or ldaps")
	}
	v.dn(syn, "connection.baseDn", c.BaseDN, true)
	v.dn(syn, "connection.bindDn", c.BindDN, true)
	if c.Password == "" && !havePassword {
		v.add("connection.password", "is required (it is write-only: it is stored encrypted and never shown)")
	}
	if c.TimeoutSeconds < 1 || c.TimeoutSeconds > 600 {
		v.add("connection.timeoutSeconds", fmt.Sprintf("%d is outside 1-600 seconds", c.TimeoutSeconds))
	}

	ou := s.OrganizationalUnits
	switch ou.Mode {
	case OUAll, OUNone:
		if len(ou.Selected) > 0 {
			v.add("organizationalUnits.selected", fmt.Sprintf("must be empty when mode is %q", ou.Mode))
		}
	case OUSelected:
		if len(ou.Selected) == 0 {
			v.add("organizationalUnits.selected", `lists no OU; pick at least one, or use mode "all" or "none"`)
		}
		for i, dn := range ou.Selected {
			field := fmt.Sprintf("organizationalUnits.selected[%d]", i)
			if v.dn(syn, field, dn, true) && c.BaseDN != "" && syn.CheckDN(c.BaseDN) == nil && !syn.DNWithin(dn, c.BaseDN) {
				v.add(field, fmt.Sprintf("%q is not under the base DN %q", dn, c.BaseDN))
			}
		}
	default:
		v.add("organizationalUnits.mode", fmt.Sprintf("%q is not one of all, selected, none", ou.Mode))
	}

	u := s.Users
	switch u.Mapping {
	case MappingDefault:
		if len(u.CustomMappings) > 0 {
			v.add("users.customMappings", `are ignored unless mapping is "custom"`)
		}
	case MappingCustom:
	default:
		v.add("users.mapping", fmt.Sprintf("%q is not one of default, custom", u.Mapping))
	}
	seen := map[string]int{}
	for i, m := range u.CustomMappings {
		field := fmt.Sprintf("users.customMappings[%d]", i)
		path, err := CanonicalUserPath(m.SCIM)
		if err != nil {
			v.add(field+".scim", err.Error())
		} else if j, dup := seen[strings.ToLower(path)]; dup {
			v.add(field+".scim", fmt.Sprintf("%q is already mapped by customMappings[%d]", m.SCIM, j))
		} else {
			seen[strings.ToLower(path)] = i
			if IsReadOnlyUserPath(path) {
				v.add(field+".scim", fmt.Sprintf("%q is set by scimbridge itself and cannot be mapped", m.SCIM))
			}
		}
		switch {
		case m.LDAP == "" && m.Value == "":
			v.add(field, `needs "ldap" (an LDAP attribute) or "value" (a constant)`)
		case m.LDAP != "" && m.Value != "":
			v.add(field, `has both "ldap" and "value"; give one`)
		case m.LDAP != "" && !attrNamePattern.MatchString(m.LDAP):
			v.add(field+".ldap", fmt.Sprintf("%q is not an LDAP attribute name", m.LDAP))
		}
	}
	v.filter(syn, "users.inclusionFilter", u.InclusionFilter)
	v.filter(syn, "users.exclusionFilter", u.ExclusionFilter)

	d := s.DeletionThreshold
	if d.MaxCount < 0 {
		v.add("deletionThreshold.maxCount", "cannot be negative")
	}
	if d.MaxPercent < 0 || d.MaxPercent > 100 {
		v.add("deletionThreshold.maxPercent", fmt.Sprintf("%d is outside 0-100", d.MaxPercent))
	}
	for _, p := range s.Schedule.problems() {
		v.problems = append(v.problems, p)
	}
	return v.err()
}

type validator struct{ problems []Problem }

func (v *validator) add(field, msg string) { v.problems = append(v.problems, Problem{field, msg}) }

func (v *validator) dn(syn LDAPSyntax, field, dn string, required bool) bool {
	if dn == "" {
		if required {
			v.add(field, "is required")
		}
		return false
	}
	if err := syn.CheckDN(dn); err != nil {
		v.add(field, err.Error()) // the checker's sentence names the DN
		return false
	}
	return true
}

func (v *validator) filter(syn LDAPSyntax, field, f string) {
	if f == "" {
		return
	}
	if err := syn.CheckFilter(f); err != nil {
		v.add(field, err.Error()) // the checker's sentence names the filter
	}
}

func (v *validator) err() error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems}
}

func checkPEMCertificates(data string) error {
	rest := []byte(data)
	n := 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("holds a certificate that does not parse: %v", err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	return nil
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// ScheduleStartLayout is the layout of Schedule.Start: a local date and time.
const ScheduleStartLayout = "2006-01-02T15:04"

func (s Schedule) problems() []Problem {
	var v validator
	if s.TimeZone != "" {
		if _, err := time.LoadLocation(s.TimeZone); err != nil {
			v.add("schedule.timeZone", fmt.Sprintf("%q is not an IANA time zone", s.TimeZone))
		}
	}
	if s.Start != "" {
		if _, err := time.Parse(ScheduleStartLayout, s.Start); err != nil {
			v.add("schedule.start", fmt.Sprintf("%q is not a local date and time like 2026-12-01T02:00", s.Start))
		}
	}
	if !s.Enabled && s.Frequency == "" {
		return v.problems
	}
	if s.Start == "" {
		v.add("schedule.start", "is required")
	}
	switch s.Frequency {
	case FrequencyDaily:
	case FrequencyWeekly:
		if _, ok := weekdays[strings.ToLower(s.Weekday)]; !ok {
			v.add("schedule.weekday", fmt.Sprintf("%q is not a weekday (monday ... sunday)", s.Weekday))
		}
	case FrequencyMonthly:
		if s.DayOfMonth < 1 || s.DayOfMonth > 31 {
			v.add("schedule.dayOfMonth", fmt.Sprintf("%d is outside 1-31", s.DayOfMonth))
		}
	case FrequencyInterval:
		switch {
		case s.Every == nil || (s.Every.Days == 0 && s.Every.Weeks == 0):
			v.add("schedule.every", `needs {"days": N} or {"weeks": N}`)
		case s.Every.Days != 0 && s.Every.Weeks != 0:
			v.add("schedule.every", "has both days and weeks; give one")
		case s.Every.Days < 0 || s.Every.Weeks < 0:
			v.add("schedule.every", "must be positive")
		}
	default:
		v.add("schedule.frequency", fmt.Sprintf("%q is not one of daily, weekly, monthly, interval", s.Frequency))
	}
	return v.problems
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
