package adsim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/jimlambrt/gldap"
)

// AD's default LDAP policy limits (MS-ADTS 3.1.1.3.4.6).
const (
	DefaultMaxPageSize = 1000
	DefaultMaxValRange = 1500
)

// Options configure a Server. The zero value serves plain LDAP on a free
// port of 127.0.0.1 with AD's limits.
type Options struct {
	// BaseDN is the defaultNamingContext. Default "DC=example,DC=com".
	BaseDN string
	// BindDN and Password are the only credentials a bind may present
	// (change them with SetCredentials). Anonymous binds succeed but, as in
	// AD, may only read the rootDSE.
	BindDN, Password string
	// Addr to listen on; default "127.0.0.1:0" (a free port).
	Addr string
	// TLS enables StartTLS with this certificate (or, with LDAPS, TLS
	// from the first byte).
	TLS   *tls.Config
	LDAPS bool
	// MaxPageSize and MaxValRange default to AD's 1000 and 1500.
	MaxPageSize int
	MaxValRange int
	// DNSHostName of the simulated DC; default "dc1." + the domain.
	DNSHostName string
	// InvocationID is the DC's invocationId (16 raw bytes); default fixed.
	InvocationID []byte
}

// Server is an AD-shaped LDAP server in this process.
type Server struct {
	opts Options
	tree *tree
	srv  *gldap.Server
	addr string

	mu       sync.Mutex
	bindDN   string
	password string
	bound    map[int]bool // connection id -> bound
	pages    map[string]*pagedState
	nextPage int
	conns    map[net.Conn]bool // spliced connections, both halves

	pub   net.Listener // the address clients use
	inner string       // gldap's private loopback address
}

// New builds a server (not yet listening) holding the rootDSE's
// configuration object (the nTDSDSA entry with invocationId).
func New(opts Options) (*Server, error) {
	if opts.BaseDN == "" {
		opts.BaseDN = "DC=example,DC=com"
	}
	if _, _, err := dnKey(opts.BaseDN); err != nil {
		return nil, err
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.MaxPageSize <= 0 {
		opts.MaxPageSize = DefaultMaxPageSize
	}
	if opts.MaxValRange <= 0 {
		opts.MaxValRange = DefaultMaxValRange
	}
	if opts.DNSHostName == "" {
		opts.DNSHostName = "dc1." + domainOf(opts.BaseDN)
	}
	if len(opts.InvocationID) != 16 {
		opts.InvocationID = GUIDFor("invocationId:" + opts.BaseDN)
	}
	if opts.LDAPS && opts.TLS == nil {
		return nil, errors.New("adsim: LDAPS needs Options.TLS")
	}
	s := &Server{
		opts: opts, tree: newTree(),
		bindDN: opts.BindDN, password: opts.Password,
		bound: map[int]bool{}, pages: map[string]*pagedState{},
	}
	s.tree.deleted = DeletedObjectsDN(opts.BaseDN)
	s.tree.ensureDeletedObjects(s.tree.deleted)
	if err := s.tree.put(Entry{DN: s.dsServiceName(), Attrs: map[string][]string{
		"objectClass":  {"top", "applicationSettings", "nTDSDSA"},
		"cn":           {"NTDS Settings"},
		"invocationId": {string(opts.InvocationID)},
	}}); err != nil {
		return nil, err
	}
	return s, nil
}

// SetCredentials changes the DN and password a bind must present.
func (s *Server) SetCredentials(bindDN, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bindDN, s.password = bindDN, password
}

// BaseDN is the server's defaultNamingContext.
func (s *Server) BaseDN() string { return s.opts.BaseDN }

// Start listens and serves in the background; Addr is valid afterwards.
func (s *Server) Start() error {
	mux, err := gldap.NewMux()
	if err != nil {
		return err
	}
	if err := mux.Bind(s.handleBind); err != nil {
		return err
	}
	if err := mux.Search(s.handleSearch); err != nil {
		return err
	}
	if err := mux.ExtendedOperation(s.handleStartTLS, gldap.ExtendedOperationStartTLS); err != nil {
		return err
	}
	if err := mux.Unbind(func(*gldap.ResponseWriter, *gldap.Request) {}); err != nil {
		return err
	}
	if err := mux.DefaultRoute(s.handleUnsupported); err != nil {
		return err
	}
	// gldap listens itself, does not expose its listener, and its Stop
	// waits for every client to hang up. So gldap serves on a private
	// loopback port and the public listener (which can be port 0) splices
	// connections to it; Close cuts the spliced connections, so it never
	// waits on a client that forgot to close.
	pub, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("adsim: cannot listen on %s: %w", s.opts.Addr, err)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		inner, err := resolvePort("127.0.0.1:0")
		if err != nil {
			pub.Close()
			return err
		}
		srv, err := gldap.NewServer(gldap.WithLogger(hclog.NewNullLogger()), gldap.WithOnClose(s.forget))
		if err != nil {
			pub.Close()
			return err
		}
		if err := srv.Router(mux); err != nil {
			pub.Close()
			return err
		}
		var runOpts []gldap.Option
		if s.opts.LDAPS {
			runOpts = append(runOpts, gldap.WithTLSConfig(s.opts.TLS))
		}
		errc := make(chan error, 1)
		go func() { errc <- srv.Run(inner, runOpts...) }()
		if err := waitListening(inner, errc); err != nil {
			lastErr = err
			_ = srv.Stop()
			continue
		}
		s.srv, s.addr, s.inner, s.pub = srv, pub.Addr().String(), inner, pub
		s.conns = map[net.Conn]bool{}
		go s.accept()
		return nil
	}
	pub.Close()
	return fmt.Errorf("adsim: cannot start the LDAP server: %w", lastErr)
}

