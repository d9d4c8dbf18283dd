package insight

import (
	"bufio"
	"bytes"
	"cmp"
	"embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

//go:embed data/carriers.txt data/country_caps.txt data/disposable_prefixes.txt data/fictitious.txt data/receive_sms_ranges.txt
var embedded embed.FS

// Data is the engine's tables: carrier profiles, disposable prefixes, country
// caps and fictitious ranges. [DefaultData] is the embedded set; callers (a
// policy's `data:` section) extend or override it with [Data.With].
type Data struct {
	Carriers           []CarrierProfile
	DisposablePrefixes []PrefixEntry
	CountryCaps        []CountryCap
	Fictitious         []PrefixEntry

	// ReceiveSMSMaxAge is how long a receive-SMS sighting keeps a number
	// disposable, counted back from the list's newest date; 0 means
	// [DefaultReceiveSMSMaxAge].
	ReceiveSMSMaxAge time.Duration
	// ReceiveSMSExempt are numbers or prefixes the receive-SMS list never
	// marks (a team's own test numbers, a range known to be reassigned).
	ReceiveSMSExempt []PrefixEntry
}

// CarrierProfile labels the numbers of a carrier. Name matches any carrier
// name that contains it, case-insensitively.
type CarrierProfile struct {
	Name  string
	Label Confidence
	// Disposable marks the carrier's numbers disposable (and virtual).
	Disposable bool
	// Virtual marks the carrier's numbers virtual (a number rented by the
	// minute, not a subscriber's line), which adds its risk weight.
	Virtual bool
	Source  string
}

// PrefixEntry is an E.164 prefix ("+447700900") and where it comes from.
type PrefixEntry struct {
	Prefix string
	Source string
}

// CountryCap is the best label numbers of a region may have. Region is an
// ISO 3166-1 alpha-2 code, or "001" for non-geographic codes.
type CountryCap struct {
	Region string
	Cap    Confidence
	Source string
}

// DefaultData returns the embedded tables. The result is shared: use
// [Data.With] to derive another.
var DefaultData = sync.OnceValue(func() *Data {
	d, err := parseEmbedded()
	if err != nil {
		panic("insight: embedded data: " + err.Error()) // the tests parse it; a bad build only
	}
	return d
})

func parseEmbedded() (*Data, error) {
	d := &Data{}
	err := readTable("carriers.txt", 4, func(f []string) error {
		label, err := ParseConfidence(f[1])
		if err != nil {
			return err
		}
		switch f[2] {
		case "disposable", "virtual":
		default:
			return fmt.Errorf("kind %q: want disposable or virtual", f[2])
		}
		d.Carriers = append(d.Carriers, CarrierProfile{Name: f[0], Label: label, Disposable: f[2] == "disposable", Virtual: true, Source: f[3]})
		return nil
	})
	if err == nil {
		err = readTable("disposable_prefixes.txt", 2, func(f []string) error {
			p, err := NormalizePrefix(f[0])
			d.DisposablePrefixes = append(d.DisposablePrefixes, PrefixEntry{p, f[1]})
			return err
		})
	}
	if err == nil {
		err = readTable("fictitious.txt", 2, func(f []string) error {
			p, err := NormalizePrefix(f[0])
			d.Fictitious = append(d.Fictitious, PrefixEntry{p, f[1]})
			return err
		})
	}
	if err == nil {
		err = readTable("country_caps.txt", 3, func(f []string) error {
			cap, err := ParseConfidence(f[1])
			d.CountryCaps = append(d.CountryCaps, CountryCap{strings.ToUpper(f[0]), cap, f[2]})
			return err
		})
	}
	return d, err
}

// readTable reads an embedded " | "-separated table, skipping comments and
// blank lines.
func readTable(name string, columns int, row func([]string) error) error {
	b, err := embedded.ReadFile("data/" + name)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.SplitN(text, "|", columns)
		if len(fields) != columns {
			return fmt.Errorf("%s:%d: want %d columns separated by |", name, line, columns)
		}
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
		}
		if err := row(fields); err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	return sc.Err()
}

