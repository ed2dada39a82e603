package scimapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
)

// /Bulk (RFC 7644 3.7). Operations run one after the other, each in its own
// transaction (the RFC does not make a bulk request atomic). bulkId
// references ("bulkId:x" in a path or anywhere in data) are resolved to the
// ids the referenced POSTs created; an operation whose references are not
// resolved yet waits for a later pass, so forward references work, and
// what is left when no pass makes progress (a cycle, or a reference to a
// failed POST) fails with 409. failOnErrors stops the run after that many
// errors. The limits are those /ServiceProviderConfig advertises: more
// operations or a bigger payload is a 413.

const (
	schemaBulkRequest  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	schemaBulkResponse = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
)

type bulkOp struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId"`
	Version string          `json:"version"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data"`
}

func (s *server) bulk(w http.ResponseWriter, r *http.Request) {
	body, err := readJSON(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, _ := json.Marshal(body)
	var req struct {
		Schemas      []string `json:"schemas"`
		FailOnErrors *int     `json:"failOnErrors"`
		Operations   []bulkOp `json:"Operations"`
	}
	if err := json.Unmarshal(b, &req); err != nil {
		s.fail(w, r, badRequest(scimerrors.ScimTypeInvalidSyntax, "The BulkRequest does not have the shape RFC 7644 3.7 gives it."))
		return
	}
	ok := false
	for _, sc := range req.Schemas {
		ok = ok || strings.EqualFold(sc, schemaBulkRequest)
	}
	if !ok {
		s.fail(w, r, badRequest(scimerrors.ScimTypeInvalidSyntax, "schemas must be [%q].", schemaBulkRequest))
		return
	}
	if len(req.Operations) > maxBulkOperations {
		writeSCIMError(w, http.StatusRequestEntityTooLarge, "", fmt.Sprintf("A bulk request may hold at most %d operations.", maxBulkOperations))
		return
	}
	failOn := 0
	if req.FailOnErrors != nil {
		if *req.FailOnErrors < 1 {
			s.fail(w, r, badRequest(scimerrors.ScimTypeInvalidValue, "failOnErrors must be at least 1."))
			return
		}
		failOn = *req.FailOnErrors
	}
	ids := map[string]string{}  // bulkId -> created id
	failed := map[string]bool{} // bulkIds whose POST failed
	results := make([]any, len(req.Operations))
	done := make([]bool, len(req.Operations))
	errs := 0
	// RFC 7644 3.7: bulkId is REQUIRED on POST and unique within the
	// request. An operation breaking that fails alone (and counts
	// towards failOnErrors); a duplicate bulkId is never resolved.
	invalid := map[int]string{}
	seen := map[string]bool{}
	for i, op := range req.Operations {
		switch {
		case strings.EqualFold(op.Method, http.MethodPost) && op.BulkID == "":
			invalid[i] = "bulkId is required on POST."
		case op.BulkID != "" && seen[op.BulkID]:
			invalid[i] = fmt.Sprintf("bulkId %q is used by more than one operation.", op.BulkID)
		}
		seen[op.BulkID] = true
	}
	for progress := true; progress; {
		progress = false
		for i, op := range req.Operations {
			if done[i] || (failOn > 0 && errs >= failOn) {
				continue
			}
			if detail, bad := invalid[i]; bad {
				done[i], progress = true, true
				results[i] = bulkError(op, scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidSyntax, Detail: detail})
				errs++
				if op.BulkID != "" {
					failed[op.BulkID] = true // a reference to it is ambiguous
				}
				continue
			}
			refs := bulkRefs(op)
			wait, dead := false, false
			for _, ref := range refs {
				if failed[ref] {
					dead = true
				} else if _, ok := ids[ref]; !ok {
					wait = true
				}
			}
			if wait && !dead {
				continue
			}
			done[i], progress = true, true
			var res map[string]any
			if dead {
				res = bulkError(op, scimerrors.ScimError{Status: http.StatusConflict, ScimType: scimerrors.ScimTypeInvalidValue,
					Detail: "The operation refers to a bulkId whose operation failed."})
			} else {
				res = s.bulkOne(r, op, ids)
			}
			if st, _ := res["status"].(string); st >= "400" {
				errs++
				if op.BulkID != "" {
					failed[op.BulkID] = true
				}
			} else if strings.EqualFold(op.Method, http.MethodPost) && op.BulkID != "" {
				if loc, ok := res["location"].(string); ok {
					ids[op.BulkID] = loc[strings.LastIndexByte(loc, '/')+1:]
				}
			}
			results[i] = res
		}
	}
	var out []any
	for i, op := range req.Operations {
		if results[i] != nil {
			out = append(out, results[i])
		} else if !done[i] && (failOn == 0 || errs < failOn) {
			out = append(out, bulkError(op, scimerrors.ScimError{Status: http.StatusConflict, ScimType: scimerrors.ScimTypeInvalidValue,
				Detail: "The operation's bulkId references cannot be resolved (a cycle, or an unknown bulkId)."}))
		}
	}
	if out == nil {
		out = []any{}
	}
	writeSCIM(w, http.StatusOK, map[string]any{"schemas": []string{schemaBulkResponse}, "Operations": out})
}

