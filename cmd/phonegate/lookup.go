package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/phonegate/phonegate/insight"
)

func lookup(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("lookup", "lookup [--region XX] [--ip ADDR] [--format json|text] [NUMBER...]", stderr)
	region := fs.String("region", "", "ISO 3166-1 alpha-2 `region` for numbers written without a country code")
	format := fs.String("format", "json", "output format: json (one object a line) or text (a table for a person)")
	ipFlag := fs.String("ip", "", "client IP `address` to place against each number's country")
	geoipDB := fs.String("geoip-db", "", "MaxMind-format `.mmdb` database for --ip (default: the embedded table)")
	numbers, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *format != "json" && *format != "text" {
		return fmt.Errorf("--format %q: want json or text", *format)
	}
	var addr netip.Addr
	if *ipFlag != "" {
		if addr, err = netip.ParseAddr(*ipFlag); err != nil {
			return fmt.Errorf("--ip %q is not an IP address", *ipFlag)
		}
	}
	opts := insight.Options{}
	if *geoipDB != "" {
		db, err := insight.OpenMaxMind(*geoipDB)
		if err != nil {
			return err
		}
		defer db.Close()
		opts.GeoIP = db
	}
	engine := insight.New(opts)
	look := func(number string) *insight.Insight {
		return engine.ForRequest(engine.Lookup(number, *region), addr, nil)
	}
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
			if err := print(look(n)); err != nil {
				return err
			}
		}
		return nil
	}
	// No arguments: clean a list. One number a line from stdin, one insight a
	// line out, in order and one for one (a blank line gets an invalid
	// insight, a line over maxLookupLine an error object), so the output
	// lines up with the input. SIGINT stops it between two lines: what was
	// written is flushed and it exits 130.
	progress := newProgress(stderr)
	defer progress.done()
	lines := make(chan inputLine)
	go readLines(ctx, stdin, lines)
	for n := 1; ; n++ {
		var in inputLine
		var ok bool
		select {
		case in, ok = <-lines:
		default:
			// Nothing more to read yet: show what is done (a person typing
			// numbers sees each answer) before waiting.
			w.Flush()
			select {
			case <-ctx.Done():
				fmt.Fprintf(stderr, "phonegate lookup: interrupted after %d lines\n", n-1)
				return exitError(130)
			case in, ok = <-lines:
			}
		}
		if ctx.Err() != nil {
			w.Flush()
			fmt.Fprintf(stderr, "phonegate lookup: interrupted after %d lines\n", n-1)
			return exitError(130)
		}
		if !ok {
			return nil
		}
		if in.err != nil {
			return in.err
		}
		if in.tooLong {
			b, _ := json.Marshal(lineError{Error: "line_too_long", Line: n, Limit: maxLookupLine,
				Message: fmt.Sprintf("line %d is over %d bytes: not a phone number", n, maxLookupLine)})
			w.Write(b)
			w.WriteByte('\n')
		} else if err := print(look(in.text)); err != nil {
			return err
		}
		progress.add()
	}
}

// maxLookupLine bounds one line of a list; a longer one (no phone number is)
// is answered with a lineError in its place.
const maxLookupLine = 64 << 10

// lineError stands in the output for an input line that cannot be looked
// up, so that the output stays one line per input line.
type lineError struct {
	Error   string `json:"error"`
	Line    int    `json:"line"`
	Limit   int    `json:"limit"`
	Message string `json:"message"`
}

type inputLine struct {
	text    string
	tooLong bool
	err     error
}

