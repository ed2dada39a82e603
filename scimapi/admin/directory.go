package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/scimbridge/scimbridge/bridge"
)

// PasswordSetHeader says on GET .../directory whether a bind password is
// stored: the document itself never carries it.
const PasswordSetHeader = "Scimbridge-Password-Set"

func (h *handler) getDirectory(w http.ResponseWriter, r *http.Request) {
	st, err := h.opt.Store.GetSettings(r.Context(), account(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set(PasswordSetHeader, boolText(len(st.SealedPassword) > 0))
	w.Header().Set("Last-Modified", st.UpdatedAt.UTC().Format(http.TimeFormat))
	writeJSON(w, http.StatusOK, st.Settings.WithDefaults().Redacted())
}

func (h *handler) putDirectory(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a := account(r)
	if _, err := h.opt.Store.GetAccount(ctx, a); err != nil {
		h.fail(w, r, err)
		return
	}
	s, old, err := h.parseSettings(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sealed := old.SealedPassword
	if s.Connection.Password != "" {
		if h.opt.Secrets == nil {
			h.fail(w, r, errors.New("no secret box configured"))
			return
		}
		if sealed, err = h.opt.Secrets.Seal(s.Connection.Password); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	st := bridge.StoredSettings{Settings: s.Redacted(), SealedPassword: sealed, UpdatedAt: h.now().UTC()}
	if err := h.opt.Store.PutSettings(ctx, a, st); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.InfoContext(ctx, "directory settings replaced", "account", a, "passwordChanged", s.Connection.Password != "")
	w.Header().Set(PasswordSetHeader, "true")
	writeJSON(w, http.StatusOK, st.Settings)
}

// parseSettings reads a settings document from the body, fills defaults and
// validates it against the stored settings (whose password it may keep).
func (h *handler) parseSettings(w http.ResponseWriter, r *http.Request) (bridge.Settings, bridge.StoredSettings, error) {
	data, err := readBody(w, r, h.opt.MaxBodyBytes)
	if err != nil {
		return bridge.Settings{}, bridge.StoredSettings{}, err
	}
	return h.settingsFrom(r.Context(), account(r), data)
}

func (h *handler) settingsFrom(ctx context.Context, a string, data []byte) (bridge.Settings, bridge.StoredSettings, error) {
	s, err := bridge.ParseSettings(data)
	if err != nil {
		return s, bridge.StoredSettings{}, err
	}
	s = s.WithDefaults()
	old, err := h.opt.Store.GetSettings(ctx, a)
	if err != nil && !errors.Is(err, bridge.ErrNotConfigured) {
		return s, old, err
	}
	havePassword := len(old.SealedPassword) > 0
	if havePassword && s.Connection.Password == "" && !sameEndpoint(old.Settings.WithDefaults().Connection, s.Connection) {
		// Never send the stored password to a server it was not set for.
		return s, old, &bridge.ValidationError{Problems: []bridge.Problem{{Field: "connection.password",
			Message: "is required again when host, port or bindDn change, so the stored password is never sent to a server it was not set for"}}}
	}
	if err := s.Validate(h.opt.Syntax, havePassword); err != nil {
		return s, old, err
	}
	return s, old, nil
}

func sameEndpoint(a, b bridge.Connection) bool {
	return strings.EqualFold(a.Host, b.Host) && a.Port == b.Port && strings.EqualFold(a.BindDN, b.BindDN)
}

// ConnectionReport is the test-connection result, the same document as
// `scimbridge test-connection --json`.
type ConnectionReport struct {
	OK      bool                `json:"ok"`
	Error   string              `json:"error,omitempty"`
	Server  *bridge.ServerInfo  `json:"server,omitempty"`
	InScope *bridge.ScopeCounts `json:"inScope,omitempty"`
}

func (h *handler) testDirectory(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	data, err := readBody(w, r, h.opt.MaxBodyBytes)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var s bridge.Settings
	var password string
	if len(strings.TrimSpace(string(data))) > 0 {
		var old bridge.StoredSettings
		if s, old, err = h.settingsFrom(ctx, account(r), data); err != nil {
			h.fail(w, r, err)
			return
		}
		password = s.Connection.Password
		if password == "" {
			if password, err = h.openPassword(old); err != nil {
				h.fail(w, r, err)
				return
			}
		}
	} else {
		if s, password, err = h.stored(ctx, account(r)); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, h.testConnection(ctx, s, password))
}

func (h *handler) testConnection(ctx context.Context, s bridge.Settings, password string) ConnectionReport {
	dir, err := h.opt.Open(ctx, s.Connection, password, h.log)
	if err != nil {
		return ConnectionReport{Error: sentence(err.Error())}
	}
	defer dir.Close()
	info, err := dir.ServerInfo(ctx)
	if err != nil {
		return ConnectionReport{Error: sentence(err.Error())}
	}
	counts, err := dir.Count(ctx, s.Scope())
	if err != nil {
		return ConnectionReport{Error: sentence(err.Error())}
	}
	if info.SupportedControls == nil {
		info.SupportedControls = []string{}
	}
	return ConnectionReport{OK: true, Server: &info, InScope: &counts}
}

// stored loads the account's settings and opens its password.
func (h *handler) stored(ctx context.Context, a string) (bridge.Settings, string, error) {
	st, err := h.opt.Store.GetSettings(ctx, a)
	if err != nil {
		return bridge.Settings{}, "", err
	}
	pw, err := h.openPassword(st)
	return st.Settings.WithDefaults(), pw, err
}

func (h *handler) openPassword(st bridge.StoredSettings) (string, error) {
	if len(st.SealedPassword) == 0 {
		return st.Settings.Connection.Password, nil
	}
	if h.opt.Secrets == nil {
		return "", errors.New("no secret box configured")
	}
	return h.opt.Secrets.Open(st.SealedPassword)
}

func (h *handler) ouTree(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, password, err := h.stored(ctx, account(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	base := s.Connection.BaseDN
	if v := r.URL.Query().Get("baseDn"); v != "" {
		if err := h.opt.Syntax.CheckDN(v); err != nil {
			h.fail(w, r, badRequest("baseDn %q is not a valid DN: %v.", v, err))
			return
		}
		base = v
	}
	dir, err := h.opt.Open(ctx, s.Connection, password, h.log)
	if err != nil {
		problem(w, r, http.StatusBadGateway, "Connecting to the directory failed: "+sentence(err.Error()))
		return
	}
	defer dir.Close()
	nodes, err := dir.OUTree(ctx, base)
	if err != nil {
		problem(w, r, http.StatusBadGateway, "Reading the OU tree failed: "+sentence(err.Error()))
		return
	}
	if nodes == nil {
		nodes = []bridge.OUNode{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"baseDn": base, "items": nodes})
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
