package admin

import (
	"errors"
	"net/http"
	"regexp"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/scimapi/auth"
)

// accountIDPattern keeps account ids safe in URLs, logs and file names.
var accountIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// NewAccount is the body of POST /accounts.
type NewAccount struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

func (h *handler) listAccounts(w http.ResponseWriter, r *http.Request) {
	tok, _ := auth.FromContext(r.Context())
	var items []bridge.Account
	if tok.AccountID == "" && tok.ID == BootstrapTokenID {
		all, err := h.opt.Store.ListAccounts(r.Context())
		if err != nil {
			h.fail(w, r, err)
			return
		}
		items = all
	} else {
		a, err := h.opt.Store.GetAccount(r.Context(), tok.AccountID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		items = []bridge.Account{a}
	}
	if items == nil {
		items = []bridge.Account{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (h *handler) createAccount(w http.ResponseWriter, r *http.Request) {
	var in NewAccount
	if err := decode(w, r, h.opt.MaxBodyBytes, &in); err != nil {
		h.fail(w, r, err)
		return
	}
	if !accountIDPattern.MatchString(in.ID) {
		h.fail(w, r, &bridge.ValidationError{Problems: []bridge.Problem{{Field: "id",
			Message: "must be 1-63 lower-case letters, digits, - or _, starting with a letter or digit"}}})
		return
	}
	a := bridge.Account{ID: in.ID, Name: in.Name, CreatedAt: h.now().UTC()}
	if err := h.opt.Store.CreateAccount(r.Context(), a); err != nil {
		if errors.Is(err, bridge.ErrConflict) {
			err = clientErr(bridge.ErrConflict, "The account %q already exists.", in.ID)
		}
		h.fail(w, r, err)
		return
	}
	created, err := h.opt.Store.GetAccount(r.Context(), in.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/accounts/"+created.ID)
	writeJSON(w, http.StatusCreated, created)
}

func (h *handler) getAccount(w http.ResponseWriter, r *http.Request) {
	a, err := h.opt.Store.GetAccount(r.Context(), account(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (h *handler) deleteAccount(w http.ResponseWriter, r *http.Request) {
	id := account(r)
	if id == bridge.DefaultAccount {
		h.fail(w, r, clientErr(bridge.ErrConflict, "The account %q always exists and cannot be deleted.", id))
		return
	}
	if _, ok, err := bridge.RunningRun(r.Context(), h.opt.Store, id); err != nil {
		h.fail(w, r, err)
		return
	} else if ok {
		h.fail(w, r, clientErr(bridge.ErrConflict, "A sync run is in progress for %q; cancel it or wait for it to end first.", id))
		return
	}
	if err := h.opt.Store.DeleteAccount(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
