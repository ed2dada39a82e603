// Package adsim is an in-process LDAP server shaped like Active Directory,
// for tests and for `scimbridge demo`. It serves an in-memory tree with
// simple bind, base/one/subtree searches with real filter evaluation
// (including AD's bit-AND/OR matching rules and objectCategory=person), the
// paged-results control, StartTLS or LDAPS, and AD's two limits that
// clients most often get wrong: MaxPageSize (1000 entries per page, and
// sizeLimitExceeded for an unpaged search that matches more) and
// MaxValRange (1500 values of member per answer, the rest through
// "member;range=1500-*").
//
// It is not AD: no schema, no ACLs beyond "bound or not", no replication.
package adsim