// With returns the tables of d extended by extra. Extra entries take
// precedence: a carrier profile, prefix or country cap in extra overrides one
// of the same name, prefix or region in d.
func (d *Data) With(extra *Data) *Data {
	if extra == nil {
		return d
	}
	maxAge := d.ReceiveSMSMaxAge
	if extra.ReceiveSMSMaxAge != 0 {
		maxAge = extra.ReceiveSMSMaxAge
	}
	return &Data{
		Carriers:           slices.Concat(extra.Carriers, d.Carriers),
		DisposablePrefixes: slices.Concat(extra.DisposablePrefixes, d.DisposablePrefixes),
		CountryCaps:        slices.Concat(extra.CountryCaps, d.CountryCaps),
		Fictitious:         slices.Concat(extra.Fictitious, d.Fictitious),
		ReceiveSMSMaxAge:   maxAge,
		ReceiveSMSExempt:   slices.Concat(extra.ReceiveSMSExempt, d.ReceiveSMSExempt),
	}
}

// NormalizePrefix checks an E.164 prefix and returns it as "+digits".
func NormalizePrefix(s string) (string, error) {
	digits := strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9':
			return r
		case r == ' ' || r == '-' || r == '+':
			return -1
		}
		return 'x'
	}, s)
	if !strings.HasPrefix(strings.TrimSpace(s), "+") || digits == "" || strings.Contains(digits, "x") || len(digits) > 15 {
		return "", fmt.Errorf("prefix %q: want + and 1 to 15 digits, such as +447700900", s)
	}
	return "+" + digits, nil
}

// tables is Data compiled for lookups.
type tables struct {
	carriers   []CarrierProfile // names lower-cased, first match wins
	disposable map[string]PrefixEntry
	fictitious map[string]PrefixEntry
	caps       map[string]CountryCap
	maxAge     time.Duration // of a receive-SMS sighting
	exempt     map[string]PrefixEntry
}

func compileData(d *Data) *tables {
	t := &tables{
		disposable: make(map[string]PrefixEntry, len(d.DisposablePrefixes)),
		fictitious: make(map[string]PrefixEntry, len(d.Fictitious)),
		caps:       make(map[string]CountryCap, len(d.CountryCaps)),
		maxAge:     cmp.Or(d.ReceiveSMSMaxAge, DefaultReceiveSMSMaxAge),
		exempt:     make(map[string]PrefixEntry, len(d.ReceiveSMSExempt)),
	}
	for _, p := range d.ReceiveSMSExempt {
		t.exempt[p.Prefix] = p
	}
	for _, c := range d.Carriers {
		c.Name = strings.ToLower(c.Name)
		t.carriers = append(t.carriers, c)
	}
	// Earlier entries take precedence, so a later one never replaces them.
	for _, p := range d.DisposablePrefixes {
		if _, ok := t.disposable[p.Prefix]; !ok {
			t.disposable[p.Prefix] = p
		}
	}
	for _, p := range d.Fictitious {
		if _, ok := t.fictitious[p.Prefix]; !ok {
			t.fictitious[p.Prefix] = p
		}
	}
	for _, c := range d.CountryCaps {
		if _, ok := t.caps[c.Region]; !ok {
			t.caps[c.Region] = c
		}
	}
	return t
}

// carrierProfile returns the first profile whose name the carrier contains.
func (t *tables) carrierProfile(carrier string) (CarrierProfile, bool) {
	if carrier == "" {
		return CarrierProfile{}, false
	}
	lower := strings.ToLower(carrier)
	for _, c := range t.carriers {
		if strings.Contains(lower, c.Name) {
			return c, true
		}
	}
	return CarrierProfile{}, false
}

// isExempt reports whether a policy exempted the number from the
// receive-SMS list.
func (t *tables) isExempt(e164 string) bool {
	if len(t.exempt) == 0 {
		return false
	}
	_, ok := longestPrefix(t.exempt, e164)
	return ok
}

// longestPrefix finds the longest prefix of e164 in m.
func longestPrefix(m map[string]PrefixEntry, e164 string) (PrefixEntry, bool) {
	for l := len(e164); l >= 2; l-- {
		if p, ok := m[e164[:l]]; ok {
			return p, true
		}
	}
	return PrefixEntry{}, false
}
