package ldapsync

import (
	"context"
	"log/slog"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
)

// MaxPageSize is the page size ldapsync asks for: AD's default MaxPageSize.
// Asking for more does not help (AD clamps it) and a larger page only costs
// memory, since a page is held while its entries are processed.
const MaxPageSize = 1000

// Options tune Open. The zero value is what production uses.
type Options struct {
	// Dial replaces the network dialer (tests). Nil means Dial.
	Dial Dialer
	// PageSize is the paged-results page size, capped at MaxPageSize; zero
	// means MaxPageSize.
	PageSize int
}

var _ bridge.DirectoryOpener = Open

// Open dials, binds and returns a Directory. It has the signature of
// bridge.DirectoryOpener.
func Open(ctx context.Context, conn bridge.Connection, password string, log *slog.Logger) (bridge.Directory, error) {
	return Options{}.Open(ctx, conn, password, log)
}

// Open is Open with these options; o.Open is a bridge.DirectoryOpener too.
func (o Options) Open(ctx context.Context, conn bridge.Connection, password string, log *slog.Logger) (bridge.Directory, error) {
	d, err := o.open(ctx, conn, password, log)
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (o Options) open(ctx context.Context, c bridge.Connection, password string, log *slog.Logger) (*Directory, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if c.Security == "" {
		c.Security = bridge.SecurityLDAPS
	}
	addr := address(c)
	log = log.With("component", "ldapsync", "addr", addr, "security", string(c.Security))
	timeout := c.Timeout()

	tc, err := tlsConfig(c, log)
	if err != nil {
		return nil, err
	}
	dial := o.Dial
	if dial == nil {
		dial = Dial
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := dial(dctx, c, tc)
	if err != nil {
		return nil, classify(err, "connect to "+addr)
	}
	conn.SetTimeout(timeout)

	// Bind is bounded by the connection timeout (SetTimeout) and by ctx:
	// closing the connection makes a pending Bind return at once.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	err = conn.Bind(c.BindDN, password)
	if !stop() {
		conn.Close()
		return nil, classify(ctx.Err(), "bind as "+c.BindDN)
	}
	if err != nil {
		conn.Close()
		return nil, bindError(c.BindDN, err)
	}
	log.Debug("bound", "bindDN", c.BindDN)

	page := o.PageSize
	if page <= 0 || page > MaxPageSize {
		page = MaxPageSize
	}
	return &Directory{conn: conn, log: log, timeout: timeout, pageSize: uint32(page)}, nil
}

// Directory is a bound connection to one domain controller. It implements
// bridge.Directory. It is not safe for concurrent use.
type Directory struct {
	conn     Conn
	log      *slog.Logger
	timeout  time.Duration
	pageSize uint32
}

var _ bridge.Directory = (*Directory)(nil)

// Close unbinds and closes the connection.
func (d *Directory) Close() error { return d.conn.Close() }
