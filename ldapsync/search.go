package ldapsync

import (
	"context"
	"errors"

	"github.com/go-ldap/ldap/v3"
)

// search runs one request (one page) and returns its entries and the
// controls of its SearchResultDone.
func (d *Directory) search(ctx context.Context, req *ldap.SearchRequest) ([]*ldap.Entry, []ldap.Control, error) {
	var entries []*ldap.Entry
	controls, err := d.searchEach(ctx, req, func(e *ldap.Entry) error {
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return entries, controls, nil
}

// searchEach runs one request (one page), handing each entry to each as it
// arrives, and returns the controls of its SearchResultDone. The request is
// bounded by ctx and by the per-request timeout. Referrals (AD returns some
// for the application partitions under the domain root) are skipped. An
// error from each stops the request and is returned unchanged.
func (d *Directory) searchEach(ctx context.Context, req *ldap.SearchRequest, each func(*ldap.Entry) error) ([]ldap.Control, error) {
	rctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	res := d.conn.SearchAsync(rctx, req, 64)
	var controls []ldap.Control
	for res.Next() {
		if e := res.Entry(); e != nil {
			if err := each(e); err != nil {
				return nil, err
			}
		}
		if c := res.Controls(); len(c) > 0 {
			controls = c
		}
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	// SearchAsync reports cancellation as a silent end of results.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := rctx.Err(); err != nil {
		return nil, context.DeadlineExceeded
	}
	// A connection lost before or during the request also ends it silently;
	// what was read may be a part of the answer, or none of it.
	if d.conn.IsClosing() {
		return nil, ldap.NewError(ldap.ErrorNetwork, errConnectionLost)
	}
	return controls, nil
}

var errConnectionLost = errors.New("the connection closed before the server finished its answer")

// pagedSearch runs req page by page, each page read whole before fn sees
// it, so fn may issue searches of its own (see paged).
func (d *Directory) pagedSearch(ctx context.Context, req *ldap.SearchRequest, fn func(*ldap.Entry) error) error {
	return d.paged(ctx, req, false, fn)
}

// pagedSearchInline runs req page by page, handing each entry to fn as it
// arrives; fn must not search.
func (d *Directory) pagedSearchInline(ctx context.Context, req *ldap.SearchRequest, fn func(*ldap.Entry) error) error {
	return d.paged(ctx, req, true, fn)
}

// paged runs req with the paged-results control (RFC 2696), one page at a
// time, and ctx is checked between pages. Memory is bounded by the page
// size, or by a few entries when inline is set.
//
// With inline, each entry goes to fn as it arrives, so a page is never
// held whole. Without it, a page is read whole before fn sees its first
// entry: fn may then issue its own searches (ranged member reads), which it
// cannot do while this search is still being read, since go-ldap drops the
// packets of a search nobody reads.
func (d *Directory) paged(ctx context.Context, req *ldap.SearchRequest, inline bool, fn func(*ldap.Entry) error) error {
	paging := ldap.NewControlPaging(d.pageSize)
	req.Controls = append(req.Controls, paging)
	var fnErr error
	call := func(e *ldap.Entry) error {
		if err := fn(e); err != nil {
			fnErr = err
			return err
		}
		return nil
	}
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var controls []ldap.Control
		var err error
		n := 0
		if inline {
			// After fn stops, the rest of the page is read and dropped:
			// only the page's end carries the cookie that lets us tell the
			// server to free the paged search.
			controls, err = d.searchEach(ctx, req, func(e *ldap.Entry) error {
				n++
				if fnErr != nil {
					return nil
				}
				call(e)
				return nil
			})
		} else {
			var entries []*ldap.Entry
			entries, controls, err = d.search(ctx, req)
			n = len(entries)
			for i := 0; err == nil && i < len(entries); i++ {
				e := entries[i]
				entries[i] = nil // let the entry go as soon as it is handled
				err = call(e)
			}
		}
		if fnErr != nil {
			d.abandonPaging(req, paging, controls)
			return fnErr
		}
		if err != nil {
			return err
		}
		d.log.Debug("page", "base", req.BaseDN, "filter", req.Filter, "page", page, "entries", n)
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
