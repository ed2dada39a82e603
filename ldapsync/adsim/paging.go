package adsim

import (
	"strconv"

	"github.com/jimlambrt/gldap"
)

// pagedState is a paged search in progress: the entries still to send.
// The match list is computed once, on the first page, so later pages are
// O(page) and see a consistent snapshot, like AD's server-side cursor.
type pagedState struct {
	matches []*stored
}

// maxPagedSearches bounds the saved cursors; AD has MaxResultSetSize for
// the same reason. The oldest is dropped first.
const maxPagedSearches = 64

func (s *Server) savePage(st *pagedState) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextPage++
	cookie := "adsim-" + strconv.Itoa(s.nextPage)
	s.pages[cookie] = st
	if len(s.pages) > maxPagedSearches {
		oldest := ""
		for k := range s.pages {
			if oldest == "" || pageNum(k) < pageNum(oldest) {
				oldest = k
			}
		}
		delete(s.pages, oldest)
	}
	return cookie
}

func pageNum(cookie string) int {
	n, _ := strconv.Atoi(cookie[len("adsim-"):])
	return n
}

func (s *Server) takePage(cookie string) *pagedState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.pages[cookie]
	delete(s.pages, cookie)
	return st
}

// writePage sends at most size entries (clamped to MaxPageSize, as AD
// silently does) and returns the paging control with the cookie for the
// rest, or an empty cookie at the end.
func (s *Server) writePage(w *gldap.ResponseWriter, r *gldap.Request, st *pagedState, size uint32, attrs []string) (int, string, []gldap.Control) {
	n := int(size)
	if n <= 0 || n > s.opts.MaxPageSize {
		n = s.opts.MaxPageSize
	}
	if n > len(st.matches) {
		n = len(st.matches)
	}
	for _, e := range st.matches[:n] {
		s.writeEntry(w, r, e, attrs)
	}
	st.matches = st.matches[n:]
	ctrl := &gldap.ControlPaging{}
	if len(st.matches) > 0 {
		ctrl.Cookie = []byte(s.savePage(st))
	}
	return gldap.ResultSuccess, "", []gldap.Control{ctrl}
}

// PendingPagedSearches is how many paged searches hold a cursor (tests
// check that a client abandons what it does not finish).
func (s *Server) PendingPagedSearches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pages)
}
