package scimapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"sync"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/scimbridge/scimbridge/scimapi/auth"
)

// Cursor tokens (RFC 9865). A nextCursor is the position of the page's last
// row in the query's order (its sort key and id, db/scim_cursor.go), with
// the time it was issued, the total the walk began with (for a filtered
// query, whose count is read once), and a fingerprint of the account,
// resource type, filter, sortBy and sortOrder it belongs to; all of it
// signed with HMAC-SHA-256 and written in base64url (RFC 3986 unreserved
// characters only).
//
// The signing key is derived from the stored hash of the bearer token that
// asked for the page, so every replica sharing the database checks the
// same cursors without a key to configure, and a cursor works only with
// the token it was issued to: another token's cursor, a forged or an
// altered one, is invalidCursor, never another account's rows (the query
// is always bound to the requesting token's account besides). A cursor of
// the same token for another filter or sort is invalidCursor too; one
// older than cursorTimeout is expiredCursor.

// Cursor pagination limits, advertised in /ServiceProviderConfig.
const (
	// cursorTimeout is how long, in seconds, a nextCursor stays valid.
	// Nothing is kept per cursor: the bound only limits replay.
	cursorTimeout = 3600
	// cursorSkew tolerates replicas whose clocks disagree.
	cursorSkew = 5 * time.Minute
)

const (
	cursorVersion = 1
	cursorMACLen  = 16
	cursorFPLen   = 8
	// maxCursorLen bounds what is decoded: a sort key is a userName, a
	// display name, a DN at most.
	maxCursorLen = 4096
)

// RFC 9865 section 2.1 error types, beside RFC 7644's.
const (
	scimTypeInvalidCursor scimerrors.ScimType = "invalidCursor"
	scimTypeExpiredCursor scimerrors.ScimType = "expiredCursor"
	scimTypeInvalidCount  scimerrors.ScimType = "invalidCount"
)

var (
	errCursorInvalid = badRequest(scimTypeInvalidCursor,
		"The cursor is not one this server issued to this token. Send an empty cursor to start from the first page.")
	errCursorQuery = badRequest(scimTypeInvalidCursor,
		"The cursor belongs to a query with another filter, sortBy or sortOrder. Repeat the query it came from, or send an empty cursor to start again.")
	errCursorExpired = badRequest(scimTypeExpiredCursor,
		"The cursor has expired: request the next page within %d seconds (cursorTimeout), or send an empty cursor to start again.", cursorTimeout)
)

// cursorPos is db.Position: a row's sort key and id.
type cursorPos = struct{ Key, ID string }

// pageCursor is the content of a token.
type pageCursor struct {
	issued time.Time
	total  int // -1: not carried
	fp     [cursorFPLen]byte
	pos    cursorPos
}

// cursorKey is the signing key of the request's token.
func cursorKey(r *http.Request) []byte {
	tok, _ := auth.FromContext(r.Context())
	secret := tok.Hash
	if len(secret) == 0 {
		// No stored hash (a handler called outside the middleware): a
		// key of this process, so that a cursor is never signed with a
		// key anyone can compute.
		secret = processCursorKey()
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("scimbridge SCIM cursor v1\x00" + tok.ID + "\x00" + tok.AccountID))
	return m.Sum(nil)
}

var processCursorKey = sync.OnceValue(func() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
})

// cursorFingerprint identifies the rows and order of a list request;
// attributes and count do not change which row follows which.
func cursorFingerprint(acct string, rt *resourceType, p listParams) [cursorFPLen]byte {
	h := sha256.New()
	for _, s := range []string{acct, rt.name, p.filter, p.sortBy, p.sortOrder} {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	var fp [cursorFPLen]byte
	copy(fp[:], h.Sum(nil))
	return fp
}

// encode writes c as a signed token.
func (c pageCursor) encode(key []byte) string {
	b := make([]byte, 0, 64+len(c.pos.Key)+len(c.pos.ID))
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(c.issued.Unix()))
	b = binary.AppendUvarint(b, uint64(c.total+1))
	b = append(b, c.fp[:]...)
	b = binary.AppendUvarint(b, uint64(len(c.pos.ID)))
	b = append(b, c.pos.ID...)
	b = append(b, c.pos.Key...)
	m := hmac.New(sha256.New, key)
	m.Write(b)
	b = append(b, m.Sum(nil)[:cursorMACLen]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads and checks a token of encode for the request of fp at
// now. Its errors are the client's: invalid, another query's, or expired.
func decodeCursor(tok string, key []byte, fp [cursorFPLen]byte, now time.Time) (pageCursor, error) {
	if len(tok) > maxCursorLen {
		return pageCursor{}, errCursorInvalid
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 1+8+1+cursorFPLen+1+cursorMACLen || b[0] != cursorVersion {
		return pageCursor{}, errCursorInvalid
	}
	body, mac := b[:len(b)-cursorMACLen], b[len(b)-cursorMACLen:]
	m := hmac.New(sha256.New, key)
	m.Write(body)
	if subtle.ConstantTimeCompare(mac, m.Sum(nil)[:cursorMACLen]) != 1 {
		return pageCursor{}, errCursorInvalid
	}
	// Signed by us: what follows is well formed unless this code changed
	// without cursorVersion moving; it is checked all the same.
	var c pageCursor
	rest := body[1:]
	c.issued = time.Unix(int64(binary.BigEndian.Uint64(rest)), 0)
	rest = rest[8:]
	total, n := binary.Uvarint(rest)
	if n <= 0 || total > 1<<40 {
		return pageCursor{}, errCursorInvalid
	}
	c.total, rest = int(total)-1, rest[n:]
	if len(rest) < cursorFPLen {
		return pageCursor{}, errCursorInvalid
	}
	copy(c.fp[:], rest)
	rest = rest[cursorFPLen:]
	idLen, n := binary.Uvarint(rest)
	if n <= 0 || idLen == 0 || idLen > uint64(len(rest)-n) {
		return pageCursor{}, errCursorInvalid
	}
	rest = rest[n:]
	c.pos = cursorPos{ID: string(rest[:idLen]), Key: string(rest[idLen:])}
	switch {
	case c.fp != fp:
		return pageCursor{}, errCursorQuery
	case c.issued.After(now.Add(cursorSkew)):
		return pageCursor{}, errCursorInvalid
	case now.Sub(c.issued) > cursorTimeout*time.Second:
		return pageCursor{}, errCursorExpired
	}
	return c, nil
}
