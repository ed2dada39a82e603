package synctest

// BenchmarkDeltaScale shows whether a delta run's cost depends on the
// directory's size (issue #6): per size, a full sync over LDAP from adsim,
// a delta with nothing changed, SCIMBRIDGE_BENCH_CHANGES changes (adds,
// modifies, deletes, membership changes: applyBenchChanges) and the delta
// that catches them. Unlike BenchmarkDelta it skips the second full run,
// so 50,000 users take minutes, not many. Same knobs as bench_test.go,
// default sizes 5,000 and 50,000; SCIMBRIDGE_BENCH_DELTA_PROF=file writes
// a CPU profile of the changes' delta run (the last size wins).
//
//	go test -c -o /tmp/synctest-delta.test ./bridge/synctest
//	/tmp/synctest-delta.test -test.run '^$' -test.bench DeltaScale -test.benchtime 1x -test.timeout 60m

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

type deltaScaleResult struct {
	Users        int     `json:"users"`
	FullSec      float64 `json:"fullSeconds"`
	NoChangeSec  float64 `json:"noChangeDeltaSeconds"`
	DeltaSec     float64 `json:"deltaSeconds"`
	DeltaCounts  string  `json:"deltaCounts"`
	NoChangeKind string  `json:"noChangeKind"`
}

func BenchmarkDeltaScale(b *testing.B) {
	for _, store := range envStores() {
		for _, n := range envInts("SCIMBRIDGE_BENCH_USERS", []int{5000, 50000}) {
			b.Run(fmt.Sprintf("%s/users=%d", store, n), func(b *testing.B) {
				for b.Loop() {
					res := deltaScaleChild(b, store, n)
					b.ReportMetric(res.NoChangeSec, "nochange-delta-s")
					b.ReportMetric(res.DeltaSec, "delta-s")
					b.ReportMetric(res.FullSec, "full-s")
					b.Logf("%s %d users: %s", store, n, asJSON(res))
				}
			})
		}
	}
}

// deltaScaleChild runs one case in a fresh process, so the sizes do not
// share a heap or a Go runtime's warm caches.
func deltaScaleChild(b *testing.B, store string, users int) deltaScaleResult {
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeltaScaleChild$", "-test.v", "-test.timeout=60m")
	cmd.Env = append(os.Environ(), "SCIMBRIDGE_DELTA_CHILD_STORE="+store, "SCIMBRIDGE_DELTA_CHILD_USERS="+strconv.Itoa(users))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		b.Fatalf("child: %v\n%s", err, out.String())
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if _, after, ok := strings.Cut(sc.Text(), "DELTARESULT "); ok {
			var res deltaScaleResult
			if err := json.Unmarshal([]byte(after), &res); err != nil {
				b.Fatal(err)
			}
			if os.Getenv("SCIMBRIDGE_BENCH_LOG") != "" {
				fmt.Fprint(os.Stderr, out.String()) // the phase timings (b.Logf would cut them)
			}
			return res
		}
	}
	b.Skipf("child gave no result (store unavailable?):\n%s", out.String())
	return deltaScaleResult{}
}

// TestDeltaScaleChild is one BenchmarkDeltaScale case; skipped otherwise.
func TestDeltaScaleChild(t *testing.T) {
	users, _ := strconv.Atoi(os.Getenv("SCIMBRIDGE_DELTA_CHILD_USERS"))
	if users == 0 {
		t.Skip("runs only as BenchmarkDeltaScale's child process")
	}
	groups := envInt("SCIMBRIDGE_BENCH_GROUPS", 100)
	e := benchEnv(t, "SCIMBRIDGE_DELTA_CHILD_STORE")
	const acct = "bench"
	settings := benchSettings()
	srv := startBenchADSim(t, &settings, users, groups)
	e.configure(acct, settings)

	res := deltaScaleResult{Users: users}
	start := time.Now()
	r := e.mustSucceed(bridge.RunOptions{Account: acct, Full: true})
	res.FullSec = time.Since(start).Seconds()
	if r.Counts.Users.Added != users {
		t.Fatalf("full run: %s", r.Summary())
	}

	start = time.Now()
	r = e.mustSucceed(bridge.RunOptions{Account: acct, Trigger: bridge.TriggerSchedule})
	res.NoChangeSec = time.Since(start).Seconds()
	res.NoChangeKind = string(r.Kind)
	if r.Kind != bridge.RunDelta || totalCounts(r.Counts) != 0 {
		t.Fatalf("delta with nothing changed: %s (%s): %s", r.Kind, r.KindReason, r.Summary())
	}

	applyBenchChanges(t, srv, users, groups, envInt("SCIMBRIDGE_BENCH_CHANGES", 100))
	if path := os.Getenv("SCIMBRIDGE_BENCH_DELTA_PROF"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		_ = pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	start = time.Now()
	r = e.mustSucceed(bridge.RunOptions{Account: acct, Trigger: bridge.TriggerSchedule})
	res.DeltaSec = time.Since(start).Seconds()
	res.DeltaCounts = r.Summary()
	if r.Kind != bridge.RunDelta {
		t.Fatalf("not a delta: %s (%s)", r.Kind, r.KindReason)
	}
	fmt.Printf("DELTARESULT %s\n", asJSON(res))
}
