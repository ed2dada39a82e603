package admin

import (
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/bridge"
)

// NewToken is the body of POST /accounts/{a}/tokens.
type NewToken struct {
	Role bridge.TokenRole `json:"role"`
	Name string           `json:"name,omitempty"`
}

// CreatedToken shows the secret once.
type CreatedToken struct {
	bridge.Token
	Secret string `json:"token"`
}

func (h *handler) listTokens(w http.ResponseWriter, r *http.Request) {
	a := account(r)
	if _, err := h.opt.Store.GetAccount(r.Context(), a); err != nil {
		h.fail(w, r, err)
		return
	}
	toks, err := h.opt.Store.ListTokens(r.Context(), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if toks == nil {
		toks = []bridge.Token{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": toks})
}

func (h *handler) createToken(w http.ResponseWriter, r *http.Request) {
	var in NewToken
	if err := decode(w, r, h.opt.MaxBodyBytes, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	var probs []bridge.Problem
	if !bridge.ValidTokenRole(in.Role) {
		probs = append(probs, bridge.Problem{Field: "role", Message: "must be admin, auditor or scim"})
	}
	if len(in.Name) > 200 || strings.ContainsAny(in.Name, "\r\n") {
		probs = append(probs, bridge.Problem{Field: "name", Message: "must be one line of at most 200 characters"})
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
	secret, hash, err := bridge.NewTokenSecret()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	t := bridge.Token{ID: uuid.NewString(), AccountID: a, Role: in.Role, Name: in.Name, Hash: hash, CreatedAt: h.now().UTC()}
	if err := h.opt.Store.CreateToken(r.Context(), t); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.InfoContext(r.Context(), "token created", "account", a, "token", t.ID, "role", t.Role)
	writeJSON(w, http.StatusCreated, CreatedToken{Token: t, Secret: secret})
}

func (h *handler) deleteToken(w http.ResponseWriter, r *http.Request) {
	if err := h.opt.Store.DeleteToken(r.Context(), account(r), idVar(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
