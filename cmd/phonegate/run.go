package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/phonegate/phonegate/insight"
	"github.com/phonegate/phonegate/internal/buildinfo"
)

const usage = `phonegate: stop fake and throw-away phone numbers at the door of a signup API.

Usage:
  phonegate serve   [--policy PATH] [--grpc-addr ADDR] [--http-addr ADDR]   run the ext_authz server
  phonegate lookup  [--region XX] [--ip ADDR] [--format json|text] [NUMBER...]   print what phonegate knows of numbers
  phonegate lint    PATH...                                                check policy files
  phonegate test    [--run REGEX] [--coverage] [PATH...]                   run policy test files (*_test.yaml)
  phonegate eval    --policy PATH [--request FILE|-] [--format json|text]  explain how one request would be decided
  phonegate version                                                        print the version

Run 'phonegate COMMAND --help' for a command's flags.
`

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr)
	case "lookup":
		err = lookup(ctx, args[1:], stdin, stdout, stderr)
	case "lint":
		err = lint(args[1:], stdout, stderr)
	case "test":
		err = policyTest(args[1:], stdout, stderr)
	case "eval":
		err = eval(ctx, args[1:], stdin, stdout, stderr)
	case "version":
		printVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "phonegate: unknown command %q: want serve, lookup, lint, test, eval or version\n\n%s", args[0], usage)
		return 2
	}
	var exit exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &exit):
		return int(exit)
	}
	fmt.Fprintf(stderr, "phonegate %s: %v\n", args[0], err)
	return 1
}

// exitError ends a command with a code after it has said what went wrong.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// parseFlags parses flags wherever they stand among the arguments, so
// `lookup 07400123456 --region GB` works as `lookup --region GB 07400123456`,
// and returns the arguments that are not flags.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: phonegate %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// printVersion prints phonegate's version and that of every embedded data
// set, one per line, so a support ticket can say exactly what judged a number.
func printVersion(w io.Writer) {
	fmt.Fprintln(w, "phonegate", buildinfo.Version())
	for _, d := range insight.DataSets() {
		line := fmt.Sprintf("  %-24s %s", d.Name, d.Version)
		if d.Date != "" {
			line += ", newest " + d.Date
		}
		if d.Entries > 0 {
			line += fmt.Sprintf(", %d entries", d.Entries)
		}
		fmt.Fprintln(w, line)
	}
}
