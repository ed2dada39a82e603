// Package bridge is the domain of scimbridge: the types (User, Group, Run,
// Plan), the Directory and Store interfaces, sentinel errors, the directory
// settings document, the sync engine and the scheduler.
//
// It imports no adapter. ldapsync implements Directory, db implements Store,
// scimapi serves through these interfaces, and only cmd/scimbridge wires them.
package bridge
