package scimapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// BenchmarkSCIM measures the endpoint through the whole router (auth,
// query, rendering) on a generated store of 100,000 users and 10,000
// groups, one of them with 5,000 members, on SQLite and PostgreSQL:
//
//	go test ./scimapi -run '^$' -bench BenchmarkSCIM -benchtime 5000x -timeout 60m
//
// Each case runs b.N requests from 4 concurrent clients (SCIMBRIDGE_BENCH_CLIENTS) and reports
// requests per second, p50 / p99 latency and the process's CPU time per
// request. SCIMBRIDGE_BENCH_USERS shrinks the store for a quick run;
// SCIMBRIDGE_BENCH_SCIM_SQLITE / _POSTGRES run it on an existing store
// (bench_existing_test.go).

// benchStore keeps only the strings the requests need (not the generated
// users with their attribute maps): a large live heap in the harness would
// make every GC cycle of the process slower and be billed to the server.
type benchStore struct {
	e                           *env
	ids, userNames, externalIDs []string
	big                         string
	seedDur                     time.Duration
	deepOnce                    sync.Once
	deep                        string
}

// deepCursor is the nextCursor of the page that ends at row 9/10 of the
// users in id order, read once by walking cursor pages of 1,000.
func (s *benchStore) deepCursor(b *testing.B) string {
	s.deepOnce.Do(func() {
		depth, read := len(s.ids)*9/10, 0
		for read < depth {
			req := httptest.NewRequest("GET", fmt.Sprintf("/scim/v2/Users?attributes=id&count=%d&cursor=%s", min(1000, depth-read), s.deep), nil)
			req.Header.Set("Authorization", "Bearer "+s.e.token)
			rec := httptest.NewRecorder()
			s.e.h.ServeHTTP(rec, req)
			var page struct {
				ItemsPerPage int    `json:"itemsPerPage"`
				NextCursor   string `json:"nextCursor"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || rec.Code != 200 || page.NextCursor == "" {
				panic(fmt.Sprintf("walk to row %d at %d: %d %s", depth, read, rec.Code, rec.Body.String()))
			}
			read, s.deep = read+page.ItemsPerPage, page.NextCursor
		}
	})
	return s.deep
}

var (
	benchMu     sync.Mutex
	benchStores = map[string]*benchStore{}
)

func benchSeed(b *testing.B, backend string) *benchStore {
	benchMu.Lock()
	defer benchMu.Unlock()
	if s := benchStores[backend]; s != nil {
		return s
	}
	if s, set := benchExisting(b, backend); set {
		if s == nil {
			b.Skip("SCIMBRIDGE_BENCH_SCIM_* names a store of the other backend")
		}
		benchStores[backend] = s
		return s
	}
	nUsers := 100000
	if v, err := strconv.Atoi(os.Getenv("SCIMBRIDGE_BENCH_USERS")); err == nil && v > 0 {
		nUsers = v
	}
	nGroups := max(nUsers/10, 1)
	start := time.Now()
	// The store outlives the sub-benchmark that creates it.
	e := newEnv(benchTB{b}, backend)
	ctx := context.Background()
	ids := make([]string, 0, nUsers)
	userNames := make([]string, 0, nUsers)
	externalIDs := make([]string, 0, nUsers)
	for i := 0; i < nUsers; i += 1000 {
		var batch []bridge.User
		for j := i; j < min(i+1000, nUsers); j++ {
			u := adUser(fmt.Sprintf("user%06d", j), fmt.Sprintf("Given%d", j), fmt.Sprintf("Family%d", j%977), fmt.Sprintf("Dept%d", j%50), j%20 != 0)
			batch = append(batch, u)
		}
		if err := e.store.Apply(ctx, e.acct, bridge.Changes{Users: batch}); err != nil {
			b.Fatalf("seed users: %v", err)
		}
		for _, u := range batch {
			ids, userNames, externalIDs = append(ids, u.ID), append(userNames, u.UserName), append(externalIDs, u.ExternalID)
		}
	}
	var big string
	for i := 0; i < nGroups; i += 1000 {
		c := bridge.Changes{SetMembers: map[string][]bridge.Member{}}
		for j := i; j < min(i+1000, nGroups); j++ {
			g := adGroup(fmt.Sprintf("Group %05d", j), bridge.KindSecurity)
			n := 10
			if j == 0 {
				n = min(5000, nUsers)
				big = g.ID
			}
			var ms []bridge.Member
			for k := 0; k < n; k++ {
				ms = append(ms, bridge.Member{ID: ids[(j*37+k)%nUsers], Type: "User"})
			}
			c.Groups = append(c.Groups, g)
			c.SetMembers[g.ID] = ms
		}
		if err := e.store.Apply(ctx, e.acct, c); err != nil {
			b.Fatalf("seed groups: %v", err)
		}
	}
	// Statistics, and on PostgreSQL the visibility map, as a store that
	// has been running a while has them (autovacuum would get there within
	// a minute or so of the seed): index-only scans depend on it.
	if sdb, err := e.store.SQLDB(); err == nil {
		stmt := "ANALYZE"
		if e.store.Dialect() == "postgres" {
			stmt = "VACUUM ANALYZE"
		}
		if _, err := sdb.Exec(stmt); err != nil {
			b.Fatalf("%s: %v", stmt, err)
		}
	}
	s := &benchStore{e: e, ids: ids, userNames: userNames, externalIDs: externalIDs, big: big, seedDur: time.Since(start)}
	runtime.GC()
	benchStores[backend] = s
	b.Logf("%s: seeded %d users, %d groups in %s", backend, nUsers, nGroups, s.seedDur.Round(time.Second))
	return s
}

// benchTB keeps the store open after the sub-benchmark that made it:
// its cleanups (closing the store, dropping the PostgreSQL database) run
// when BenchmarkSCIM ends.
type benchTB struct{ *testing.B }

var (
	cleanupMu     sync.Mutex
	benchCleanups []func()
)

func (benchTB) Cleanup(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	benchCleanups = append(benchCleanups, f)
}

func (t benchTB) TempDir() string {
	d, err := os.MkdirTemp("", "scimbench")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func BenchmarkSCIM(b *testing.B) {
	b.Cleanup(func() {
		benchMu.Lock()
		benchStores = map[string]*benchStore{}
		benchMu.Unlock()
		cleanupMu.Lock()
		fs := benchCleanups
		benchCleanups = nil
		cleanupMu.Unlock()
		for i := len(fs) - 1; i >= 0; i-- {
			fs[i]()
		}
	})
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			if backend == "postgres" && os.Getenv("SCIMBRIDGE_BENCH_SCIM_SQLITE")+os.Getenv("SCIMBRIDGE_BENCH_SCIM_POSTGRES") == "" {
				postgresTestURL(benchTB{b}) // skip early without a server
			}
			s := benchSeed(b, backend)
			n := len(s.ids)
			cases := []struct {
				name string
				// path is the i-th request's; seq counts the requests of
				// the client sending it.
				path func(i, seq int) string
			}{
				{"GetUserByID", func(i, _ int) string { return "/scim/v2/Users/" + s.ids[(i*7919)%n] }},
				{"FilterUserNameEq", func(i, _ int) string {
					return "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "`+s.userNames[(i*7919)%n]+`"`)
				}},
				{"FilterExternalIDEq", func(i, _ int) string {
					return "/scim/v2/Users?filter=" + url.QueryEscape(`externalId eq "`+s.externalIDs[(i*7919)%n]+`"`)
				}},
				{"Page100SortedByUserName", func(i, _ int) string {
					return fmt.Sprintf("/scim/v2/Users?sortBy=userName&count=100&startIndex=%d", 1+(i*100)%2000)
				}},
				// Each client reads the whole list page after page, as
				// Entra ID and Okta do (a client sends the next page when
				// it has the last): each page after the first is sought
				// from the cursor of the one before (pagecursor.go),
				// whatever its depth.
				{"Page100SequentialWalk", func(_, seq int) string {
					return fmt.Sprintf("/scim/v2/Users?count=100&startIndex=%d", 1+(seq*100)%max(n-n%100, 100))
				}},
				// A page deep in the table (after row 90,000 of 100,000),
				// by the cursor of the row before it (RFC 9865) and by
				// startIndex, which no sequential walk has sought to.
				{"Page100CursorDeep", func(int, int) string { return "/scim/v2/Users?count=100&cursor=" + s.deepCursor(b) }},
				{"Page100StartIndexDeep", func(int, int) string {
					return fmt.Sprintf("/scim/v2/Users?count=100&startIndex=%d", n*9/10+1)
				}},
				// Pages at random depths between half and all of the
				// table (a fixed sequence), which neither a walk nor an
				// earlier request has a cursor for: each is sought from
				// the checkpoint before it (pagecheckpoint.go). Run alone
				// (-bench .../Page100StartIndexRandomDeep), it includes
				// the first read of the checkpoints.
				{"Page100StartIndexRandomDeep", func(i, _ int) string {
					h := uint64(i+1) * 0x9e3779b97f4a7c15
					h ^= h >> 29
					return fmt.Sprintf("/scim/v2/Users?count=100&startIndex=%d", n/2+1+int(h%uint64(max(n/2-100, 1))))
				}},
				{"Group5000Members", func(int, int) string { return "/scim/v2/Groups/" + s.big }},
				{"Group5000ExcludedMembers", func(int, int) string { return "/scim/v2/Groups/" + s.big + "?excludedAttributes=members" }},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) { runBench(b, s.e, backend+"/"+c.name, c.path) })
			}
		})
	}
}

