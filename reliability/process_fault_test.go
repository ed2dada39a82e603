package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/db"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/scimbridge once per test process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "scimbridge-reliability-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "scimbridge")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/scimbridge").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// proc is the built binary with one data directory or database and env.
type proc struct {
	t   *testing.T
	env []string
	// logs collects every process's stdout and stderr (searched for secrets).
	logs *logBuffer
	// store reads the same database from the test.
	store *db.Store
}

func newProc(t *testing.T, b string) *proc {
	t.Helper()
	p := &proc{t: t, logs: &logBuffer{}}
	p.env = append(os.Environ(), "SCIMBRIDGE_LOG_LEVEL=debug", "SCIMBRIDGE_DATABASE_URL=", "SCIMBRIDGE_SECRET_KEY=", "SCIMBRIDGE_ADMIN_TOKEN=")
	cfg := db.Config{}
	switch b {
	case "sqlite":
		dir := t.TempDir()
		p.env = append(p.env, "SCIMBRIDGE_DATA_DIR="+dir)
		cfg.DataDir = dir
	case "postgres":
		u, _ := createPostgresDB(t)
		p.env = append(p.env, "SCIMBRIDGE_DATABASE_URL="+u, "SCIMBRIDGE_SECRET_KEY="+strings.Repeat("ab", 32))
		cfg.URL = u
	}
	s, err := db.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p.store = s
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("process output:\n%s", p.logs.String())
		}
	})
	return p
}

func (p *proc) setenv(kv ...string) { p.env = append(p.env, kv...) }

func (p *proc) cmd(args ...string) *exec.Cmd {
	c := exec.Command(binary(p.t), args...)
	c.Env = p.env
	c.Stdout = p.logs
	c.Stderr = p.logs
	return c
}

// run runs a command to its end and returns its exit code and output.
func (p *proc) run(args ...string) (int, string) {
	p.t.Helper()
	var out bytes.Buffer
	c := exec.Command(binary(p.t), args...)
	c.Env = p.env
	c.Stdout = io.MultiWriter(&out, p.logs)
	c.Stderr = io.MultiWriter(&out, p.logs)
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		p.t.Fatalf("%v: %v", args, err)
	}
	return code, out.String()
}

func (p *proc) setDirectory(doc any) {
	p.t.Helper()
	path := filepath.Join(p.t.TempDir(), "settings.json")
	data, _ := json.Marshal(doc)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		p.t.Fatal(err)
	}
	if code, out := p.run("directory", "set", "--account", "default", "--file", path); code != 0 {
		p.t.Fatalf("directory set: exit %d\n%s", code, out)
	}
}

