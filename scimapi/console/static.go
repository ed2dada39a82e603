package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gorilla/mux"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded file, read once.
type asset struct {
	data  []byte
	ctype string
	etag  string
}

// assets maps a file name under static/ to its content. Only these names
// are ever served: a request names a key of this map or gets 404, so no
// path can reach another file.
var assets = loadAssets()

func loadAssets() map[string]asset {
	out := map[string]asset{}
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		panic(err)
	}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
		".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(data)
		ct := types[path.Ext(e.Name())]
		if ct == "" {
			ct = "application/octet-stream"
		}
		out[e.Name()] = asset{data: data, ctype: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return out
}

func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["file"]
	a, ok := assets[name]
	if !ok || strings.ContainsAny(name, `/\`) || r.URL.RawPath != "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", a.etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
}
