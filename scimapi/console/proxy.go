package console

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/scimbridge/scimbridge/bridge"
)

// apiPath is what may follow /console/api/: the part of an admin API path
// after /api/v1/accounts/{account}/, in plain segments.
var apiPath = regexp.MustCompile(`^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$`)

// proxy serves /console/api/REST as the admin API's
// /api/v1/accounts/{session account}/REST with the session's token. The
// answer (status, problem documents, CSV downloads) passes through as is.
func (c *console) proxy(w http.ResponseWriter, r *http.Request) {
	s, err := c.openSession(r)
	if err != nil {
		writeProblem(w, http.StatusUnauthorized, "Your console session ended; sign in again.")
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, Prefix+"/api/")
	if r.URL.RawPath != "" || !apiPath.MatchString(rest) || path.Clean("/"+rest) != "/"+rest || strings.Contains(rest, "..") {
		writeProblem(w, http.StatusNotFound, "Nothing exists at "+r.URL.Path+".")
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost, http.MethodPut, http.MethodDelete:
		if !checkCSRF(r, s.CSRF) {
			writeProblem(w, http.StatusForbidden, "The request did not come from this console (CSRF check failed); reload the page.")
			return
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, DELETE")
		writeProblem(w, http.StatusMethodNotAllowed, "The method "+r.Method+" is not allowed here.")
		return
	}
	in := r.Clone(r.Context())
	in.URL.Path = "/api/v1/accounts/" + s.Account + "/" + rest
	in.URL.RawPath = ""
	in.RequestURI = in.URL.RequestURI()
	in.Header = http.Header{}
	for _, h := range []string{"Accept", "Content-Type", "Content-Length"} {
		if v := r.Header.Values(h); len(v) > 0 {
			in.Header[h] = v
		}
	}
	in.Header.Set("Authorization", "Bearer "+s.Token)
	c.api.ServeHTTP(w, in)
}

// validate checks a settings document the way PUT .../directory does,
// without saving it or dialling the directory, and answers every problem by
// field: the wizard's as-you-type checks of LDAP filters and the rest.
func (c *console) validate(w http.ResponseWriter, r *http.Request) {
	s, err := c.currentSession(r)
	if err != nil {
		writeProblem(w, http.StatusUnauthorized, "Your console session ended; sign in again.")
		return
	}
	if !checkCSRF(r, s.CSRF) {
		writeProblem(w, http.StatusForbidden, "The request did not come from this console (CSRF check failed); reload the page.")
		return
	}
	if !s.admin() {
		writeProblem(w, http.StatusForbidden, "Only admins configure synchronization.")
		return
	}
	if c.opt.Syntax == nil {
		writeProblem(w, http.StatusNotImplemented, "This server does not check settings here; save them to see problems.")
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeProblem(w, http.StatusRequestEntityTooLarge, "The document is too large.")
		return
	}
	problems := []bridge.Problem{}
	st, err := bridge.ParseSettings(data)
	if err == nil {
		// The password is write-only and may be stored already: do not
		// report it missing here; saving does.
		err = st.WithDefaults().Validate(c.opt.Syntax, true)
	}
	var ve *bridge.ValidationError
	if errors.As(err, &ve) {
		problems = append(problems, ve.Problems...)
	} else if err != nil {
		problems = append(problems, bridge.Problem{Message: "The settings could not be checked."})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"problems": problems})
}

// writeProblem answers an RFC 9457 problem document, like the admin API.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail})
}
