package admin

import (
	"errors"
	"net/http"

	"github.com/scimbridge/scimbridge/bridge"
)

const (
	roleProtected = bridge.RoleProtected
	roleOwner     = bridge.RoleOwner
)

// NewProtection is the body of POST .../protected and .../owners: the
// object by its objectGUID (externalId) or, for a local object, its SCIM id.
type NewProtection struct {
	ObjectType bridge.ObjectType `json:"objectType"`
	ExternalID string            `json:"externalId,omitempty"`
	ResourceID string            `json:"resourceId,omitempty"`
	Note       string            `json:"note,omitempty"`
}

func (h *handler) listProtections(role bridge.ProtectionRole) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := account(r)
		if _, err := h.opt.Store.GetAccount(r.Context(), a); err != nil {
			h.fail(w, r, err)
			return
		}
		all, err := h.opt.Store.ListProtections(r.Context(), a)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		items := []bridge.Protection{}
		for _, p := range all {
			if p.Role == role {
				items = append(items, p)
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"items": items})
	}
}

func (h *handler) addProtection(role bridge.ProtectionRole) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in NewProtection
		if err := decode(w, r, h.opt.MaxBodyBytes, &in); err != nil {
			h.fail(w, r, err)
			return
		}
		var probs []bridge.Problem
		switch in.ObjectType {
		case bridge.ObjectUser:
		case bridge.ObjectGroup, bridge.ObjectDistribution, bridge.ObjectOU:
			if role == bridge.RoleOwner {
				probs = append(probs, bridge.Problem{Field: "objectType", Message: "owners are users; use objectType \"user\""})
			}
		default:
			probs = append(probs, bridge.Problem{Field: "objectType", Message: "must be one of user, group, distribution, ou"})
		}
		if (in.ExternalID == "") == (in.ResourceID == "") {
			probs = append(probs, bridge.Problem{Field: "externalId", Message: "give the object's objectGUID (externalId) or, for a local object, its SCIM id (resourceId), not both"})
		}
		if len(in.Note) > 1000 {
			probs = append(probs, bridge.Problem{Field: "note", Message: "is longer than 1000 characters"})
		}
		if len(probs) > 0 {
			h.fail(w, r, &bridge.ValidationError{Problems: probs})
			return
		}
		a := account(r)
		if _, err := h.opt.Store.GetAccount(r.Context(), a); err != nil {
			h.fail(w, r, err)
			return
		}
		p := bridge.Protection{AccountID: a, Role: role, ObjectType: in.ObjectType, ExternalID: in.ExternalID,
			ResourceID: in.ResourceID, Note: in.Note, CreatedAt: h.now().UTC()}
		if err := h.opt.Store.AddProtection(r.Context(), p); err != nil {
			if errors.Is(err, bridge.ErrConflict) {
				err = clientErr(bridge.ErrConflict, "The object is already in the list.")
			}
			h.fail(w, r, err)
			return
		}
		// The store assigns the id: read the entry back.
		all, err := h.opt.Store.ListProtections(r.Context(), a)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, x := range all {
			if x.Role == role && x.ExternalID == p.ExternalID && x.ResourceID == p.ResourceID {
				writeJSON(w, http.StatusCreated, x)
				return
			}
		}
		h.fail(w, r, errors.New("the new protection is not in the list"))
	}
}

func (h *handler) deleteProtection(role bridge.ProtectionRole) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, id := account(r), idVar(r)
		all, err := h.opt.Store.ListProtections(r.Context(), a)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		found := false
		for _, p := range all {
			if p.ID == id && p.Role == role {
				found = true
			}
		}
		if !found {
			h.fail(w, r, bridge.ErrNotFound)
			return
		}
		if err := h.opt.Store.DeleteProtection(r.Context(), a, id); err != nil {
			h.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
