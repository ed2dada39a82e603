package scimapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/gorilla/mux"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/scimapi/auth"
)

// The SCIM 2.0 endpoint (RFC 7643, RFC 7644) at /scim/v2.
//
// Why not elimity-com/scim's Server: its handlers cannot express most of
// what this endpoint must do. It has no sortBy, no attributes or
// excludedAttributes, no If-Match / If-None-Match, no /Bulk, a
// ServiceProviderConfig that cannot advertise sort, etag or bulk, request
// bodies read without a limit, and it copies internal error text into
// responses (CheckScimError). Its list contract (GetAll with an in-memory
// filter validator) also pushes filtering into the handler. So the HTTP
// layer is ours, on the gorilla/mux router, and the library is used where
// it fits: its schema definitions (schema.CoreUserSchema and friends, which
// /Schemas renders and which resolve every attribute path), its SCIM error
// type (scimerrors.ScimError, the error body), and the filter parser it
// builds on (scim2/filter-parser). Filters are compiled to SQL by db, never
// evaluated in memory.

const (
	scimContentType = "application/scim+json"
	// defaultCount is the page size when the client names none; maxCount
	// caps what a client may ask for (advertised as filter.maxResults).
	defaultCount = 100
	maxCount     = 1000
	// Bulk limits, advertised in /ServiceProviderConfig.
	maxBulkOperations = 1000
	defaultMaxBody    = 1 << 20
)

type server struct {
	store bridge.ResourceStore
	// fast is store's JSON read path (render_json.go), when it has one.
	fast jsonStore
	// pages is fast's cursor-taking list (pagecursor.go), when it has one,
	// and cursors the cursors it handed out.
	pages   pageStore
	cursors *cursorCache
	// versions probes a group's version, and groups holds the rendered
	// large groups (groupcache.go), when the store has the probe.
	versions groupVersioner
	groups   *groupCache
	log      *slog.Logger
	baseURL  string
	maxBody  int64
}

// mountSCIM mounts the endpoint on sub (a /scim/v2 subrouter).
func mountSCIM(sub *mux.Router, opt Options) {
	s := &server{store: opt.Resources, log: opt.Log, baseURL: strings.TrimRight(opt.SCIMBaseURL, "/"), maxBody: opt.MaxBodyBytes}
	if s.maxBody <= 0 {
		s.maxBody = defaultMaxBody
	}
	s.fast, _ = opt.Resources.(jsonStore)
	if s.versions, _ = opt.Resources.(groupVersioner); s.versions != nil {
		s.groups = newGroupCache(groupCacheBytes)
	}
	if s.pages, _ = opt.Resources.(pageStore); s.pages != nil {
		s.cursors = newCursorCache(cursorEntries, cursorBytes)
	}
	sub.Use(auth.Middleware(auth.Config{
		Tokens: newTokenCache(opt.Store), Roles: []bridge.TokenRole{bridge.TokenSCIM}, Log: opt.Log, Limiter: opt.AuthLimiter,
		Deny: func(w http.ResponseWriter, _ *http.Request, f auth.Failure, detail string) {
			writeSCIMError(w, f.Status(), "", detail)
		},
	}))
	sub.Use(s.limitBody)
	sub.Use(requireJSON)
	// Each path answers the methods it serves and a 405 with Allow for the
	// others (RFC 9110 15.5.6), in the SCIM error schema; HEAD is served
	// wherever GET is (RFC 9110 9.3.2: net/http drops the body).
	get := []string{http.MethodGet, http.MethodHead}
	route := func(path string, methods []string, h http.HandlerFunc) {
		sub.HandleFunc(path, h).Methods(methods...)
	}
	allow := func(path string, methods ...string) {
		sub.HandleFunc(path, methodNotAllowed(strings.Join(methods, ", ")))
	}
	for _, d := range []struct {
		path string
		h    http.HandlerFunc
	}{
		{"/ServiceProviderConfig", s.serviceProviderConfig},
		{"/Schemas", s.schemas},
		{"/Schemas/{id}", s.schemaByID},
		{"/ResourceTypes", s.resourceTypes},
		{"/ResourceTypes/{id}", s.resourceTypeByID},
	} {
		route(d.path, get, d.h)
		allow(d.path, get...)
	}
	route("/Bulk", []string{http.MethodPost}, s.bulk)
	allow("/Bulk", http.MethodPost)
	route("/.search", []string{http.MethodPost}, s.rootSearch)
	allow("/.search", http.MethodPost)
	route("/", get, s.rootList)
	allow("/", get...)
	for _, rt := range []*resourceType{userType, groupType} {
		rt := rt
		route(rt.endpoint, get, func(w http.ResponseWriter, r *http.Request) { s.list(w, r, rt) })
		route(rt.endpoint, []string{http.MethodPost}, func(w http.ResponseWriter, r *http.Request) { s.create(w, r, rt) })
		allow(rt.endpoint, http.MethodGet, http.MethodHead, http.MethodPost)
		// Before the item routes, which would take ".search" for an id.
		route(rt.endpoint+"/.search", []string{http.MethodPost}, func(w http.ResponseWriter, r *http.Request) { s.search(w, r, rt) })
		allow(rt.endpoint+"/.search", http.MethodPost)
		item := rt.endpoint + "/{id}"
		route(item, get, func(w http.ResponseWriter, r *http.Request) { s.get(w, r, rt) })
		route(item, []string{http.MethodPut}, func(w http.ResponseWriter, r *http.Request) { s.replace(w, r, rt) })
		route(item, []string{http.MethodPatch}, func(w http.ResponseWriter, r *http.Request) { s.patch(w, r, rt) })
		route(item, []string{http.MethodDelete}, func(w http.ResponseWriter, r *http.Request) { s.delete(w, r, rt) })
		allow(item, http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete)
	}
	// RFC 7644 3.11: a provider without /Me answers 501.
	sub.HandleFunc("/Me", func(w http.ResponseWriter, _ *http.Request) {
		writeSCIMError(w, http.StatusNotImplemented, "", "/Me is not supported: tokens belong to accounts, not users.")
	})
	sub.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeSCIMError(w, http.StatusNotFound, "", "No such SCIM endpoint.")
	})
	sub.MethodNotAllowedHandler = methodNotAllowed("")
}

