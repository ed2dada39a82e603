package reliability

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// faultProxy is a TCP proxy on 127.0.0.1:0 in front of a real server (the
// Samba lab's LDAP port, PostgreSQL, an adsim server). The test cuts or
// freezes the connections through it, so the real server's answer is
// interrupted without stopping the server that other packages' tests use.
type faultProxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	// cutDown, when above zero, closes a connection once the server has
	// sent that many bytes on it: the client sees the answer stop in the
	// middle. It applies to connections accepted after it is set.
	cutDown atomic.Int64
	// cutUp is the same for bytes the client sent (a write cut off in the
	// middle of a transaction).
	cutUp atomic.Int64
	// freezeDown, when above zero, freezes every connection once the server
	// has sent that many bytes on one of them.
	freezeDown atomic.Int64
	// cutUpArmed, when above zero, cuts the connection on which the
	// client's bytes, counted over every connection from the moment it is
	// set, reach it: a connection already open (a pooled database
	// connection) is cut in the middle of what it sends. One-shot.
	cutUpArmed atomic.Int64
	upSinceArm atomic.Int64
	// cuts counts connections the proxy cut.
	cuts atomic.Int64
	// down counts every byte the server sent, over all connections.
	down atomic.Int64

	mu     sync.Mutex
	frozen chan struct{} // non-nil while frozen; closed to thaw
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is where clients connect.
func (p *faultProxy) Addr() string { return p.ln.Addr().String() }

func (p *faultProxy) Host() string { h, _, _ := net.SplitHostPort(p.Addr()); return h }

func (p *faultProxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// freeze stops forwarding on every connection (open and new): the sockets
// stay open but nothing more arrives, as with a hung server.
func (p *faultProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen == nil {
		p.frozen = make(chan struct{})
	}
}

// thaw resumes forwarding.
func (p *faultProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen != nil {
		close(p.frozen)
		p.frozen = nil
	}
}

// cutAll closes every open connection at once.
func (p *faultProxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// armUpCut cuts, one time, the connection whose bytes to the server
// reach n counted from now over all connections.
func (p *faultProxy) armUpCut(n int64) {
	p.upSinceArm.Store(0)
	p.cutUpArmed.Store(n)
}

// reset disarms every fault and thaws.
func (p *faultProxy) reset() {
	p.cutDown.Store(0)
	p.cutUp.Store(0)
	p.freezeDown.Store(0)
	p.cutUpArmed.Store(0)
	p.thaw()
}

func (p *faultProxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ln.Close()
	p.thaw()
	p.cutAll()
	p.wg.Wait()
}

func (p *faultProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *faultProxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, s) {
			c.Close()
			s.Close()
			return
		}
		cutDown, cutUp := p.cutDown.Load(), p.cutUp.Load()
		var once sync.Once
		kill := func() {
			once.Do(func() { c.Close(); s.Close(); p.untrack(c, s) })
		}
		p.wg.Add(2)
		go func() { defer p.wg.Done(); p.pipe(c, s, cutDown, true, kill) }()
		go func() { defer p.wg.Done(); p.pipe(s, c, cutUp, false, kill) }()
	}
}

// pipe copies src to dst (down: server to client), waiting while frozen,
// and kills the pair after limit bytes when limit is above zero.
func (p *faultProxy) pipe(dst, src net.Conn, limit int64, down bool, kill func()) {
	defer kill()
	buf := make([]byte, 16<<10)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			chunk := buf[:k]
			if limit > 0 && n+int64(k) >= limit {
				chunk = chunk[:max(0, limit-n)]
				p.wait()
				_, _ = dst.Write(chunk)
				p.cuts.Add(1)
				return
			}
			if a := p.cutUpArmed.Load(); !down && a > 0 && p.upSinceArm.Add(int64(k)) >= a &&
				p.cutUpArmed.CompareAndSwap(a, 0) {
				_, _ = dst.Write(chunk[:k/2])
				p.cuts.Add(1)
				return
			}
			if f := p.freezeDown.Load(); down && f > 0 && n+int64(k) >= f {
				p.freeze()
			}
			p.wait()
			if _, werr := dst.Write(chunk); werr != nil {
				return
			}
			n += int64(k)
			if down {
				p.down.Add(int64(k))
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			return
		}
	}
}

func (p *faultProxy) wait() {
	p.mu.Lock()
	ch := p.frozen
	p.mu.Unlock()
	if ch != nil {
		<-ch
	}
}
