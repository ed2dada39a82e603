package ldapsync

import (
	"context"
	"errors"

	"github.com/go-ldap/ldap/v3"
)

// search runs one request (one page) and returns its entries and the
// controls of its SearchResultDone. The request is bounded by ctx and by
// the per-request timeout. Referrals (AD returns some for the application
// partitions under the domain root) are skipped.
func (d *Directory) search(ctx context.Context, req *ldap.SearchRequest) ([]*ldap.Entry, []ldap.Control, error) {
	rctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	res := d.conn.SearchAsync(rctx, req, 64)
	var entries []*ldap.Entry
	var controls []ldap.Control
	for res.Next() {
		if e := res.Entry(); e != nil {
			entries = append(entries, e)
		}
		if c := res.Controls(); len(c) > 0 {
			controls = c
		}
	}
	if err := res.Err(); err != nil {
		return nil, nil, err
	}
	// SearchAsync reports cancellation as a silent end of results.
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if err := rctx.Err(); err != nil {
		return nil, nil, context.DeadlineExceeded
	}
	// A connection lost before or during the request also ends it silently;
	// what was read may be a part of the answer, or none of it.
	if d.conn.IsClosing() {
		return nil, nil, ldap.NewError(ldap.ErrorNetwork, errConnectionLost)
	}
	return entries, controls, nil
}

var errConnectionLost = errors.New("the connection closed before the server finished its answer")

// pagedSearch runs req with the paged-results control (RFC 2696), one page
// at a time: each page is read whole (at most pageSize entries), its
// entries are handed to fn, and the page is dropped before the next one is
// asked for, so memory is bounded by the page size. Reading a page whole
// before calling fn is deliberate: fn may issue its own searches (ranged
// member reads), and go-ldap drops packets of a search nobody reads.
// ctx is checked between pages.
func (d *Directory) pagedSearch(ctx context.Context, req *ldap.SearchRequest, fn func(*ldap.Entry) error) error {
	paging := ldap.NewControlPaging(d.pageSize)
	req.Controls = append(req.Controls, paging)
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		entries, controls, err := d.search(ctx, req)
		if err != nil {
			return err
		}
		d.log.Debug("page", "base", req.BaseDN, "filter", req.Filter, "page", page, "entries", len(entries))
		for i, e := range entries {
			entries[i] = nil // let the entry go as soon as it is handled
			if err := fn(e); err != nil {
				d.abandonPaging(req, paging, controls)
				return err
			}
		}
		// A complete page ends with SearchResultDone carrying the paging
		// control (AD and Samba always send it). Without it we cannot tell
		// the last page from a cut-off answer, so the read is not complete.
		c, ok := ldap.FindControl(controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok {
			return ldap.NewError(ldap.ErrorNetwork, errors.New("a page of the paged search ended without the paging control"))
		}
		if len(c.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(c.Cookie)
	}
}

// abandonPaging tells the server to free the paged search state when we
// stop early (a page size of 0 with the cookie, per RFC 2696).
func (d *Directory) abandonPaging(req *ldap.SearchRequest, paging *ldap.ControlPaging, controls []ldap.Control) {
	c, ok := ldap.FindControl(controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
	if !ok || len(c.Cookie) == 0 {
		return
	}
	paging.SetCookie(c.Cookie)
	paging.PagingSize = 0
	if _, _, err := d.search(context.Background(), req); err != nil && !errors.Is(err, context.Canceled) {
		d.log.Debug("abandoning paged search failed", "err", err)
	}
}
