package main

import (
	"context"
	"fmt"
	"io"
)

// subcommand is one verb of a command group (directory set, token create).
type subcommand struct {
	name string
	run  func(ctx context.Context, env *cliEnv, args []string) error
}

// dispatch runs the verb args[0] names, or prints usage: to stderr, exit 0
// when asked for, exit 2 when the verb is missing or unknown.
func dispatch(ctx context.Context, env *cliEnv, args []string, usage func(io.Writer), subs ...subcommand) error {
	if len(args) > 0 {
		for _, s := range subs {
			if s.name == args[0] {
				return s.run(ctx, env, args[1:])
			}
		}
		if h := args[0]; h == "-h" || h == "--help" || h == "help" {
			usage(env.stderr)
			return nil
		}
		fmt.Fprintf(env.stderr, "unknown subcommand %q\n\n", args[0])
	}
	usage(env.stderr)
	return &exitError{code: 2, err: errQuiet}
}
