package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// fakeTokens knows one token per role; "broken" makes the store fail.
type fakeTokens map[string]bridge.Token

func (f fakeTokens) FindToken(_ context.Context, hash []byte) (bridge.Token, error) {
	if string(hash) == string(bridge.HashToken("broken")) {
		return bridge.Token{}, errors.New("database down")
	}
	for _, t := range f {
		if string(t.Hash) == string(hash) {
			return t, nil
		}
	}
	return bridge.Token{}, bridge.ErrNotFound
}

func (f fakeTokens) CreateToken(context.Context, bridge.Token) error            { return nil }
func (f fakeTokens) ListTokens(context.Context, string) ([]bridge.Token, error) { return nil, nil }
func (f fakeTokens) DeleteToken(context.Context, string, string) error          { return nil }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// step is one request of a scenario and what it must get.
type step struct {
	remote string // RemoteAddr ("192.0.2.1:1234" when empty)
	xff    string
	token  string // "", "valid", "auditor" (wrong role), "broken", or anything else (unknown)
	wait   time.Duration
	repeat int // send it this many times (1 when 0)
	want   int
	retry  int // Retry-After seconds, checked when want is 429
}

func TestMiddlewareLimitsFailures(t *testing.T) {
	// 3 failures per 30 s: one failure is forgiven every 10 s.
	cfg := LimiterConfig{Failures: 3, Per: 30 * time.Second}
	cases := []struct {
		name    string
		trusted string
		steps   []step
	}{
		{"no token: 3 x 401, then 429 with Retry-After", "", []step{
			{repeat: 3, want: 401}, {want: 429, retry: 10}, {wait: 4 * time.Second, want: 429, retry: 6},
		}},
		{"unknown token counts like no token", "", []step{
			{token: "guess", repeat: 2, want: 401}, {want: 401}, {token: "guess2", want: 429},
		}},
		{"a valid token is never limited", "", []step{
			{token: "guess", repeat: 3, want: 401}, {token: "guess", want: 429},
			{token: "valid", repeat: 5, want: 200}, {token: "guess", want: 429},
		}},
		{"a valid token of the wrong role is 403 and does not count", "", []step{
			{token: "auditor", repeat: 10, want: 403}, {token: "guess", repeat: 3, want: 401}, {token: "guess", want: 429},
		}},
		{"a store failure is 503 and does not count", "", []step{
			{token: "broken", repeat: 10, want: 503}, {repeat: 3, want: 401}, {want: 429},
		}},
		{"the bucket refills one failure every 10 s", "", []step{
			{repeat: 3, want: 401}, {want: 429}, {wait: 10 * time.Second, want: 401}, {want: 429, retry: 10},
			{wait: 30 * time.Second, repeat: 3, want: 401}, {want: 429},
		}},
		{"429s do not push the refill back", "", []step{
			{repeat: 3, want: 401}, {wait: 5 * time.Second, repeat: 20, want: 429}, {wait: 5 * time.Second, want: 401},
		}},
		{"another address has its own bucket", "", []step{
			{repeat: 3, want: 401}, {want: 429}, {remote: "198.51.100.7:4000", repeat: 3, want: 401},
			{remote: "198.51.100.7:5000", want: 429},
		}},
		{"X-Forwarded-For is ignored without a trusted proxy", "", []step{
			{xff: "203.0.113.1", want: 401}, {xff: "203.0.113.2", want: 401}, {xff: "203.0.113.3", want: 401},
			{xff: "203.0.113.4", want: 429},
		}},
		{"X-Forwarded-For is ignored from a peer that is not a trusted proxy", "10.0.0.0/8", []step{
			{xff: "203.0.113.1", want: 401}, {xff: "203.0.113.2", want: 401}, {xff: "203.0.113.3", want: 401},
			{xff: "203.0.113.4", want: 429},
		}},
		{"behind a trusted proxy each forwarded client has a bucket", "10.0.0.0/8", []step{
			{remote: "10.1.2.3:999", xff: "203.0.113.1", repeat: 3, want: 401},
			{remote: "10.1.2.3:999", xff: "203.0.113.1", want: 429},
			{remote: "10.9.9.9:999", xff: "203.0.113.2", repeat: 3, want: 401},
			{remote: "10.9.9.9:999", xff: "203.0.113.1", want: 429},
		}},
		{"a client cannot pick its key by prepending to X-Forwarded-For", "10.0.0.0/8", []step{
			{remote: "10.1.2.3:999", xff: "198.18.0.1, 203.0.113.1", want: 401},
			{remote: "10.1.2.3:999", xff: "198.18.0.2, 203.0.113.1", want: 401},
			{remote: "10.1.2.3:999", xff: "garbage, 203.0.113.1, 10.5.5.5", want: 401},
			{remote: "10.1.2.3:999", xff: "203.0.113.1", want: 429},
		}},
		{"a malformed X-Forwarded-For counts against the proxy", "10.0.0.0/8", []step{
			{remote: "10.1.2.3:999", xff: "not-an-ip", repeat: 3, want: 401},
			{remote: "10.1.2.3:999", want: 429},
		}},
		{"IPv6 clients are counted per /64", "", []step{
			{remote: "[2001:db8:1:2::1]:1", want: 401}, {remote: "[2001:db8:1:2:ffff::9]:1", want: 401},
			{remote: "[2001:db8:1:2::abcd%eth0]:1", want: 401}, {remote: "[2001:db8:1:2::7]:1", want: 429},
			{remote: "[2001:db8:1:3::1]:1", want: 401},
		}},
		{"an IPv4-mapped IPv6 peer is the IPv4 client", "", []step{
			{remote: "[::ffff:192.0.2.1]:1", repeat: 3, want: 401}, {want: 429},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := &clock{t: time.Unix(1_700_000_000, 0)}
			cfg := cfg
			cfg.Now = clk.now
			if c.trusted != "" {
				p, err := ParseTrustedProxies(c.trusted)
				if err != nil {
					t.Fatal(err)
				}
				cfg.TrustedProxies = p
			}
			lim := NewLimiter(cfg)
			h := Middleware(Config{Tokens: fakeTokens{
				"valid":   {ID: "v", Role: bridge.TokenSCIM, Hash: bridge.HashToken("valid")},
				"auditor": {ID: "a", Role: bridge.TokenAuditor, Hash: bridge.HashToken("auditor")},
			}, Roles: []bridge.TokenRole{bridge.TokenSCIM}, Limiter: lim})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(200)
			}))
			for i, s := range c.steps {
				clk.add(s.wait)
				for n := range max(s.repeat, 1) {
					req := httptest.NewRequest("GET", "/x", nil)
					req.RemoteAddr = "192.0.2.1:1234"
					if s.remote != "" {
						req.RemoteAddr = s.remote
					}
					if s.xff != "" {
						req.Header.Set("X-Forwarded-For", s.xff)
					}
					if s.token != "" {
						req.Header.Set("Authorization", "Bearer "+s.token)
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != s.want {
						t.Fatalf("step %d (#%d): %d %q, want %d", i, n+1, w.Code, w.Body.String(), s.want)
					}
					ra := w.Header().Get("Retry-After")
					switch {
					case s.want == 429 && ra == "":
						t.Fatalf("step %d: 429 without Retry-After", i)
					case s.want == 429 && s.retry != 0 && ra != strconv.Itoa(s.retry):
						t.Fatalf("step %d: Retry-After %s, want %d", i, ra, s.retry)
					case s.want != 429 && ra != "":
						t.Fatalf("step %d: %d with Retry-After %s", i, w.Code, ra)
					case s.want == 401 && w.Header().Get("WWW-Authenticate") == "":
						t.Fatalf("step %d: 401 without WWW-Authenticate", i)
					}
				}
			}
		})
	}
}

