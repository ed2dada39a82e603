package adsim

import (
	"fmt"
	"strings"

	"github.com/jimlambrt/gldap"
)

// AD's diagnostic texts, so client code that parses "data 52e" is
// exercised.
const (
	diagInvalidCredentials = "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563"
	diagBindRequired       = "000004DC: LdapErr: DSID-0C090A5C, comment: In order to perform this operation a successful bind must be completed on the connection., data 0, v4563"
)

func (s *Server) handleBind(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewBindResponse(gldap.WithResponseCode(gldap.ResultInvalidCredentials))
	defer func() { _ = w.Write(resp) }()
	m, err := r.GetSimpleBindMessage()
	if err != nil {
		resp.SetResultCode(gldap.ResultProtocolError)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bound, r.ConnectionID())
	if m.UserName == "" && m.Password == "" {
		resp.SetResultCode(gldap.ResultSuccess) // anonymous: rootDSE only
		return
	}
	want, _, err1 := dnKey(s.bindDN)
	got, _, err2 := dnKey(m.UserName)
	if err1 != nil || err2 != nil || want != got || string(m.Password) != s.password || s.password == "" {
		resp.SetDiagnosticMessage(diagInvalidCredentials)
		return
	}
	s.bound[r.ConnectionID()] = true
	resp.SetResultCode(gldap.ResultSuccess)
}

func (s *Server) handleStartTLS(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewExtendedResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	resp.SetResponseName(gldap.ExtendedOperationStartTLS)
	if s.opts.TLS == nil || s.opts.LDAPS {
		resp.SetResultCode(gldap.ResultUnavailable)
		resp.SetDiagnosticMessage("StartTLS is not configured on this server")
		_ = w.Write(resp)
		return
	}
	if err := w.Write(resp); err != nil {
		return
	}
	_ = r.StartTLS(s.opts.TLS)
}

func (s *Server) handleUnsupported(w *gldap.ResponseWriter, r *gldap.Request) {
	_ = w.Write(r.NewResponse(gldap.WithResponseCode(gldap.ResultUnwillingToPerform),
		gldap.WithDiagnosticMessage("adsim is read-only over LDAP")))
}

func (s *Server) isBound(connID int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bound[connID]
}

func (s *Server) handleSearch(w *gldap.ResponseWriter, r *gldap.Request) {
	done := r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	m, err := r.GetSearchMessage()
	if err != nil {
		done.SetResultCode(gldap.ResultProtocolError)
		_ = w.Write(done)
		return
	}
	if m.BaseDN == "" && m.Scope == gldap.BaseObject {
		s.writeEntry(w, r, s.rootDSE(), m.Attributes)
		_ = w.Write(done)
		return
	}
	if !s.isBound(r.ConnectionID()) {
		done.SetResultCode(gldap.ResultOperationsError)
		done.SetDiagnosticMessage(diagBindRequired)
		_ = w.Write(done)
		return
	}
	code, diag, controls := s.search(w, r, m)
	done.SetResultCode(code)
	if diag != "" {
		done.SetDiagnosticMessage(diag)
	}
	if len(controls) > 0 {
		done.SetControls(controls...)
	}
	_ = w.Write(done)
}

// search answers one search request (or one page of it) and returns the
// result code of SearchResultDone.
func (s *Server) search(w *gldap.ResponseWriter, r *gldap.Request, m *gldap.SearchMessage) (int, string, []gldap.Control) {
	var paging *gldap.ControlPaging
	showDeleted := false
	for _, c := range m.Controls {
		if p, ok := c.(*gldap.ControlPaging); ok {
			paging = p
		}
		if c.GetControlType() == OIDShowDeleted {
			showDeleted = true
		}
	}
	// A continued paged search answers from the saved match list.
	if paging != nil && len(paging.Cookie) > 0 {
		st := s.takePage(string(paging.Cookie))
		if st == nil {
			return gldap.ResultUnwillingToPerform, "00002024: the paged search cookie is unknown or expired", nil
		}
		if paging.PagingSize == 0 { // RFC 2696: size 0 abandons the search
			return gldap.ResultSuccess, "", []gldap.Control{&gldap.ControlPaging{}}
		}
		return s.writePage(w, r, st, paging.PagingSize, m.Attributes)
	}

	base, _, err := dnKey(m.BaseDN)
	if err != nil {
		return gldap.ResultInvalidDNSyntax, fmt.Sprintf("0000208F: NameErr: DSID-03100225, problem 2006 (BAD_NAME), data 8350, best match of:\n\t'%s'", m.BaseDN), nil
	}
	filter, err := compileFilter(m.Filter)
	if err != nil {
		return gldap.ResultFilterError, err.Error(), nil
	}
	matches, found, err := s.tree.find(base, m.Scope, filter, showDeleted)
	if err != nil {
		return gldap.ResultOther, err.Error(), nil
	}
	if !found {
		return gldap.ResultNoSuchObject, fmt.Sprintf("0000208D: NameErr: DSID-03100241, problem 2001 (NO_OBJECT), data 0, best match of:\n\t'%s'", s.opts.BaseDN), nil
	}
	st := &pagedState{matches: matches}
	if paging != nil {
		return s.writePage(w, r, st, paging.PagingSize, m.Attributes)
	}
	// Unpaged: AD stops at MaxPageSize with sizeLimitExceeded, which is
	// exactly the trap a client without paging falls into on a real domain.
	limit := s.opts.MaxPageSize
	if m.SizeLimit > 0 && int(m.SizeLimit) < limit {
		limit = int(m.SizeLimit)
	}
	for i, e := range st.matches {
		if i == limit {
			return gldap.ResultSizeLimitExceeded, "", nil
		}
		s.writeEntry(w, r, e, m.Attributes)
	}
	return gldap.ResultSuccess, "", nil
}

// writeEntry sends one entry with the requested attributes: all of them
// for an empty list or "*", none for "1.1", and member split into ranges
// of MaxValRange values like AD.
func (s *Server) writeEntry(w *gldap.ResponseWriter, r *gldap.Request, e *stored, requested []string) {
	resp := r.NewSearchResponseEntry(e.dn)
	for _, a := range s.selectAttributes(e, requested) {
		resp.AddAttribute(a.name, a.vals)
	}
	_ = w.Write(resp)
}

func (s *Server) selectAttributes(e *stored, requested []string) []attr {
	all := len(requested) == 0
	var named []string
	for _, a := range requested {
		switch a {
		case "*":
			all = true
		case "1.1", "+":
		default:
			named = append(named, a)
		}
	}
	var out []attr
	seen := map[string]bool{}
	add := func(a *attr, requestedName string) {
		l := strings.ToLower(a.name)
		if seen[l] {
			return
		}
		seen[l] = true
		out = append(out, s.rangeOf(a, requestedName)...)
	}
	if all {
		for _, l := range e.order {
			add(e.attrs[l], e.attrs[l].name)
		}
	}
	for _, n := range named {
		base, _, _ := strings.Cut(n, ";")
		if a := e.get(base); a != nil {
			add(a, n)
		}
	}
	return out
}
