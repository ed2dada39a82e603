package ldapsync_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
	"github.com/scimbridge/scimbridge/ldapsync/adsim"
)

const sampleBase = "DC=example,DC=com"

// startSample starts adsim with the sample tree and returns it with the
// connection settings that reach it.
func startSample(t *testing.T, opts adsim.Options) (*adsim.Server, adsim.SampleFacts, bridge.Connection) {
	t.Helper()
	srv, facts, err := adsim.NewSample(sampleBase, opts)
	if err != nil {
		t.Fatalf("adsim: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, facts, connFor(srv, facts.ServiceDN)
}

func connFor(srv *adsim.Server, bindDN string) bridge.Connection {
	return bridge.Connection{
		Host: srv.Host(), Port: srv.Port(), Security: bridge.SecurityNone,
		BaseDN: srv.BaseDN(), BindDN: bindDN, TimeoutSeconds: 10,
	}
}

func open(t *testing.T, c bridge.Connection, password string, opts ldapsync.Options) *ldapsync.Directory {
	t.Helper()
	d, err := opts.Open(context.Background(), c, password, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d.(*ldapsync.Directory)
}

// testLogger logs at Debug into the test log, and fails the test if the
// password shows up anywhere in it.
func testLogger(t *testing.T) *slog.Logger {
	var buf bytes.Buffer
	t.Cleanup(func() {
		if bytes.Contains(buf.Bytes(), []byte(adsim.SamplePassword)) {
			t.Errorf("the password was logged:\n%s", buf.String())
		}
		if t.Failed() {
			t.Logf("log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func collect(t *testing.T, d bridge.Directory, scope bridge.Scope, kind bridge.EntryKind) []bridge.Entry {
	t.Helper()
	var out []bridge.Entry
	if err := d.Stream(context.Background(), scope, kind, func(e bridge.Entry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		t.Fatalf("Stream %s: %v", kind, err)
	}
	return out
}
