package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/phonegate/phonegate/policy"
)

// lint loads every PATH (a file or a directory of policies) as one set, as
// serve would, and prints every problem as file:line:col: message, exiting 1
// when any is found, or a one-line summary when there is none.
func lint(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("lint", "lint PATH...", stderr)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return errors.New("name at least one policy file or directory")
	}
	set, err := policy.Load(paths...)
	if err != nil {
		if list := policy.Errors(err); list != nil {
			for _, e := range list {
				fmt.Fprintln(stdout, e)
			}
		} else {
			fmt.Fprintln(stdout, err)
		}
		return exitError(1)
	}
	fmt.Fprintf(stdout, "ok: %d files, %d routes, %d policies (presets included)\n", len(set.Files), len(set.Routes), len(set.Policies))
	return nil
}