// readLines sends the lines of r, without their line ends, and closes out at
// the end of r; a line over maxLookupLine is read to its end and sent as
// tooLong. It stops when ctx is done.
func readLines(ctx context.Context, r io.Reader, out chan<- inputLine) {
	defer close(out)
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		var line []byte
		long := false
		var err error
		for {
			var part []byte
			part, err = br.ReadSlice('\n')
			if !long {
				if len(line)+len(part) > maxLookupLine+2 { // +2: the line end
					long, line = true, nil
				} else {
					line = append(line, part...)
				}
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		if err != nil && err != io.EOF {
			select {
			case out <- inputLine{err: err}:
			case <-ctx.Done():
			}
			return
		}
		if err == io.EOF && len(line) == 0 && !long {
			return
		}
		text := strings.TrimRight(string(line), "\r\n")
		select {
		case out <- inputLine{text: text, tooLong: long || len(text) > maxLookupLine}:
		case <-ctx.Done():
			return
		}
		if err == io.EOF {
			return
		}
	}
}

// progress shows how many numbers a long list has got through, on stderr,
// only when stderr is a terminal (a person is watching, not a pipe or a log)
// and only once the list is large enough to be worth it.
type progress struct {
	w     io.Writer // nil: no progress line
	n     int
	shown bool
	last  time.Time
	start time.Time
}

const progressAfter = 10000 // lines before a progress line appears

func newProgress(stderr io.Writer) *progress {
	p := &progress{start: time.Now()}
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.w = stderr
		}
	}
	return p
}

func (p *progress) add() {
	p.n++
	if p.w == nil || p.n < progressAfter || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last, p.shown = time.Now(), true
	fmt.Fprintf(p.w, "\r%d numbers, %.0f/s", p.n, float64(p.n)/time.Since(p.start).Seconds())
}

func (p *progress) done() {
	if p.shown {
		fmt.Fprintf(p.w, "\r%d numbers in %s\n", p.n, time.Since(p.start).Round(time.Millisecond))
	}
}

// printText writes an insight as a table for a person.
func printText(w io.Writer, in *insight.Insight) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("input", in.Input)
	verdict := "valid"
	if !in.Valid {
		verdict = "not valid: " + in.Diagnostics.Format.Reason
	}
	row("verdict", verdict)
	if in.Parsed {
		row("e164", in.E164)
		row("international", in.International)
		row("national", in.National)
	}
	if in.Country.ISO2 != "" {
		row("country", fmt.Sprintf("%s (%s, %s) +%s", in.Country.Name, in.Country.ISO2, orDash(in.Country.ISO3), in.Country.Prefix))
	}
	row("line type", string(in.LineType))
	row("carrier", orDash(in.Carrier.Name))
	row("location", orDash(strings.TrimSpace(in.Location.Description+" "+strings.Join(in.Location.TimeZones, " "))))
	row("confidence", fmt.Sprintf("%s (%.2f)", in.Confidence, in.ConfidenceScore))
	row("risk score", fmt.Sprintf("%d/100", in.RiskScore))
	flags := []string{}
	for _, f := range []struct {
		on   bool
		name string
	}{{in.IsDisposable, "disposable"}, {in.IsVirtual, "virtual"}, {in.IsFictitious, "fictitious"}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	row("flags", orDash(strings.Join(flags, ", ")))
	if in.IP != nil {
		row("ip", fmt.Sprintf("%s in %s: %s", in.IP.Address, orDash(in.IP.Country), in.IP.Match))
	}
	row("network", "reachable, ported, roaming, active: unknown offline")
	for i, warn := range in.Warnings {
		label := ""
		if i == 0 {
			label = "warnings"
		}
		row(label, fmt.Sprintf("%s (%s): %s", warn.Risk, warn.LogType, warn.LongDescription))
	}
	d := in.Diagnostics.Confidence
	why := []string{"line type: " + string(d.LineTypeBaseline)}
	if d.CarrierProfile.Applied {
		why = append(why, "carrier "+d.CarrierProfile.Matched+": "+string(d.CarrierProfile.Label))
	}
	if d.CountryCap.Applied {
		why = append(why, "country cap "+d.CountryCap.Region+": "+string(d.CountryCap.Cap))
	}
	if d.DisposablePrefix.Applied {
		why = append(why, "disposable prefix "+d.DisposablePrefix.Matched+": low")
	}
	if h := d.ReceiveSMSHistory; h.Applied {
		why = append(why, "on a receive-SMS website until "+h.LastSeen+", longer ago than max_age: uncertain")
	}
	if d.Fictitious.Applied {
		why = append(why, "fictitious range "+d.Fictitious.Matched+": low")
	}
	row("why", strings.Join(why, "; "))
	fmt.Fprintln(tw)
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
