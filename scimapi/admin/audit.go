package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// AuditEntry is one user deactivated or deleted by a sync: who, when, why,
// which run.
type AuditEntry struct {
	At         time.Time     `json:"at"`
	Status     bridge.Status `json:"status"` // deactivated or deleted
	UserID     string        `json:"userId"`
	UserName   string        `json:"userName"`
	ExternalID string        `json:"externalId,omitempty"`
	DN         string        `json:"dn,omitempty"`
	Reason     string        `json:"reason,omitempty"`
	RunID      string        `json:"runId"`
}

// UserState is the current state of a user, for its history.
type UserState struct {
	ID           string        `json:"id"`
	UserName     string        `json:"userName"`
	DisplayName  string        `json:"displayName,omitempty"`
	ExternalID   string        `json:"externalId,omitempty"`
	Source       bridge.Source `json:"source"`
	Status       bridge.Status `json:"status"`
	Active       bool          `json:"active"`
	DN           string        `json:"dn,omitempty"`
	DeletedAt    *time.Time    `json:"deletedAt,omitempty"`
	DeleteReason string        `json:"deleteReason,omitempty"`
	CreatedAt    time.Time     `json:"createdAt"`
	UpdatedAt    time.Time     `json:"updatedAt"`
}

// UserHistory is GET /accounts/{a}/audit/users/{id}.
type UserHistory struct {
	User *UserState `json:"user"`
	Page[bridge.RunEvent]
}

func (h *handler) auditUsers(w http.ResponseWriter, r *http.Request) {
	if h.audit == nil {
		problem(w, r, http.StatusNotImplemented, "This store does not keep an audit trail.")
		return
	}
	q := r.URL.Query()
	acts := []bridge.Action{bridge.ActionDeactivate, bridge.ActionDelete}
	switch v := q.Get("status"); v {
	case "":
	case string(bridge.StatusDeactivated):
		acts = []bridge.Action{bridge.ActionDeactivate}
	case string(bridge.StatusDeleted):
		acts = []bridge.Action{bridge.ActionDelete}
	default:
		h.fail(w, r, badRequest("status %q is not deactivated or deleted.", v))
		return
	}
	since, err := timeParam(r, "since")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	until, err := timeParam(r, "until")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	csvOut, err := wantCSV(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	offset, limit, err := paging(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if csvOut && q.Get("limit") == "" {
		limit = 0
	}
	a := account(r)
	if _, err := h.opt.Store.GetAccount(r.Context(), a); err != nil {
		h.fail(w, r, err)
		return
	}
	events, total, err := h.audit.UserAuditEvents(r.Context(), a, acts, "", since, until, offset, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	items := make([]AuditEntry, 0, len(events))
	for _, e := range events {
		st := bridge.StatusDeactivated
		if e.Action == bridge.ActionDelete {
			st = bridge.StatusDeleted
		}
		items = append(items, AuditEntry{At: e.At.UTC(), Status: st, UserID: e.ResourceID, UserName: e.Name,
			ExternalID: e.ExternalID, DN: e.DN, Reason: e.Reason, RunID: e.RunID})
	}
	if csvOut {
		writeCSV(w, "audit-users-"+a+".csv", []string{"at", "status", "userId", "userName", "externalId", "dn", "reason", "runId"},
			func(emit func([]string)) {
				for _, e := range items {
					emit([]string{e.At.Format(time.RFC3339), string(e.Status), e.UserID, e.UserName, e.ExternalID, e.DN, e.Reason, e.RunID})
				}
			})
		return
	}
	writeJSON(w, http.StatusOK, Page[AuditEntry]{Items: items, Total: total, Offset: offset, Limit: limit})
}

func (h *handler) userHistory(w http.ResponseWriter, r *http.Request) {
	if h.audit == nil {
		problem(w, r, http.StatusNotImplemented, "This store does not keep an audit trail.")
		return
	}
	offset, limit, err := paging(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, id := account(r), idVar(r)
	var state *UserState
	u, err := h.opt.Store.GetUser(r.Context(), a, id)
	switch {
	case err == nil:
		state = &UserState{ID: u.ID, UserName: u.UserName, DisplayName: u.DisplayName, ExternalID: u.ExternalID,
			Source: u.Source, Status: u.Status, Active: u.Active, DN: u.DN, DeletedAt: u.DeletedAt,
			DeleteReason: u.DeleteReason, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC()}
	case !errors.Is(err, bridge.ErrNotFound):
		h.fail(w, r, err)
		return
	}
	events, total, err := h.audit.UserAuditEvents(r.Context(), a, nil, id, time.Time{}, time.Time{}, offset, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if state == nil && total == 0 {
		problem(w, r, http.StatusNotFound, "No user "+id+" and no sync event about it in this account.")
		return
	}
	if events == nil {
		events = []bridge.RunEvent{}
	}
	writeJSON(w, http.StatusOK, UserHistory{User: state, Page: Page[bridge.RunEvent]{Items: events, Total: total, Offset: offset, Limit: limit}})
}

// timeParam reads an RFC 3339 time or a date (midnight UTC).
func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, badRequest("%s %q is not an RFC 3339 time (2026-12-01T02:00:00Z) or a date (2026-12-01).", name, v)
}
