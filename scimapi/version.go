package scimapi

import (
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/bridge"
)

// Resource versions (meta.version, ETag, If-Match, If-None-Match).
//
// A user's representation includes its groups (id and display name of
// each group it is a direct member of), which change without the users
// row being written: a sync or a SCIM PATCH on a Group adds or removes
// the user, a group is renamed or deleted. Bumping users.version on each
// of those would cost the sync a write per member added (100,000 on a
// first sync), so the version is derived at read time instead: the row
// version, then 8 hex digits digesting the groups, "<version>.<digest>".
// A user in no groups keeps the plain "<version>", the form clients saw
// before.
//
// A group's representation holds its members' ids and types only (no
// display names), and every membership change bumps groups.version (the
// sync re-upserts a group whose members changed, its content hash covers
// them; SCIM writes bump it), so a group's version is its row version.

// fnv-1a, 64 bits: a fixed function (not hash/maphash, which is seeded per
// process), so every process and replica derives the same version.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// groupsDigest digests the (id, display name) pairs of groups. It is the
// sum of one hash per group, so it does not depend on their order: the
// fast path orders them in Go, the map path in SQL under the database's
// collation. It does not cover $ref, which depends on the request's host,
// nor type, which is always "direct".
func groupsDigest(groups []bridge.GroupRef) uint32 {
	var sum uint64
	for _, g := range groups {
		h := fnvString(fnvOffset64, g.ID)
		h *= fnvPrime64 // a NUL byte between the two (h ^= 0 is a no-op)
		sum += fnvString(h, g.DisplayName)
	}
	return uint32(sum ^ sum>>32)
}

// userVersion is the version of a user whose row version is v and whose
// live groups are groups (all of them, whatever the response shows).
func userVersion(v int64, groups []bridge.GroupRef) string {
	s := strconv.FormatInt(v, 10)
	if len(groups) == 0 {
		return s
	}
	const hex = "0123456789abcdef"
	d := groupsDigest(groups)
	var b [9]byte
	b[0] = '.'
	for i := 8; i >= 1; i-- {
		b[i] = hex[d&0xf]
		d >>= 4
	}
	return s + string(b[:])
}

// groupVersion is the version of a group whose row version is v.
func groupVersion(v int64) string { return strconv.FormatInt(v, 10) }

// etag is the weak entity tag of a version, as meta.version and the ETag
// header carry it.
func etag(version string) string { return `W/"` + version + `"` }

// matchesETag reports whether an If-Match / If-None-Match header value
// names version: "*" or a list of (weak or strong) tags.
func matchesETag(header, version string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		t = strings.TrimPrefix(t, "W/")
		if strings.Trim(t, `"`) == version {
			return true
		}
	}
	return false
}
