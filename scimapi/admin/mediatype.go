package admin

import (
	"mime"
	"net/http"
	"strings"
)

// jsonBody refuses a request body declared as something other than JSON
// with 415, so text/plain, XML or multipart bodies are not silently read
// as JSON. Accepted: application/json, any application/*+json, no
// Content-Type, and application/x-www-form-urlencoded, which is what
// `curl -d` declares (the examples in docs/api.md) for a body that is
// JSON all the same.
func jsonBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := r.Header.Get("Content-Type")
		if ct != "" && r.ContentLength != 0 {
			mt, _, err := mime.ParseMediaType(ct)
			ok := err == nil && (mt == "application/json" || mt == "application/x-www-form-urlencoded" ||
				(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")))
			if !ok {
				if err != nil {
					mt = "a malformed Content-Type"
				}
				problem(w, r, http.StatusUnsupportedMediaType, "Send the request body as application/json, not "+mt+".")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