// accept splices each public connection to gldap's private port.
func (s *Server) accept() {
	for {
		c, err := s.pub.Accept()
		if err != nil {
			return
		}
		go s.splice(c)
	}
}

func (s *Server) splice(c net.Conn) {
	in, err := net.Dial("tcp", s.inner)
	if err != nil {
		c.Close()
		return
	}
	if !s.track(c, in) {
		c.Close()
		in.Close()
		return
	}
	defer s.untrack(c, in)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(in, c); in.Close(); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, in); c.Close(); done <- struct{}{} }()
	<-done
	<-done
}

func (s *Server) track(cs ...net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		return false // closed
	}
	for _, c := range cs {
		s.conns[c] = true
	}
	return true
}

func (s *Server) untrack(cs ...net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		delete(s.conns, c)
	}
}

func resolvePort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("adsim: address %q: %w", addr, err)
	}
	if port != "0" {
		return addr, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer l.Close()
	return net.JoinHostPort(host, strconv.Itoa(l.Addr().(*net.TCPAddr).Port)), nil
}

func waitListening(addr string, errc chan error) error {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-errc:
			if err == nil {
				err = errors.New("server stopped")
			}
			return err
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("timed out waiting for the listener")
}

// Addr is host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// Host and Port split Addr, for building connection settings.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.addr); return h }

func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Close stops the server and drops every connection.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	s.pub.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	err := s.srv.Stop()
	s.srv = nil
	return err
}

// Add adds or replaces entries. Missing objectGUID, uSNCreated, uSNChanged,
// whenCreated and whenChanged are filled in.
func (s *Server) Add(entries ...Entry) error {
	for _, e := range entries {
		if err := s.tree.put(e); err != nil {
			return err
		}
	}
	return nil
}

// AddAll adds every entry of seq (see Generate) without holding them all
// twice.
func (s *Server) AddAll(seq func(yield func(Entry) bool)) error {
	var err error
	seq(func(e Entry) bool {
		err = s.tree.put(e)
		return err == nil
	})
	return err
}

// Remove deletes the entry dn (not its children) and reports whether it
// existed. Like AD, it leaves a tombstone under CN=Deleted Objects that
// searches with the Show Deleted control find (isDeleted=TRUE, the same
// objectGUID, a new uSNChanged), and drops member and manager values that
// named it.
func (s *Server) Remove(dn string) bool { return s.tree.remove(dn) }

// Modify replaces attributes of dn; an empty list deletes the attribute.
// uSNChanged and whenChanged move forward.
func (s *Server) Modify(dn string, changes map[string][]string) error {
	return s.tree.modify(dn, changes)
}

// Entry returns a copy of the entry dn.
func (s *Server) Entry(dn string) (Entry, bool) {
	key, _, err := dnKey(dn)
	if err != nil {
		return Entry{}, false
	}
	s.tree.mu.RLock()
	defer s.tree.mu.RUnlock()
	st, ok := s.tree.byKey[key]
	if !ok {
		return Entry{}, false
	}
	return st.entry(), true
}

// Len is the number of entries, the configuration object included.
func (s *Server) Len() int {
	s.tree.mu.RLock()
	defer s.tree.mu.RUnlock()
	return len(s.tree.order)
}

// HighestCommittedUSN is the USN of the last change.
func (s *Server) HighestCommittedUSN() int64 {
	s.tree.mu.RLock()
	defer s.tree.mu.RUnlock()
	return s.tree.usn
}

func (s *Server) forget(connID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.bound, connID)
}
