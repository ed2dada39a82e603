package adsim

import (
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Controls adsim advertises: it implements paged results and Show Deleted
// and nothing else of AD's list, and says so, so clients' feature
// detection is tested.
var supportedControls = []string{"1.2.840.113556.1.4.319", OIDShowDeleted}

func (s *Server) dsServiceName() string {
	return "CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration," + s.opts.BaseDN
}

func (s *Server) rootDSE() *stored {
	e := &stored{attrs: map[string]*attr{}}
	e.set("defaultNamingContext", []string{s.opts.BaseDN})
	e.set("rootDomainNamingContext", []string{s.opts.BaseDN})
	e.set("configurationNamingContext", []string{"CN=Configuration," + s.opts.BaseDN})
	e.set("dnsHostName", []string{s.opts.DNSHostName})
	e.set("dsServiceName", []string{s.dsServiceName()})
	e.set("highestCommittedUSN", []string{strconv.FormatInt(s.HighestCommittedUSN(), 10)})
	e.set("supportedControl", supportedControls)
	e.set("supportedLDAPVersion", []string{"3", "2"})
	e.set("isSynchronized", []string{"TRUE"})
	return e
}

// domainOf turns DC=example,DC=com into example.com.
func domainOf(base string) string {
	d, err := ldap.ParseDN(base)
	if err != nil {
		return "example.com"
	}
	var parts []string
	for _, r := range d.RDNs {
		for _, a := range r.Attributes {
			if strings.EqualFold(a.Type, "DC") {
				parts = append(parts, strings.ToLower(a.Value))
			}
		}
	}
	if len(parts) == 0 {
		return "example.com"
	}
	return strings.Join(parts, ".")
}
