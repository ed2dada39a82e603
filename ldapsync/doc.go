// Package ldapsync reads an Active Directory over LDAP and implements
// bridge.Directory. It knows LDAP and AD (paged results, ranged retrieval,
// objectGUID byte order, FILETIME, groupType bits) and nothing about SCIM or
// the database.
//
// A Directory holds one bound connection and is not safe for concurrent use:
// the engine reads one scope at a time.
package ldapsync
