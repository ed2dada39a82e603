// Package reliability holds scimbridge's cross-package fault, bad-input and
// security tests: a sync against a Samba AD or an adsim server behind a TCP
// proxy the test cuts or freezes, PostgreSQL connections killed during an
// apply, the built binary killed with SIGKILL and stopped with SIGTERM, SQL
// and LDAP injection, oversized and malformed requests, secrets in logs and
// rate-limited authentication failures. It has no code of its own; see
// docs/reliability.md for what each test does and what it proves.
package reliability
