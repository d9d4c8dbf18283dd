package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/phonegate/phonegate/insight"
)

func lookup(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("lookup", "lookup [--region XX] [--format json|text] [NUMBER...]", stderr)
	region := fs.String("region", "", "ISO 3166-1 alpha-2 `region` for numbers written without a country code")
	format := fs.String("format", "json", "output format: json (one object a line) or text (a table for a person)")
	numbers, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *format != "json" && *format != "text" {
		return fmt.Errorf("--format %q: want json or text", *format)
	}
	engine := insight.New(insight.Options{})
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	print := func(in *insight.Insight) error {
		if *format == "text" {
			return printText(w, in)
		}
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		w.Write(b)
		return w.WriteByte('\n')
	}
	if len(numbers) > 0 {
		for _, n := range numbers {
			if err := print(engine.Lookup(n, *region)); err != nil {
				return err
			}
		}
		return nil
	}
	// No arguments: one number a line from stdin, one insight a line out, in order.
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if err := print(engine.Lookup(line, *region)); err != nil {
			return err
		}
	}
	return sc.Err()
}

func printText(w io.Writer, in *insight.Insight) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("input", in.Input)
	row("valid", fmt.Sprint(in.Valid))
	row("e164", in.E164)
	row("international", in.International)
	row("national", in.National)
	row("country", strings.TrimSpace(in.Country.ISO2+" +"+in.Country.Prefix))
	row("line type", string(in.LineType))
	row("carrier", orDash(in.Carrier.Name))
	row("confidence", fmt.Sprintf("%s (%.2f)", in.Confidence, in.ConfidenceScore))
	row("risk score", fmt.Sprint(in.RiskScore))
	if in.Diagnostics.Format != "" {
		row("why", in.Diagnostics.Format)
	}
	fmt.Fprintln(tw)
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