func bulkRefs(op bulkOp) []string {
	var refs []string
	for _, src := range []string{op.Path, string(op.Data)} {
		for i := strings.Index(src, "bulkId:"); i >= 0; i = strings.Index(src, "bulkId:") {
			src = src[i+len("bulkId:"):]
			end := strings.IndexAny(src, `"/?, `)
			if end < 0 {
				end = len(src)
			}
			refs = append(refs, src[:end])
		}
	}
	return refs
}

func substitute(v any, ids map[string]string) any {
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, "bulkId:") {
			if id, ok := ids[x[len("bulkId:"):]]; ok {
				return id
			}
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = substitute(e, ids)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = substitute(e, ids)
		}
		return x
	}
	return v
}

func bulkError(op bulkOp, e scimerrors.ScimError) map[string]any {
	res := map[string]any{"method": op.Method, "status": fmt.Sprint(e.Status), "response": e}
	if op.BulkID != "" {
		res["bulkId"] = op.BulkID
	}
	return res
}

// bulkOne runs one operation through the same code as the single
// endpoints, on a copy of the request.
func (s *server) bulkOne(r *http.Request, op bulkOp, ids map[string]string) map[string]any {
	method := strings.ToUpper(op.Method)
	path := op.Path
	for ref, id := range ids {
		path = strings.ReplaceAll(path, "bulkId:"+ref, id)
	}
	u, err := url.Parse(path)
	if err != nil {
		return bulkError(op, scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidPath, Detail: "Invalid path."})
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	var rt *resourceType
	switch {
	case len(parts) >= 1 && parts[0] == "Users":
		rt = userType
	case len(parts) >= 1 && parts[0] == "Groups":
		rt = groupType
	default:
		return bulkError(op, scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidPath, Detail: "The path must be /Users or /Groups[/id]."})
	}
	sub := r.Clone(r.Context())
	sub.Method = method
	sub.URL = &url.URL{Path: "/scim/v2" + u.Path}
	sub.Header = http.Header{}
	if op.Version != "" {
		sub.Header.Set("If-Match", op.Version)
	}
	var data map[string]any
	if method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		if len(op.Data) == 0 {
			return bulkError(op, scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidSyntax, Detail: "data is required."})
		}
		m, err := decodeObject(op.Data)
		if err != nil {
			return bulkError(op, s.toSCIMError(sub, err))
		}
		data = substitute(m, ids).(map[string]any)
	}
	id := ""
	if len(parts) == 2 {
		id = parts[1]
	}
	var doc map[string]any
	var version string
	status := http.StatusOK
	switch {
	case method == http.MethodPost && id == "":
		status, doc, version, err = s.createDoc(sub, rt, data)
	case method == http.MethodPut && id != "":
		doc, version, err = s.replaceDoc(sub, rt, id, data)
	case method == http.MethodPatch && id != "":
		doc, version, err = s.patchDoc(sub, rt, id, data)
	case method == http.MethodDelete && id != "":
		err = s.deleteID(sub, rt, id)
		status = http.StatusNoContent
	default:
		return bulkError(op, scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidSyntax,
			Detail: "method must be POST (on /Users or /Groups), or PUT, PATCH or DELETE (on a resource)."})
	}
	if err != nil {
		return bulkError(op, s.toSCIMError(sub, err))
	}
	res := map[string]any{"method": method, "status": fmt.Sprint(status)}
	if op.BulkID != "" {
		res["bulkId"] = op.BulkID
	}
	if doc != nil {
		res["location"] = doc["meta"].(map[string]any)["location"]
		res["version"] = etag(version)
	} else {
		res["location"] = s.location(r, rt, id)
	}
	return res
}