// methodNotAllowed answers 405 naming the methods the path serves.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if allow != "" {
			w.Header().Set("Allow", allow)
		}
		writeSCIMError(w, http.StatusMethodNotAllowed, "", "This method is not supported on this endpoint.")
	}
}

// limitBody caps request bodies; reading past the cap fails, and readBody
// turns that into 413.
func (s *server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.maxBody {
			writeSCIMError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("The request body exceeds %d bytes.", s.maxBody))
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		}
		next.ServeHTTP(w, r)
	})
}

// apiError is an error with its SCIM answer. detail is shown to clients;
// cause (logged) is not.
type apiError struct {
	status   int
	scimType scimerrors.ScimType
	detail   string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.scimType, e.detail) }

func badRequest(t scimerrors.ScimType, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, scimType: t, detail: fmt.Sprintf(format, args...)}
}

func writeSCIMError(w http.ResponseWriter, status int, t scimerrors.ScimType, detail string) {
	w.Header().Set("Content-Type", scimContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(scimerrors.ScimError{Status: status, ScimType: t, Detail: detail})
}

// fail answers err. Domain errors become their SCIM status; anything else
// is logged and answered with a 500 that says nothing about the cause.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		// The client went away; nobody reads the answer.
		return
	}
	e := s.toSCIMError(r, err)
	writeSCIMError(w, e.Status, e.ScimType, e.Detail)
}

func (s *server) toSCIMError(r *http.Request, err error) scimerrors.ScimError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return scimerrors.ScimError{Status: ae.status, ScimType: ae.scimType, Detail: ae.detail}
	case errors.Is(err, bridge.ErrNotFound):
		return scimerrors.ScimError{Status: http.StatusNotFound, Detail: "Resource not found."}
	case errors.Is(err, bridge.ErrVersionMismatch):
		return scimerrors.ScimError{Status: http.StatusPreconditionFailed, Detail: "The resource was changed by another request; read it again."}
	case errors.Is(err, bridge.ErrConflict):
		return scimerrors.ScimError{Status: http.StatusConflict, ScimType: scimerrors.ScimTypeUniqueness, Detail: "userName or externalId is already in use."}
	default:
		s.log.ErrorContext(r.Context(), "SCIM request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		return scimerrors.ScimError{Status: http.StatusInternalServerError, Detail: "An internal error occurred; it has been logged."}
	}
}

func writeSCIM(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeSCIMError(w, http.StatusInternalServerError, "", "An internal error occurred; it has been logged.")
		return
	}
	w.Header().Set("Content-Type", scimContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readJSON reads a JSON object body: 413 past the limit, 400 invalidSyntax
// when it is not a JSON object.
func readJSON(r *http.Request) (map[string]any, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, detail: fmt.Sprintf("The request body exceeds %d bytes.", mbe.Limit)}
		}
		return nil, badRequest(scimerrors.ScimTypeInvalidSyntax, "The request body could not be read.")
	}
	return decodeObject(b)
}

func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, badRequest(scimerrors.ScimTypeInvalidSyntax, "The request body is not a JSON object.")
	}
	if dec.More() {
		return nil, badRequest(scimerrors.ScimTypeInvalidSyntax, "The request body holds more than one JSON value.")
	}
	return m, nil
}

// location is the absolute URL of a resource.
func (s *server) location(r *http.Request, rt *resourceType, id string) string {
	return s.base(r) + rt.endpoint + "/" + id
}

func (s *server) base(r *http.Request) string {
	if s.baseURL != "" {
		return s.baseURL
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/scim/v2"
}

func account(r *http.Request) string { return auth.Account(r.Context()) }
