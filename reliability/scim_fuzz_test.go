package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
	"github.com/scimbridge/scimbridge/scimapi"
)

// scimServer is the SCIM endpoint in-process on a real store, with a SCIM
// token of the default account and a few users.
type scimServer struct {
	h      http.Handler
	token  string
	store  *db.Store
	userID string
}

func newSCIMServer(t testing.TB, store *db.Store) *scimServer {
	t.Helper()
	secret, hash, err := bridge.NewTokenSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateToken(context.Background(), bridge.Token{ID: "scim1", AccountID: bridge.DefaultAccount,
		Role: bridge.TokenSCIM, Name: "fuzz", Hash: hash}); err != nil {
		t.Fatal(err)
	}
	s := &scimServer{h: scimapi.NewRouter(scimapi.Options{Store: store}), token: secret, store: store}
	for _, name := range []string{"alice@example.com", "bob@example.com", "o'brien@example.com"} {
		code, body := s.do("POST", "/scim/v2/Users", "application/scim+json", []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`","displayName":"D","emails":[{"value":"`+name+`","type":"work","primary":true}]}`))
		if code != 201 {
			t.Fatalf("create %s: %d %s", name, code, body)
		}
		var doc map[string]any
		_ = json.Unmarshal(body, &doc)
		s.userID, _ = doc["id"].(string)
	}
	code, body := s.do("POST", "/scim/v2/Groups", "application/scim+json", []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"G","members":[{"value":"`+s.userID+`"}]}`))
	if code != 201 {
		t.Fatalf("create group: %d %s", code, body)
	}
	return s
}

func (s *scimServer) do(method, target, ctype string, body []byte) (int, []byte) {
	req := httptest.NewRequest(method, "http://scim.test"+target, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, req)
	return w.Code, w.Body.Bytes()
}

func fuzzStore(f *testing.F) *db.Store {
	f.Helper()
	s, err := db.Open(context.Background(), db.Config{DataDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	return s
}

// FuzzSCIMFilterToSQL sends any filter and sortBy through the SCIM
// endpoint to the SQLite query compiler and database: the answer is 200 or
// a 400 with a SCIM error, never a panic or a 500.
func FuzzSCIMFilterToSQL(f *testing.F) {
	s := newSCIMServer(f, fuzzStore(f))
	for _, seed := range [][2]string{
		{`userName eq "alice@example.com"`, "userName"},
		{`userName sw "a" and active eq true`, "meta.lastModified"},
		{`emails[type eq "work" and value co "@"]`, "emails.value"},
		{`name.familyName pr or not (title eq "x")`, "name.givenName"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"`, ""},
		{`meta.lastModified gt "2020-01-01T00:00:00Z"`, "id"},
		{`userName eq "x' OR '1'='1"`, "userName; DROP TABLE users"},
		{`userName eq "\"; DELETE FROM users; --"`, "userName/**/"},
		{"userName eq \"\x00\"", "userName\x00"},
		{`((((((((((userName eq "a"))))))))))`, ""},
		{`groups[value eq "x"]`, "displayName"},
		{`members.value eq "x"`, "members"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, filter, sortBy string) {
		for _, res := range []string{"Users", "Groups"} {
			q := url.Values{"filter": {filter}, "count": {"5"}}
			if sortBy != "" {
				q.Set("sortBy", sortBy)
			}
			code, body := s.do("GET", "/scim/v2/"+res+"?"+q.Encode(), "", nil)
			if code != 200 && code != 400 {
				t.Fatalf("%s filter %q sortBy %q: %d %s", res, filter, sortBy, code, body)
			}
			if code == 400 && !bytes.Contains(body, []byte("urn:ietf:params:scim:api:messages:2.0:Error")) {
				t.Fatalf("%s filter %q: a 400 without a SCIM error: %s", res, filter, body)
			}
		}
	})
}

// FuzzSCIMPatch applies any PATCH body to a SCIM-created user (reset by a
// PUT first): 200/204 or a 4xx SCIM error, never a panic or a 500.
func FuzzSCIMPatch(f *testing.F) {
	s := newSCIMServer(f, fuzzStore(f))
	for _, seed := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"X"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails[type eq \"home\"].value","value":"h@x"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"emails[value co \"@\"]"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false,"name.givenName":"G"}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"x"}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"emails[type eq \"work\"].primary"}]}`,
		`{"Operations":[{"op":"replace","path":"emails[","value":1}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"phoneNumbers","value":[{"value":"1","primary":true},{"value":"2","primary":true}]}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":null}]}`,
		`[]`, `null`, `{"Operations":null}`,
	} {
		f.Add(seed)
	}
	reset := []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"o'brien@example.com","displayName":"D","emails":[{"value":"o@example.com","type":"work","primary":true}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		if code, out := s.do("PUT", "/scim/v2/Users/"+s.userID, "application/scim+json", reset); code != 200 {
			t.Fatalf("reset: %d %s", code, out)
		}
		code, out := s.do("PATCH", "/scim/v2/Users/"+s.userID, "application/scim+json", []byte(body))
		if code >= 500 || (code >= 300 && code < 400) {
			t.Fatalf("PATCH %q: %d %s", body, code, out)
		}
		if code >= 400 && !bytes.Contains(out, []byte("urn:ietf:params:scim:api:messages:2.0:Error")) {
			t.Fatalf("PATCH %q: a %d without a SCIM error: %s", body, code, out)
		}
	})
}

// FuzzSCIMDecode posts any body as a new user and a new group: 201 or a
// 4xx SCIM error, never a panic or a 500.
func FuzzSCIMDecode(f *testing.F) {
	s := newSCIMServer(f, fuzzStore(f))
	for _, seed := range []string{
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new@example.com"}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"n2","name":{"givenName":1},"emails":"x"}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[{"value":null}]}`,
		`{"schemas":[],"userName":"\u0000"}`,
		`{"userName":"a","userName":"b"}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","unknownAttr":{"deep":[1,2,3]}}`,
		strings.Repeat("[", 1000) + strings.Repeat("]", 1000),
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x","active":"yes"}`,
		"\xff\xfe{}", `1e999999`, ``,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, res := range []string{"Users", "Groups"} {
			code, out := s.do("POST", "/scim/v2/"+res, "application/scim+json", []byte(body))
			if code >= 500 || (code != 201 && code < 400) {
				t.Fatalf("POST %s %q: %d %s", res, body, code, out)
			}
			if code >= 400 && !bytes.Contains(out, []byte("urn:ietf:params:scim:api:messages:2.0:Error")) {
				t.Fatalf("POST %s %q: a %d without a SCIM error: %s", res, body, code, out)
			}
		}
	})
}
