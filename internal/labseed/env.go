package labseed

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// DefaultEnvFile is where scripts/samba-lab.sh writes the lab's coordinates
// when SCIMBRIDGE_LAB_DIR is not set.
const DefaultEnvFile = "/var/tmp/scimbridge-lab/env"

// Lab holds the coordinates of a running lab, as written to $LAB_DIR/env.
type Lab struct {
	Host          string // SCIMBRIDGE_LAB_HOST, 127.0.0.1
	Port          int    // SCIMBRIDGE_LAB_PORT, plain LDAP (StartTLS capable)
	LDAPSPort     int    // SCIMBRIDGE_LAB_LDAPS_PORT
	BaseDN        string // SCIMBRIDGE_LAB_BASE_DN
	Realm         string // SCIMBRIDGE_LAB_REALM
	BindDN        string // SCIMBRIDGE_LAB_BIND_DN, svc-scim
	Password      string // SCIMBRIDGE_LAB_PASSWORD
	AdminDN       string // SCIMBRIDGE_LAB_ADMIN_DN, for tests that write
	AdminPassword string // SCIMBRIDGE_LAB_ADMIN_PASSWORD
	CAFile        string // SCIMBRIDGE_LAB_CA_FILE, verifies the server certificate
	WrongCAFile   string // SCIMBRIDGE_LAB_WRONG_CA_FILE, must not verify it
	Users         int    // SCIMBRIDGE_LAB_USERS, the seed size N
	Dir           string // SCIMBRIDGE_LAB_DIR
}

// URL returns ldap://host:port.
func (l Lab) URL() string { return fmt.Sprintf("ldap://%s:%d", l.Host, l.Port) }

// LDAPSURL returns ldaps://host:ldapsport.
func (l Lab) LDAPSURL() string { return fmt.Sprintf("ldaps://%s:%d", l.Host, l.LDAPSPort) }

// Seed returns the seed the lab was built from.
func (l Lab) Seed() *Seed { return New(l.BaseDN, l.Users) }

// LabFromEnv reads the lab from the process environment (source the env
// file first). ok is false when SCIMBRIDGE_LAB_HOST is unset: integration
// tests skip then.
func LabFromEnv() (lab Lab, ok bool, err error) {
	if os.Getenv("SCIMBRIDGE_LAB_HOST") == "" {
		return Lab{}, false, nil
	}
	lab, err = parseLab(os.Getenv)
	return lab, err == nil, err
}

// ReadLabFile reads an env file written by scripts/samba-lab.sh.
func ReadLabFile(path string) (Lab, error) {
	f, err := os.Open(path)
	if err != nil {
		return Lab{}, err
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		if k, v, ok := strings.Cut(line, "="); ok {
			vars[k] = strings.Trim(v, `'"`)
		}
	}
	if err := sc.Err(); err != nil {
		return Lab{}, err
	}
	return parseLab(func(k string) string { return vars[k] })
}

func parseLab(get func(string) string) (Lab, error) {
	l := Lab{
		Host: get("SCIMBRIDGE_LAB_HOST"), BaseDN: get("SCIMBRIDGE_LAB_BASE_DN"), Realm: get("SCIMBRIDGE_LAB_REALM"),
		BindDN: get("SCIMBRIDGE_LAB_BIND_DN"), Password: get("SCIMBRIDGE_LAB_PASSWORD"),
		AdminDN: get("SCIMBRIDGE_LAB_ADMIN_DN"), AdminPassword: get("SCIMBRIDGE_LAB_ADMIN_PASSWORD"),
		CAFile: get("SCIMBRIDGE_LAB_CA_FILE"), WrongCAFile: get("SCIMBRIDGE_LAB_WRONG_CA_FILE"),
		Dir: get("SCIMBRIDGE_LAB_DIR"),
	}
	var errs []string
	num := func(name string, dst *int) {
		v, err := strconv.Atoi(get(name))
		if err != nil {
			errs = append(errs, name+": "+err.Error())
		}
		*dst = v
	}
	num("SCIMBRIDGE_LAB_PORT", &l.Port)
	num("SCIMBRIDGE_LAB_LDAPS_PORT", &l.LDAPSPort)
	num("SCIMBRIDGE_LAB_USERS", &l.Users)
	if l.Host == "" || l.BaseDN == "" || l.BindDN == "" {
		errs = append(errs, "SCIMBRIDGE_LAB_HOST, _BASE_DN and _BIND_DN are required")
	}
	if len(errs) > 0 {
		return l, fmt.Errorf("labseed: bad lab env: %s", strings.Join(errs, "; "))
	}
	return l, nil
}
