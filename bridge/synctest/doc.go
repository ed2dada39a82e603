// Package synctest tests the sync engine end to end: bridge.Engine with the
// real db Store (SQLite, and PostgreSQL in a database created and dropped
// per test) reading a real LDAP server through ldapsync, either adsim's
// AD-shaped sample tree or the Samba AD lab (scripts/samba-lab.sh). It has
// no non-test code.
package synctest