// benchWriter is the response writer of the harness: like a server's, it
// passes the body on (here: counts it) instead of keeping it, as
// httptest.ResponseRecorder does, so the harness does not bill its own
// copying and garbage to the endpoint.
type benchWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *benchWriter) reset()               { clear(w.h); w.code, w.n = 0, 0 }
func (w *benchWriter) Header() http.Header  { return w.h }
func (w *benchWriter) WriteHeader(code int) { w.code = code }

func (w *benchWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	w.n += len(b)
	return len(b), nil
}

// benchClients is the number of concurrent clients: 4 (twice the cores of
// the project's machine, so requests queue for a core), or
// SCIMBRIDGE_BENCH_CLIENTS, e.g. 2 to see latency without that queueing.
func benchClients() int {
	if v, err := strconv.Atoi(os.Getenv("SCIMBRIDGE_BENCH_CLIENTS")); err == nil && v > 0 {
		return v
	}
	return 4
}

// runBench labels its clients with the case, so one CPU profile of the
// whole run can be cut by case: go tool pprof -tagfocus case=sqlite/... .
func runBench(b *testing.B, e *env, label string, path func(i, seq int) string) {
	ctx := pprof.WithLabels(context.Background(), pprof.Labels("case", label))
	clients := benchClients()
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &benchWriter{h: http.Header{}}
			pprof.SetGoroutineLabels(ctx)
			for seq := 0; ; seq++ {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				req, err := http.NewRequestWithContext(ctx, "GET", "http://scim.example.com"+path(i, seq), nil)
				if err != nil {
					panic(err)
				}
				req.Header.Set("Authorization", "Bearer "+e.token)
				w.reset()
				t0 := time.Now()
				e.h.ServeHTTP(w, req)
				lat[i] = time.Since(t0)
				if w.code != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d requests failed", f)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	// CPU time of this process (the endpoint, SQLite, the harness; not the
	// PostgreSQL server) per request: what the machine's load cannot move.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu_ms/op")
}
