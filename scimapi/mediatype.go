package scimapi

import (
	"mime"
	"net/http"
)

// requireJSON refuses a request body declared as anything but SCIM JSON
// with 415. RFC 7644 section 3.1 names application/scim+json as the media
// type of SCIM requests and application/json as its older form (as some
// clients still send it), so both are accepted, with any parameters. A
// body without a Content-Type is read as JSON; a body declared as
// text/plain, XML or a form is not silently read as JSON.
func requireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		if ct != "" && r.ContentLength != 0 && r.Method != http.MethodGet && r.Method != http.MethodHead {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || (mt != scimContentType && mt != "application/json") {
				writeSCIMError(w, http.StatusUnsupportedMediaType, "",
					"Send the request body as application/scim+json (or application/json), not "+quoteType(mt, err)+".")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func quoteType(mt string, err error) string {
	if err != nil || mt == "" {
		return "a malformed Content-Type"
	}
	return mt
}
