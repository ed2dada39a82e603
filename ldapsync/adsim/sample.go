package adsim

import "time"

// SampleFacts describes SampleTree, for tests and the demo's output.
type SampleFacts struct {
	Users          int // person users, the service account included
	SecurityGroups int
	Distribution   int
	OUs            int
	ServiceDN      string // the bind account; its password is SamplePassword
	DisabledUser   string
	ExpiredUser    string
	NestedGroup    string // a group whose members include another group
	EmptyGroup     string
	DistGroup      string
	Computer       string // objectClass user but not a person: never a SCIM user
}

// SamplePassword is the service account's password in SampleTree.
const SamplePassword = "Demo-Passw0rd!"

// SampleTree builds a small AD-shaped directory under baseDN for the demo
// and for tests: OU=Corp with Engineering/Backend and Sales, 24 people with
// every default-mapping attribute and managers, a disabled and an expired
// user, global / domain-local / universal security groups, a distribution
// group, a nested group, an empty group, a computer and a service account.
// It is deterministic: same DNs, GUIDs and USNs every time.
func SampleTree(baseDN string) ([]Entry, SampleFacts) {
	var es []Entry
	add := func(e Entry) string { es = append(es, e); return e.DN }

	add(Domain(baseDN))
	users := add(Entry{DN: "CN=Users," + baseDN, Attrs: map[string][]string{
		"objectClass": {"top", "container"}, "cn": {"Users"}, "name": {"Users"},
		"objectGUID": {string(GUIDFor("CN=Users," + baseDN))},
	}})
	corp := add(OU(baseDN, "Corp"))
	eng := add(OU(corp, "Engineering"))
	backend := add(OU(eng, "Backend"))
	sales := add(OU(corp, "Sales"))
	groups := add(OU(corp, "Groups"))
	svcOU := add(OU(baseDN, "Service Accounts"))

	addr := func(p Person) Person {
		p.Company = "Example Corp"
		if p.City == "" {
			p.City, p.Street, p.PostalCode, p.Office = "Berlin", "Friedrichstrasse 1", "10117", "BER-1"
			p.Country, p.CountryCode = "Germany", "DE"
		}
		return p
	}
	var n int
	person := func(parent string, p Person) string {
		n++
		p.EmployeeID = "E" + pad4(n)
		p.Phone = "+49 30 5550" + pad4(n)
		p.Mobile = "+49 170 5551" + pad4(n)
		return add(User(baseDN, parent, addr(p)))
	}

	ceo := person(corp, Person{Given: "Ada", Surname: "Lovelace", Sam: "alovelace", Title: "Chief Executive Officer", Dept: "Management"})
	cto := person(eng, Person{Given: "Grace", Surname: "Hopper", Sam: "ghopper", Title: "VP Engineering", Dept: "Engineering", Manager: ceo})
	lead := person(backend, Person{Given: "Linus", Surname: "Torvalds", Sam: "ltorvalds", Title: "Backend Lead", Dept: "Engineering", Manager: cto})
	var backendDevs, engineers, sellers []string
	for _, p := range []Person{
		{Given: "Ken", Surname: "Thompson", Sam: "kthompson"},
		{Given: "Dennis", Surname: "Ritchie", Sam: "dritchie"},
		{Given: "Barbara", Surname: "Liskov", Sam: "bliskov"},
		{Given: "Rob", Surname: "Pike", Sam: "rpike"},
		{Given: "Frances", Surname: "Allen", Sam: "fallen"},
		{Given: "Leslie", Surname: "Lamport", Sam: "llamport"},
	} {
		p.Title, p.Dept, p.Manager = "Backend Engineer", "Engineering", lead
		backendDevs = append(backendDevs, person(backend, p))
	}
	for _, p := range []Person{
		{Given: "Margaret", Surname: "Hamilton", Sam: "mhamilton"},
		{Given: "Donald", Surname: "Knuth", Sam: "dknuth"},
		{Given: "Radia", Surname: "Perlman", Sam: "rperlman", City: "Munich", Street: "Marienplatz 8", PostalCode: "80331", Office: "MUC-2", Country: "Germany", CountryCode: "DE"},
		{Given: "Alan", Surname: "Kay", Sam: "akay"},
		{Given: "John", Surname: "Backus", Sam: "jbackus"},
	} {
		p.Title, p.Dept, p.Manager = "Software Engineer", "Engineering", cto
		engineers = append(engineers, person(eng, p))
	}
	salesHead := person(sales, Person{Given: "Mary", Surname: "Jackson", Sam: "mjackson", Title: "Head of Sales", Dept: "Sales", Manager: ceo,
		City: "Paris", Street: "1 Rue de Rivoli", PostalCode: "75001", Office: "PAR-1", Country: "France", CountryCode: "FR"})
	for _, p := range []Person{
		{Given: "Katherine", Surname: "Johnson", Sam: "kjohnson"},
		{Given: "Dorothy", Surname: "Vaughan", Sam: "dvaughan"},
		{Given: "Hedy", Surname: "Lamarr", Sam: "hlamarr"},
		{Given: "Annie", Surname: "Easley", Sam: "aeasley"},
		{Given: "Evelyn", Surname: "Boyd", Sam: "eboyd"},
		{Given: "Joan", Surname: "Clarke", Sam: "jclarke"},
	} {
		p.Title, p.Dept, p.Manager = "Account Executive", "Sales", salesHead
		p.City, p.Street, p.PostalCode, p.Office, p.Country, p.CountryCode = "Paris", "1 Rue de Rivoli", "75001", "PAR-1", "France", "FR"
		sellers = append(sellers, person(sales, p))
	}
	disabled := person(sales, Person{Given: "Charles", Surname: "Babbage", Sam: "cbabbage", Title: "Former Account Executive", Dept: "Sales",
		Manager: salesHead, UAC: UACNormal | UACDisabled})
	expired := person(eng, Person{Given: "Tim", Surname: "Berners-Lee", Sam: "tbernerslee", Title: "Contractor", Dept: "Engineering",
		Manager: cto, Expires: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)})
	svc := add(User(baseDN, svcOU, Person{Given: "svc", Surname: "scim", Sam: "svc-scim", Title: "Service account",
		UAC: UACNormal | UACDontExpirePassword}))
	// A computer: objectClass user, objectCategory Computer, never a person.
	computer := "CN=WS001," + users
	add(Entry{DN: computer, Attrs: map[string][]string{
		"objectClass":        {"top", "person", "organizationalPerson", "user", "computer"},
		"objectCategory":     {"CN=Computer,CN=Schema,CN=Configuration," + baseDN},
		"cn":                 {"WS001"},
		"sAMAccountName":     {"WS001$"},
		"userAccountControl": {"4096"},
		"objectGUID":         {string(GUIDFor(computer))},
	}})

	backendTeam := add(Group(groups, "Backend Team", GroupGlobalSecurity, append([]string{lead}, backendDevs...)...))
	engineering := add(Group(groups, "Engineering", GroupGlobalSecurity, append([]string{cto, expired, backendTeam}, engineers...)...))
	salesTeam := add(Group(groups, "Sales Team", GroupGlobalSecurity, append([]string{salesHead, disabled}, sellers...)...))
	add(Group(groups, "VPN Users", GroupDomainLocalSecurity, ceo, cto, lead, salesHead))
	add(Group(groups, "All Staff", GroupUniversalSecurity, ceo, engineering, salesTeam))
	dist := add(Group(groups, "Newsletter", GroupUniversalDistrib, ceo, sellers[0], sellers[1], engineers[0]))
	empty := add(Group(groups, "Empty Group", GroupGlobalSecurity))

	return es, SampleFacts{
		Users:          n + 1,
		SecurityGroups: 6,
		Distribution:   1,
		OUs:            6,
		ServiceDN:      svc,
		DisabledUser:   disabled,
		ExpiredUser:    expired,
		NestedGroup:    engineering,
		EmptyGroup:     empty,
		DistGroup:      dist,
		Computer:       computer,
	}
}

func pad4(n int) string {
	s := "0000" + itoa(n)
	return s[len(s)-4:]
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// NewSample starts a server loaded with SampleTree(baseDN), the service
// account as bind DN. The caller closes it.
func NewSample(baseDN string, opts Options) (*Server, SampleFacts, error) {
	entries, facts := SampleTree(baseDN)
	opts.BaseDN = baseDN
	opts.BindDN, opts.Password = facts.ServiceDN, SamplePassword
	s, err := New(opts)
	if err != nil {
		return nil, facts, err
	}
	if err := s.Add(entries...); err != nil {
		return nil, facts, err
	}
	if err := s.Start(); err != nil {
		return nil, facts, err
	}
	return s, facts, nil
}
