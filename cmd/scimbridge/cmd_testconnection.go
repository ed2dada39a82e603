package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/scimbridge/scimbridge/bridge"
)

// connectionReport is the --json document of test-connection (DESIGN.md).
type connectionReport struct {
	OK      bool                `json:"ok"`
	Error   string              `json:"error,omitempty"`
	Server  *bridge.ServerInfo  `json:"server,omitempty"`
	InScope *bridge.ScopeCounts `json:"inScope,omitempty"`
}

func runTestConnection(ctx context.Context, env *cliEnv, args []string) error {
	fs, pc := newFlagSet(env, "test-connection", "test-connection --account A [--json]")
	account := fs.String("account", bridge.DefaultAccount, "account id")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rep := testConnection(ctx, env, pc, *account)
	if *asJSON {
		out, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintln(env.stdout, string(out))
	} else if rep.OK {
		printConnectionReport(env.stdout, rep)
	}
	if !rep.OK {
		if !*asJSON {
			fmt.Fprintln(env.stderr, rep.Error)
		}
		return &exitError{code: 1, err: errQuiet}
	}
	return nil
}

func testConnection(ctx context.Context, env *cliEnv, pc *processConfig, account string) connectionReport {
	log := pc.logger(env)
	conn, err := openAccountDirectory(ctx, env, pc, log, account)
	if err != nil {
		return connectionReport{Error: sentence(err)}
	}
	defer conn.close()
	info, err := conn.dir.ServerInfo(ctx)
	if err != nil {
		return connectionReport{Error: sentence(err)}
	}
	counts, err := conn.dir.Count(ctx, conn.settings.Scope())
	if err != nil {
		return connectionReport{Error: sentence(err)}
	}
	return connectionReport{OK: true, Server: &info, InScope: &counts}
}

func printConnectionReport(w io.Writer, rep connectionReport) {
	s := rep.Server
	yes := func(b bool) string {
		if b {
			return "supported"
		}
		return "not supported"
	}
	fmt.Fprintf(w, "Connected and bound to %s.\n", s.DNSHostName)
	fmt.Fprintf(w, "  naming context         %s\n", s.DefaultNamingContext)
	fmt.Fprintf(w, "  highest committed USN  %d\n", s.HighestCommittedUSN)
	fmt.Fprintf(w, "  paged results          %s\n", yes(s.SupportsPaging))
	fmt.Fprintf(w, "  DirSync                %s\n", yes(s.SupportsDirSync))
	fmt.Fprintf(w, "  Show Deleted           %s\n", yes(s.SupportsShowDeleted))
	fmt.Fprintf(w, "In scope: %d users, %d groups, %d organizational units.\n",
		rep.InScope.Users, rep.InScope.Groups, rep.InScope.OrganizationalUnits)
}

// sentence makes an error one sentence ending with a full stop.
func sentence(err error) string {
	s := err.Error()
	if s == "" {
		return "unknown error."
	}
	if last := s[len(s)-1]; last != '.' && last != '!' && last != '?' {
		s += "."
	}
	return s
}
