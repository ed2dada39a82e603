package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/bridge"
)

// Problem is an RFC 9457 problem document. Extension members: Problems
// lists every validation problem (422), Run is the running run (409 on Run
// Now).
type Problem struct {
	Type     string           `json:"type"`
	Title    string           `json:"title"`
	Status   int              `json:"status"`
	Detail   string           `json:"detail,omitempty"`
	Instance string           `json:"instance,omitempty"`
	Problems []bridge.Problem `json:"problems,omitempty"`
	Run      *bridge.Run      `json:"run,omitempty"`
}

const problemContentType = "application/problem+json"

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	p.Instance = r.URL.Path
	w.Header().Set("Content-Type", problemContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func problem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	writeProblem(w, r, Problem{Status: status, Detail: detail})
}

// fail answers with the problem err stands for. Internal errors are logged
// and answered without their text: it may name tables, hosts or DNs.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ve *bridge.ValidationError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		problem(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is larger than %d bytes.", tooBig.Limit))
	case errors.As(err, &ve):
		writeProblem(w, r, Problem{Status: http.StatusUnprocessableEntity,
			Detail: fmt.Sprintf("The document has %d problem(s); each is listed in problems.", len(ve.Problems)), Problems: ve.Problems})
	case errors.Is(err, errBadRequest):
		problem(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), errBadRequest.Error()+": "))
	case errors.Is(err, bridge.ErrNotFound):
		problem(w, r, http.StatusNotFound, notFoundDetail(r))
	case errors.Is(err, bridge.ErrNotConfigured):
		problem(w, r, http.StatusNotFound, "The account has no directory settings yet; PUT them to /api/v1/accounts/{account}/directory first.")
	case errors.Is(err, bridge.ErrConflict):
		problem(w, r, http.StatusConflict, clientText(err))
	case errors.Is(err, bridge.ErrRunInProgress):
		problem(w, r, http.StatusConflict, "A sync run is already in progress for this account.")
	case errors.Is(err, bridge.ErrInvalid):
		problem(w, r, http.StatusUnprocessableEntity, clientText(err))
	case errors.Is(err, bridge.ErrSecretKey):
		h.log.ErrorContext(r.Context(), "secret key problem", "path", r.URL.Path, "err", err)
		problem(w, r, http.StatusInternalServerError, "The stored bind password cannot be sealed or opened with the configured secret key; see the server log.")
	default:
		h.log.ErrorContext(r.Context(), "admin API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		problem(w, r, http.StatusInternalServerError, "The request failed on the server; see the server log.")
	}
}

// clientText is the part of an error meant for the client: the text after
// the last "db: ...: " style prefix is not, so only our own messages pass.
func clientText(err error) string {
	var ce *clientError
	if errors.As(err, &ce) {
		return ce.msg
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "db:") {
		return "The request conflicts with the current state."
	}
	return sentence(msg)
}

// clientError carries a message written for the client.
type clientError struct {
	msg  string
	kind error
}

func (e *clientError) Error() string { return e.msg }
func (e *clientError) Unwrap() error { return e.kind }

func clientErr(kind error, format string, args ...any) error {
	return &clientError{msg: fmt.Sprintf(format, args...), kind: kind}
}

var errBadRequest = errors.New("bad request")

func badRequest(format string, args ...any) error {
	return clientErr(errBadRequest, format, args...)
}

func notFoundDetail(r *http.Request) string {
	return "Nothing exists at " + r.URL.Path + "."
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decode reads a JSON body of at most limit bytes into v, refusing unknown
// fields and trailing data.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	data, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return badRequest("The request needs a JSON body.")
	}
	return decodeBytes(data, v)
}

func decodeBytes(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("The body is not valid JSON for this request: %v.", err)
	}
	if dec.More() {
		return badRequest("The body holds more than one JSON value.")
	}
	return nil
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, badRequest("The request body could not be read.")
	}
	return data, nil
}

// paging reads offset and limit (default 50, at most 500).
func paging(r *http.Request) (offset, limit int, err error) {
	offset, limit = 0, 50
	q := r.URL.Query()
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, badRequest("offset %q is not a whole number of 0 or more.", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return 0, 0, badRequest("limit %q is not a whole number from 1 to 500.", v)
		}
	}
	return offset, limit, nil
}

// Page is one page of a list.
type Page[T any] struct {
	Items  []T `json:"items"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
