package synctest

// Sync engine benchmarks. Each case runs in a fresh test process (the test
// binary re-executed with SCIMBRIDGE_BENCH_CHILD set), so its peak RSS
// (VmHWM) is its own and not inflated by an earlier case. Knobs:
//
//	SCIMBRIDGE_BENCH_USERS   comma list of directory sizes (default per benchmark)
//	SCIMBRIDGE_BENCH_GROUPS  groups besides "Load All" (default 100)
//	SCIMBRIDGE_BENCH_STORES  comma list of sqlite,postgres (default both)
//	SCIMBRIDGE_BENCH_CHANGES changes before a delta run (default 100)
//
//	go test ./bridge/synctest -run '^$' -bench 'Engine|Delta' -benchtime 1x -timeout 60m
//
// See docs/benchmarks.md, "Sync engine".

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

const benchBase = "DC=bench,DC=example,DC=com"

type benchResult struct {
	Users      int     `json:"users"`
	Objects    int     `json:"objects"`
	FullSec    float64 `json:"fullSeconds"`
	UsersPerS  float64 `json:"usersPerSecond"`
	SecondSec  float64 `json:"secondSeconds"`
	DeltaSec   float64 `json:"deltaSeconds,omitempty"`
	DeltaKind  string  `json:"deltaKind,omitempty"`
	DeltaCount string  `json:"deltaCounts,omitempty"`
	PeakRSSMiB float64 `json:"peakRSSMiB"`
	// FirstPeakRSSMiB is the peak at the end of the first (full, all
	// added) run, before the second run loads the stored states.
	FirstPeakRSSMiB float64 `json:"firstPeakRSSMiB"`

	NoChangeDeltaSec float64 `json:"noChangeDeltaSeconds,omitempty"`
}

func envInts(name string, def []int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, s := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func envStores() []string {
	v := os.Getenv("SCIMBRIDGE_BENCH_STORES")
	if v == "" {
		return []string{"sqlite", "postgres"}
	}
	return strings.Split(v, ",")
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkEngine: the engine alone, a full sync from an instant in-process
// directory (adsim.Generate, no LDAP) into the store, then a second full
// sync with nothing changed. Default 100,000 and 200,000 users.
func BenchmarkEngine(b *testing.B) {
	for _, store := range envStores() {
		for _, n := range envInts("SCIMBRIDGE_BENCH_USERS", []int{100000, 200000}) {
			b.Run(fmt.Sprintf("%s/users=%d", store, n), func(b *testing.B) {
				benchChild(b, "engine", store, n)
			})
		}
	}
}

// BenchmarkDelta: a full sync over LDAP from adsim, then
// SCIMBRIDGE_BENCH_CHANGES changes (a quarter each: adds, modifies,
// deletes, membership changes) and the delta run that catches them.
// Default 5,000 and 50,000 users.
func BenchmarkDelta(b *testing.B) {
	for _, store := range envStores() {
		for _, n := range envInts("SCIMBRIDGE_BENCH_USERS", []int{5000, 50000}) {
			b.Run(fmt.Sprintf("%s/users=%d", store, n), func(b *testing.B) {
				benchChild(b, "delta", store, n)
			})
		}
	}
}

// BenchmarkSamba: the whole Samba lab named by the environment
// (SCIMBRIDGE_LAB_* or $SCIMBRIDGE_LAB_ENV_FILE): a full sync, a full sync
// with nothing changed, a delta with nothing changed, then 100 changes in
// CN=DeltaBench (25 new users, 25 deleted, 25 modified, 25 members added)
// and the delta run that catches them. Writes to the lab (and cleans up),
// so it runs only with SCIMBRIDGE_BENCH_SAMBA=1.
func BenchmarkSamba(b *testing.B) {
	if os.Getenv("SCIMBRIDGE_BENCH_SAMBA") != "1" {
		b.Skip("set SCIMBRIDGE_BENCH_SAMBA=1 (it writes to the lab)")
	}
	for _, store := range envStores() {
		b.Run(store, func(b *testing.B) { benchChild(b, "samba", store, 0) })
	}
}

func benchChild(b *testing.B, mode, store string, users int) {
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBenchChild$", "-test.v", "-test.timeout=60m")
		cmd.Env = append(os.Environ(), "SCIMBRIDGE_BENCH_CHILD="+mode, "SCIMBRIDGE_BENCH_CHILD_STORE="+store,
			"SCIMBRIDGE_BENCH_CHILD_USERS="+strconv.Itoa(users))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			b.Fatalf("child: %v\n%s", err, out.String())
		}
		var res benchResult
		found := false
		sc := bufio.NewScanner(&out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if _, after, ok := strings.Cut(sc.Text(), "BENCHRESULT "); ok {
				if err := json.Unmarshal([]byte(after), &res); err != nil {
					b.Fatal(err)
				}
				found = true
			}
		}
		if !found {
			b.Skipf("child gave no result (store unavailable?):\n%s", out.String())
		}
		b.ReportMetric(res.UsersPerS, "users/s")
		b.ReportMetric(res.FullSec, "full-s")
		b.ReportMetric(res.SecondSec, "nochange-s")
		if mode != "engine" {
			b.ReportMetric(res.DeltaSec, "delta-s")
		}
		if res.NoChangeDeltaSec > 0 {
			b.ReportMetric(res.NoChangeDeltaSec, "nochange-delta-s")
		}
		b.ReportMetric(res.PeakRSSMiB, "peak-RSS-MiB")
		b.ReportMetric(res.FirstPeakRSSMiB, "first-run-peak-RSS-MiB")
		b.Logf("%s %s %d users: %s", mode, store, users, asJSON(res))
	}
}