// serve starts `scimbridge serve` on a free port and waits for /healthz.
func (p *proc) serve() (*exec.Cmd, string) {
	p.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := p.cmd("serve", "--listen", addr)
	if err := c.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() {
		if c.ProcessState == nil {
			c.Process.Kill()
			c.Wait()
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return c, base
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("serve did not answer /healthz: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitRun polls the store until the account has a run in status st.
func (p *proc) waitRun(st bridge.RunStatus, within time.Duration) bridge.Run {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for {
		runs, _, err := p.store.ListRuns(context.Background(), "default", 0, 10)
		if err == nil {
			for _, r := range runs {
				if r.Status == st {
					return r
				}
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %s run after %s (runs %+v, %v)", st, within, runs, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func apiCall(t *testing.T, method, url, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

// sampleBehind starts the adsim sample directory behind a proxy the test
// can freeze, and returns the settings document pointing at the proxy.
func sampleBehind(t *testing.T) (*faultProxy, map[string]any) {
	t.Helper()
	srv, facts, err := adsim.NewSample("DC=example,DC=com", adsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	p := newFaultProxy(t, srv.Addr())
	return p, map[string]any{
		"connection": map[string]any{
			"host": p.Host(), "port": p.Port(), "security": "none", "timeoutSeconds": 120,
			"baseDn": "DC=example,DC=com", "bindDn": facts.ServiceDN, "password": adsim.SamplePassword,
		},
		"organizationalUnits": map[string]any{"mode": "all"},
		"distributionLists":   map[string]any{"import": true},
	}
}

// TestSIGKILLMidRunThenRestart kills `scimbridge sync` with SIGKILL while
// its read hangs (the proxy freezes after the bind), then starts `serve`:
// the run is marked failed, the lock is free, and a new run completes.
// Then SIGTERM to serve during a hung run: the run ends cancelled, an
// in-flight request is answered, and serve exits 0.
func TestSIGKILLMidRunThenRestart(t *testing.T) {
	for _, b := range []string{"sqlite", "postgres"} {
		t.Run(b, func(t *testing.T) {
			p := newProc(t, b)
			proxy, doc := sampleBehind(t)
			p.setDirectory(doc)
			const admin = "reliability-bootstrap-admin-token"
			p.setenv("SCIMBRIDGE_ADMIN_TOKEN=" + admin)

			// 1. sync hangs mid-read; kill -9.
			proxy.freezeDown.Store(3000)
			sync := p.cmd("sync", "--account", "default")
			if err := sync.Start(); err != nil {
				t.Fatal(err)
			}
			running := p.waitRun(bridge.RunRunning, 20*time.Second)
			time.Sleep(200 * time.Millisecond) // well inside the read
			if err := sync.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = sync.Wait()
			proxy.reset()
			if r, _ := p.store.GetRun(context.Background(), "default", running.ID); r.Status != bridge.RunRunning {
				t.Fatalf("the killed run is %s before the restart", r.Status)
			}

			// 2. serve marks it failed at start; the lock is free.
			srv, base := p.serve()
			code, body := apiCall(t, "GET", base+"/api/v1/accounts/default/runs/"+running.ID, admin, nil)
			var got bridge.Run
			_ = json.Unmarshal(body, &got)
			if code != 200 || got.Status != bridge.RunFailed || !strings.Contains(got.Error, "stopped before the run finished") {
				t.Fatalf("the killed run after restart: %d %s", code, body)
			}
			code, body = apiCall(t, "POST", base+"/api/v1/accounts/default/runs", admin, map[string]any{})
			if code != http.StatusAccepted {
				t.Fatalf("Run Now after the restart: %d %s (is the lock still held?)", code, body)
			}
			_ = json.Unmarshal(body, &got)
			ok := waitFor(30*time.Second, func() bool {
				r, err := p.store.GetRun(context.Background(), "default", got.ID)
				return err == nil && r.Status != bridge.RunRunning
			})
			r, _ := p.store.GetRun(context.Background(), "default", got.ID)
			if !ok || r.Status != bridge.RunSucceeded || r.Counts.Users.Added == 0 {
				t.Fatalf("the run after the restart: %+v", r)
			}

			// 3. SIGTERM while a run hangs and a request is in flight.
			proxy.freezeDown.Store(3000)
			// The run's end is recorded just before its lock is released:
			// wait for the lock.
			waitFor(5*time.Second, func() bool {
				code, body = apiCall(t, "POST", base+"/api/v1/accounts/default/runs", admin, map[string]any{"full": true})
				return code != http.StatusConflict
			})
			if code != http.StatusAccepted {
				t.Fatalf("Run Now: %d %s", code, body)
			}
			_ = json.Unmarshal(body, &got)
			time.Sleep(300 * time.Millisecond)
			// A request whose body is still being sent when SIGTERM comes.
			pr, pw := io.Pipe()
			req, _ := http.NewRequest("PUT", base+"/api/v1/accounts/default/schedule", pr)
			req.Header.Set("Authorization", "Bearer "+admin)
			req.Header.Set("Content-Type", "application/json")
			type answer struct {
				code int
				err  error
			}
			answered := make(chan answer, 1)
			go func() {
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					answered <- answer{0, err}
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				answered <- answer{res.StatusCode, nil}
			}()
			io.WriteString(pw, `{"enabled": false,`)
			time.Sleep(200 * time.Millisecond)
			if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			io.WriteString(pw, ` "timeZone": "UTC"}`)
			pw.Close()
			select {
			case a := <-answered:
				if a.err != nil || a.code != 200 {
					t.Errorf("the request in flight at SIGTERM: %d %v, want 200 (drained)", a.code, a.err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the request in flight at SIGTERM got no answer")
			}
			exited := make(chan error, 1)
			go func() { exited <- srv.Wait() }()
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("serve exited with %v after SIGTERM, want 0", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not exit within 30 s of SIGTERM (a hung run blocks shutdown)")
			}
			proxy.reset()
			r, _ = p.store.GetRun(context.Background(), "default", got.ID)
			if r.Status != bridge.RunCancelled || r.FinishedAt == nil {
				t.Errorf("the run hung at SIGTERM is %s %q, want cancelled", r.Status, r.Error)
			}
			t.Logf("run at SIGTERM: %s %q", r.Status, r.Error)
			// Every process logged at Debug: neither the bind password nor
			// the admin token is in any of it.
			for _, secret := range []string{adsim.SamplePassword, admin} {
				if strings.Contains(p.logs.String(), secret) {
					t.Errorf("a secret (%d chars) is in the processes' debug logs", len(secret))
				}
			}
		})
	}
}

func waitFor(d time.Duration, f func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if f() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return f()
}
