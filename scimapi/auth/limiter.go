package auth

import (
	"container/list"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limiter rate-limits authentication failures per client address with a
// token bucket: a client may fail Failures times in a burst, and one more
// failure is allowed every Per/Failures after that. Past that, refusals
// are 429 with Retry-After instead of 401, until the bucket holds a token
// again. Only failures take tokens: a request with a valid token is never
// limited, so a client behind the same NAT as an attacker keeps working.
// (The same is true of an attacker who guesses a valid token, but tokens
// are 256-bit random: the limiter bounds the cost and noise of failures,
// it is not what makes guessing infeasible.)
//
// The client is the address of the TCP peer (RemoteAddr). X-Forwarded-For
// is read only when the peer is a trusted proxy (LimiterConfig.
// TrustedProxies; none by default), walking the header from the right and
// stopping at the first address that is not a trusted proxy, so a client
// cannot choose its own key. IPv6 clients are counted per /64, the
// smallest network a client usually controls.
//
// Memory is bounded: at most MaxClients buckets, least recently failed
// evicted first, and buckets that have refilled are dropped as they age.
//
// One Limiter is shared by the SCIM endpoint, the admin API and the
// console sign-in (scimapi.NewRouter wires it), so failures on one surface
// count against the others. A nil *Limiter limits nothing.
type Limiter struct {
	burst    float64
	interval time.Duration // one token is added every interval
	max      int
	trusted  []netip.Prefix
	now      func() time.Time
	log      *slog.Logger

	mu      sync.Mutex
	clients map[netip.Addr]*list.Element
	lru     list.List // of *bucket; front: most recent failure
	limited uint64
}

// LimiterConfig configures NewLimiter. The zero value is the default:
// 10 failures a minute per client, 10,000 clients tracked, no proxy
// trusted.
type LimiterConfig struct {
	// Failures is the bucket size: how many failures a client may make in a
	// burst (DefaultFailures when 0).
	Failures int
	// Per is the time in which an empty bucket refills (DefaultPer when 0).
	Per time.Duration
	// MaxClients bounds the buckets kept (DefaultMaxClients when 0).
	MaxClients int
	// TrustedProxies are the networks of reverse proxies whose
	// X-Forwarded-For is believed. Empty: the header is ignored.
	TrustedProxies []netip.Prefix
	// Log receives one warning when a client starts being limited.
	Log *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Defaults of LimiterConfig.
const (
	DefaultFailures   = 10
	DefaultPer        = time.Minute
	DefaultMaxClients = 10000
)

type bucket struct {
	key    netip.Addr
	tokens float64
	at     time.Time // when tokens was computed
	warned bool      // a warning was logged since the last allowed failure
}

// NewLimiter returns a limiter with cfg's limits.
func NewLimiter(cfg LimiterConfig) *Limiter {
	if cfg.Failures <= 0 {
		cfg.Failures = DefaultFailures
	}
	if cfg.Per <= 0 {
		cfg.Per = DefaultPer
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	trusted := make([]netip.Prefix, len(cfg.TrustedProxies))
	for i, p := range cfg.TrustedProxies {
		trusted[i] = netip.PrefixFrom(p.Addr().Unmap(), bitsUnmapped(p)).Masked()
	}
	return &Limiter{
		burst: float64(cfg.Failures), interval: cfg.Per / time.Duration(cfg.Failures), max: cfg.MaxClients,
		trusted: trusted, now: cfg.Now, log: cfg.Log, clients: map[netip.Addr]*list.Element{},
	}
}

func bitsUnmapped(p netip.Prefix) int {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return p.Bits() - 96
	}
	return p.Bits()
}

// ParseTrustedProxies reads a comma-separated list of CIDR prefixes or
// single addresses ("10.0.0.0/8, 192.0.2.7").
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is neither an IP address nor a CIDR prefix", f)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Fail records an authentication failure of r's client. limited reports
// that the client had no failure left: answer 429 with retryAfter (see
// SetRetryAfter) instead of 401.
func (l *Limiter) Fail(r *http.Request) (retryAfter time.Duration, limited bool) {
	if l == nil {
		return 0, false
	}
	key := l.ClientKey(r)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expire(now)
	var b *bucket
	if e, ok := l.clients[key]; ok {
		b = e.Value.(*bucket)
		l.refill(b, now)
		l.lru.MoveToFront(e)
	} else {
		for len(l.clients) >= l.max {
			l.remove(l.lru.Back())
		}
		b = &bucket{key: key, tokens: l.burst, at: now}
		l.clients[key] = l.lru.PushFront(b)
	}
	if b.tokens >= 1 {
		b.tokens--
		b.warned = false
		return 0, false
	}
	l.limited++
	if !b.warned {
		b.warned = true
		l.log.Warn("authentication failures rate-limited", "client", key.String(),
			"failures", int(l.burst), "per", time.Duration(l.burst)*l.interval)
	}
	return time.Duration((1 - b.tokens) * float64(l.interval)), true
}

// refill adds the tokens earned since b.at.
func (l *Limiter) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.at); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+float64(el)/float64(l.interval))
	}
	b.at = now
}

// expire drops the least recently failed buckets that have refilled: they
// hold no state a new bucket would not.
func (l *Limiter) expire(now time.Time) {
	for e := l.lru.Back(); e != nil; e = l.lru.Back() {
		b := e.Value.(*bucket)
		if float64(now.Sub(b.at)) < (l.burst-b.tokens)*float64(l.interval) {
			return
		}
		l.remove(e)
	}
}

func (l *Limiter) remove(e *list.Element) {
	delete(l.clients, e.Value.(*bucket).key)
	l.lru.Remove(e)
}

// Clients is the number of buckets kept.
func (l *Limiter) Clients() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// Limited counts the failures refused with 429 so far.
func (l *Limiter) Limited() uint64 {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limited
}

// ClientKey is the key r's failures are counted under: the peer address,
// or the client a trusted proxy names in X-Forwarded-For; an IPv6 address
// is reduced to its /64. The zero Addr when RemoteAddr is not an address.
func (l *Limiter) ClientKey(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	a = a.Unmap().WithZone("")
	if l != nil && len(l.trusted) > 0 && l.trusts(a) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			c, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // malformed: keep the last hop that was trusted
			}
			a = c.Unmap().WithZone("")
			if !l.trusts(a) {
				break
			}
		}
	}
	if a.Is6() {
		a = netip.PrefixFrom(a, 64).Masked().Addr()
	}
	return a
}

func (l *Limiter) trusts(a netip.Addr) bool {
	for _, p := range l.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// SetRetryAfter sets the Retry-After header to d in whole seconds, at
// least 1.
func SetRetryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds(d)))
}

// RetryAfterSeconds is d rounded up to whole seconds, at least 1.
func RetryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}