// benchEnv opens the store a benchmark child runs on (SQLite, or
// PostgreSQL when storeVar says so), the engine logging only when
// SCIMBRIDGE_BENCH_LOG asks and writing in its default batches.
func benchEnv(t *testing.T, storeVar string) *env {
	open := openSQLite
	if os.Getenv(storeVar) == "postgres" {
		open = openPostgres
	}
	e := newEnv(t, open(t))
	e.engine.Log = nil
	if os.Getenv("SCIMBRIDGE_BENCH_LOG") != "" {
		e.engine.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: benchLogLevel()}))
	}
	e.engine.BatchSize = 0
	// SCIMBRIDGE_BENCH_BATCH sets the engine's BatchSize instead.
	if n, err := strconv.Atoi(os.Getenv("SCIMBRIDGE_BENCH_BATCH")); err == nil {
		e.engine.BatchSize = n
	}
	return e
}

// benchSettings reads the whole generated tree: every OU, distribution
// lists included.
func benchSettings() bridge.Settings {
	return bridge.Settings{
		Connection: bridge.Connection{Host: "127.0.0.1", Port: 389, Security: bridge.SecurityNone, BaseDN: benchBase,
			BindDN: "CN=svc,DC=bench,DC=example,DC=com", Password: "pw", TimeoutSeconds: 60},
		OrganizationalUnits: bridge.OrganizationalUnits{Mode: bridge.OUAll},
		DistributionLists:   bridge.DistributionLists{Import: true},
	}.WithDefaults()
}