// TestLimiterMemoryIsBounded: a flood of failures from many addresses
// keeps at most MaxClients buckets, evicting the least recently failed;
// refilled buckets are dropped as time passes.
func TestLimiterMemoryIsBounded(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	lim := NewLimiter(LimiterConfig{Failures: 2, Per: time.Minute, MaxClients: 100, Now: clk.now})
	req := func(i int) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1", i>>16&255, i>>8&255, i&255)
		return r
	}
	for i := range 20_000 {
		lim.Fail(req(i))
		if n := lim.Clients(); n > 100 {
			t.Fatalf("%d buckets after %d clients, cap 100", n, i+1)
		}
	}
	// The most recent client is still tracked, the oldest was evicted.
	last := req(19_999)
	lim.Fail(last)
	if _, limited := lim.Fail(last); !limited {
		t.Fatal("the most recent client lost its bucket")
	}
	if _, limited := lim.Fail(req(0)); limited {
		t.Fatal("the oldest client was not evicted")
	}
	// Once every bucket has refilled, the next failure drops them all.
	clk.add(2 * time.Minute)
	lim.Fail(req(5))
	if n := lim.Clients(); n != 1 {
		t.Fatalf("%d buckets after every bucket refilled, want 1", n)
	}
}

// TestLimiterConcurrent: failures from many goroutines are counted exactly
// (run with -race).
func TestLimiterConcurrent(t *testing.T) {
	lim := NewLimiter(LimiterConfig{Failures: 50, Per: time.Hour})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				r := httptest.NewRequest("GET", "/", nil)
				if _, limited := lim.Fail(r); !limited {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if allowed != 50 || lim.Limited() != 350 {
		t.Fatalf("allowed %d (want 50), limited %d (want 350)", allowed, lim.Limited())
	}
}

func TestParseTrustedProxies(t *testing.T) {
	cases := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}, false},
		{" 10.1.2.3/8 , 192.0.2.7,2001:db8::/32 ", []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"}, false},
		{"10.0.0.0/33", nil, true},
		{"proxy.example.com", nil, true},
	}
	for _, c := range cases {
		got, err := ParseTrustedProxies(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("%q: err %v", c.in, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: %v, want %v", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != netip.MustParsePrefix(c.want[i]) {
				t.Errorf("%q: %v, want %v", c.in, got, c.want)
			}
		}
	}
}

func TestNilLimiterLimitsNothing(t *testing.T) {
	var lim *Limiter
	for range 100 {
		if _, limited := lim.Fail(httptest.NewRequest("GET", "/", nil)); limited {
			t.Fatal("a nil limiter limited")
		}
	}
}
