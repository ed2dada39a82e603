// Command scimbridge bridges Microsoft Active Directory to SCIM 2.0.
//
// main only parses flags, wires the packages together and runs; the work
// happens in bridge, ldapsync, db and scimapi.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "serve SCIM, the admin API and the console, and run scheduled syncs", runServe},
		{"sync", "run one sync of an account now and print its report", runSync},
		{"demo", "start a server on a built-in sample directory and an embedded database", runDemo},
		{"test-connection", "bind to an account's directory and report what the settings put in scope", runTestConnection},
		{"directory", "set, show or browse an account's directory settings", runDirectory},
		{"token", "create, list or revoke API tokens", runToken},
		{"migrate", "apply database migrations", runMigrate},
		{"version", "print the version", runVersion},
	}
}

// cliEnv carries the process's standard streams, so tests can run commands
// in-process and read what they print.
type cliEnv struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// exitError carries a specific exit status up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errQuiet marks an error that was already reported to the user.
var errQuiet = errors.New("")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &cliEnv{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		if err == nil {
			return 0
		}
		var ee *exitError
		code := 1
		if errors.As(err, &ee) {
			code = ee.code
		}
		if errors.Is(err, errHelp) {
			return 0
		}
		if !errors.Is(err, errQuiet) && err.Error() != "" {
			fmt.Fprintf(env.stderr, "scimbridge %s: %v\n", c.name, err)
		}
		return code
	}
	fmt.Fprintf(env.stderr, "scimbridge: unknown command %q\n\n", args[0])
	usage(env.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: scimbridge <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'scimbridge <command> --help' for the flags of a command.")
}