// startBenchADSim serves adsim.Generate's tree over LDAP for the run and
// points settings at it.
func startBenchADSim(t *testing.T, settings *bridge.Settings, users, groups int) *adsim.Server {
	srv, err := adsim.New(adsim.Options{BaseDN: benchBase, BindDN: settings.Connection.BindDN, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddAll(adsim.Generate(benchBase, users, groups)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	settings.Connection.Host, settings.Connection.Port = srv.Host(), srv.Port()
	return srv
}

// TestBenchChild is one benchmark case, run by benchChild in its own
// process; skipped otherwise.
func TestBenchChild(t *testing.T) {
	mode := os.Getenv("SCIMBRIDGE_BENCH_CHILD")
	if mode == "" {
		t.Skip("runs only as a benchmark's child process")
	}
	if mode == "samba" {
		benchSamba(t)
		return
	}
	users, _ := strconv.Atoi(os.Getenv("SCIMBRIDGE_BENCH_CHILD_USERS"))
	groups := envInt("SCIMBRIDGE_BENCH_GROUPS", 100)
	e := benchEnv(t, "SCIMBRIDGE_BENCH_CHILD_STORE")
	const acct = "bench"
	settings := benchSettings()
	var srv *adsim.Server
	switch mode {
	case "engine":
		e.engine.Open = (&instantDir{base: benchBase, users: users, groups: groups, usn: 1}).open
	case "delta":
		srv = startBenchADSim(t, &settings, users, groups)
	}
	e.configure(acct, settings)

	if path := os.Getenv("SCIMBRIDGE_BENCH_HEAP"); path != "" {
		stop := watchHeap(path)
		defer stop()
	}
	res := benchResult{Users: users}
	start := time.Now()
	r := e.mustSucceed(bridge.RunOptions{Account: acct, Full: true})
	res.FullSec = time.Since(start).Seconds()
	res.UsersPerS = float64(users) / res.FullSec
	res.Objects = r.Counts.Users.Added + r.Counts.Groups.Added
	res.FirstPeakRSSMiB = peakRSSMiB()
	if r.Counts.Users.Added != users {
		t.Fatalf("first run: %s", r.Summary())
	}
	start = time.Now()
	r = e.mustSucceed(bridge.RunOptions{Account: acct, Full: true})
	res.SecondSec = time.Since(start).Seconds()
	if r.Counts.Users.Unchanged != users {
		t.Fatalf("second run: %s", r.Summary())
	}
	if mode == "delta" {
		changes := envInt("SCIMBRIDGE_BENCH_CHANGES", 100)
		applyBenchChanges(t, srv, users, groups, changes)
		start = time.Now()
		r = e.mustSucceed(bridge.RunOptions{Account: acct, Trigger: bridge.TriggerSchedule})
		res.DeltaSec = time.Since(start).Seconds()
		res.DeltaKind = string(r.Kind)
		res.DeltaCount = r.Summary()
		if r.Kind != bridge.RunDelta {
			t.Fatalf("not a delta: %s (%s)", r.Kind, r.KindReason)
		}
	}
	res.PeakRSSMiB = peakRSSMiB()
	fmt.Printf("BENCHRESULT %s\n", asJSON(res))
}

// applyBenchChanges makes n changes to a Generate tree: a quarter each of
// new users, modified titles, deleted users and group membership changes.
func applyBenchChanges(t *testing.T, srv *adsim.Server, users, groups, n int) {
	t.Helper()
	q := n / 4
	dept := func(i int) string { return "OU=Dept" + strconv.Itoa(i%10) + ",OU=Load," + benchBase }
	dn := func(i int) string { return "CN=User " + strconv.Itoa(i) + "," + dept(i) }
	for i := 0; i < q; i++ {
		id := users + 1000 + i
		p := adsim.Person{Given: "New", Surname: strconv.Itoa(id), Sam: fmt.Sprintf("n%07d", id), Title: "Hire"}
		if err := srv.Add(adsim.User(benchBase, dept(i), p)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < q; i++ {
		if err := srv.Modify(dn(users/2+i), map[string][]string{"title": {"Changed " + strconv.Itoa(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < q; i++ {
		if !srv.Remove(dn(users - 1 - i)) {
			t.Fatalf("remove %s", dn(users-1-i))
		}
	}
	for i := 0; i < n-3*q; i++ {
		g := 1 + i%max(1, groups-1)
		gdn := "CN=Load Group " + strconv.Itoa(g) + ",OU=Groups,OU=Load," + benchBase
		e, ok := srv.Entry(gdn)
		if !ok {
			t.Fatalf("no %s", gdn)
		}
		members := append(e.Attrs["member"], dn(users/3+i))
		if err := srv.Modify(gdn, map[string][]string{"member": members}); err != nil {
			t.Fatal(err)
		}
	}
}

// peakRSSMiB is this process's VmHWM.
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

var _ = context.Background

// benchLogLevel is Debug when SCIMBRIDGE_BENCH_LOG=debug.
func benchLogLevel() slog.Level {
	if os.Getenv("SCIMBRIDGE_BENCH_LOG") == "debug" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// watchHeap writes a heap profile to path whenever the live heap is the
// largest seen so far (checked every 200 ms), to see what peak memory is.
func watchHeap(path string) func() {
	done := make(chan struct{})
	go func() {
		var best uint64
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > best {
				best = m.HeapAlloc
				if f, err := os.Create(path); err == nil {
					_ = pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
		}
	}()
	return func() { close(done) }
}
