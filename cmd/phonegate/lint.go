package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/phonegate/phonegate/policy"
)

// lint checks each PATH (a file or a directory of policies) and prints every
// problem as file:line:col: message. It exits 1 when any is found.
func lint(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("lint", "lint PATH...", stderr)
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return errors.New("name at least one policy file or directory")
	}
	bad := false
	for _, p := range paths {
		if _, err := policy.Load(p); err != nil {
			bad = true
			if list := policy.Errors(err); list != nil {
				for _, e := range list {
					fmt.Fprintln(stdout, e)
				}
			} else {
				fmt.Fprintf(stdout, "%s: %v\n", p, err)
			}
		}
	}
	if bad {
		return exitError(1)
	}
	return nil
}
