package insight

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// codes lists the risk codes of an insight's warnings.
func codes(in *Insight) []string {
	var out []string
	for _, w := range in.Warnings {
		out = append(out, w.Risk)
	}
	return out
}

func TestPipeline(t *testing.T) {
	e := New(Options{})
	tests := []struct {
		name       string
		input      string
		confidence Confidence
		risk       int
		disposable bool
		virtual    bool
		fictitious bool
		warnings   []string
		check      func(t *testing.T, in *Insight)
	}{
		{name: "verified mobile has no warnings", input: "+447400123456", confidence: Verified, risk: 5,
			check: func(t *testing.T, in *Insight) {
				d := in.Diagnostics.Confidence
				if d.LineTypeBaseline != Verified || d.CarrierProfile.Matched != "" || d.Final != Verified {
					t.Errorf("diagnostics %+v", d)
				}
				if in.Country != (Country{ISO2: "GB", ISO3: "GBR", Name: "United Kingdom", Prefix: "44"}) {
					t.Errorf("country %+v", in.Country)
				}
				if in.Carrier != (Carrier{Name: "Three", Type: "mobile"}) || !slices.Contains(in.Location.TimeZones, "Europe/London") {
					t.Errorf("carrier %+v, location %+v", in.Carrier, in.Location)
				}
			}},
		{name: "carrier profile: an A2P operator's mobile range is virtual, not disposable", input: "+33 7 57 01 12 34", confidence: Uncertain, risk: 55,
			virtual: true, warnings: []string{WarnVoIP},
			check: func(t *testing.T, in *Insight) {
				c := in.Diagnostics.Confidence.CarrierProfile
				if in.LineType != Mobile || c.Matched != "mobiweb" || c.Label != Uncertain || !c.Applied {
					t.Errorf("line type %s, carrier stage %+v", in.LineType, c)
				}
				if d := in.Diagnostics.Disposable; d.IsDisposable || d.MatchedCarrier != "" {
					t.Errorf("disposable diagnostics %+v", d)
				}
			}},
		{name: "Optus's +61 440 block is not MessageBird's", input: "+61 440 123 456", confidence: Verified, risk: 5},
		{name: "a licensed Chilean operator's range is not disposable", input: "+56 9 4600 1234", confidence: Likely, risk: 15,
			warnings: []string{WarnLineTypeAmbiguous}},
		{name: "disposable prefix: Voxbone iNum", input: "+883 510 012345678", confidence: Low, risk: 100,
			disposable: true, virtual: true, warnings: []string{WarnDisposable, WarnVoIP, WarnNonGeographicNumber},
			check: func(t *testing.T, in *Insight) {
				if d := in.Diagnostics.Disposable; d.MatchedPrefix != "+883510" {
					t.Errorf("disposable diagnostics %+v", d)
				}
				if in.Country.ISO2 != "001" || in.Country.Name != "International Networks" {
					t.Errorf("country %+v", in.Country)
				}
			}},
		{name: "NANP 555-01XX is fictitious though valid", input: "+1 201 555 0123", confidence: Low, risk: 100,
			fictitious: true, warnings: []string{WarnFictitious, WarnLineTypeAmbiguous},
			check: func(t *testing.T, in *Insight) {
				if !in.Valid || in.Diagnostics.Confidence.LineTypeBaseline != Likely || !in.Diagnostics.Confidence.Fictitious.Applied {
					t.Errorf("valid %v, diagnostics %+v", in.Valid, in.Diagnostics.Confidence)
				}
			}},
		{name: "NANP 555-0200 is not fictitious", input: "+1 201 555 0200", confidence: Likely, risk: 15,
			warnings: []string{WarnLineTypeAmbiguous}},
		{name: "NANP 555-01XX in a toll-free code is an ordinary number", input: "+1 800 555 0123", confidence: Likely, risk: 15,
			warnings: []string{WarnTollFree}},
		{name: "ARCEP audiovisual block", input: "+33 1 99 00 12 34", fictitious: true, confidence: Low, risk: 100,
			warnings: []string{WarnFictitious}},
		{name: "BNetzA drama number, Berlin", input: "+49 30 23125 123", fictitious: true, confidence: Low, risk: 100,
			warnings: []string{WarnFictitious}},
		{name: "PTS fiction mobile", input: "+46 70 174 06 50", fictitious: true, confidence: Low, risk: 100,
			warnings: []string{WarnFictitious}},
		{name: "PTS: the number before the fiction range is real", input: "+46 70 174 06 04", confidence: Verified, risk: 5},
		{name: "Ofcom drama mobile, invalid to libphonenumber", input: "07700 900123", confidence: Invalid, risk: 100,
			fictitious: true, warnings: []string{WarnInvalidNumber, WarnFictitious}},
		{name: "Ofcom drama London", input: "+44 20 7946 0123", confidence: Low, risk: 100,
			fictitious: true, warnings: []string{WarnFictitious}},
		{name: "ACMA fictitious mobile", input: "+61 491 570 156", confidence: Low, risk: 100,
			fictitious: true, warnings: []string{WarnFictitious}},
		{name: "ACMA: a neighbour of a fictitious mobile is real", input: "+61 491 570 155", confidence: Verified, risk: 5},
		{name: "VoIP", input: "+44 56 1234 5678", confidence: Low, risk: 80, virtual: true, warnings: []string{WarnVoIP}},
		{name: "premium rate", input: "+33 8 99 12 34 56", confidence: Uncertain, risk: 65, warnings: []string{WarnPremiumRate}},
		{name: "toll free", input: "+1 800 253 0000", confidence: Likely, risk: 15, warnings: []string{WarnTollFree}},
		{name: "UAN", input: "+44 300 123 4567", confidence: Uncertain, risk: 35, warnings: []string{WarnUnverifiableLine}},
		{name: "invalid", input: "+44 12", confidence: Invalid, risk: 100, warnings: []string{WarnInvalidNumber}},
		{name: "country cap: non-geographic freephone", input: "+800 1234 5678", confidence: Likely, risk: 15,
			warnings: []string{WarnTollFree, WarnNonGeographicNumber},
			check: func(t *testing.T, in *Insight) {
				if cc := in.Diagnostics.Confidence.CountryCap; cc.Region != "001" || cc.Cap != Likely || cc.Applied {
					// toll_free is already likely: the cap matches but lowers nothing.
					t.Errorf("country cap stage %+v", cc)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := e.Lookup(tt.input, "GB")
			if in.Confidence != tt.confidence || in.RiskScore != tt.risk || in.IsDisposable != tt.disposable ||
				in.IsVirtual != tt.virtual || in.IsFictitious != tt.fictitious {
				t.Errorf("got %s risk %d disposable %v virtual %v fictitious %v; want %s risk %d disposable %v virtual %v fictitious %v",
					in.Confidence, in.RiskScore, in.IsDisposable, in.IsVirtual, in.IsFictitious,
					tt.confidence, tt.risk, tt.disposable, tt.virtual, tt.fictitious)
			}
			if got := codes(in); !slices.Equal(got, tt.warnings) {
				t.Errorf("warnings %v, want %v", got, tt.warnings)
			}
			for _, w := range in.Warnings {
				if !slices.Contains(WarningCodes, w.Risk) {
					t.Errorf("warning code %s is not in WarningCodes", w.Risk)
				}
				if w.ShortDescription == "" || w.LongDescription == "" || !slices.Contains([]string{"error", "warning", "information"}, w.LogType) {
					t.Errorf("warning %+v lacks a description or a log type", w)
				}
			}
			if in.Diagnostics.Confidence.Final != in.Confidence || in.ConfidenceScore != in.Confidence.Score() {
				t.Errorf("final %s, confidence %s, score %v", in.Diagnostics.Confidence.Final, in.Confidence, in.ConfidenceScore)
			}
			if tt.check != nil {
				tt.check(t, in)
			}
		})
	}
}

// TestStagesOnlyLower: whatever the tables say, no stage raises a label.
func TestStagesOnlyLower(t *testing.T) {
	e := New(Options{Data: DefaultData().With(&Data{
		Carriers:    []CarrierProfile{{Name: "Three", Label: Verified}},
		CountryCaps: []CountryCap{{Region: "GB", Cap: Verified}},
	})})
	in := e.Lookup("+44 56 1234 5678", "") // VoIP: low
	if in.Confidence != Low {
		t.Errorf("VoIP raised to %s by a verified cap", in.Confidence)
	}
	in = e.Lookup("+447400123456", "") // Three, verified
	if c := in.Diagnostics.Confidence.CarrierProfile; c.Matched != "three" || c.Applied || in.Confidence != Verified {
		t.Errorf("carrier stage %+v, confidence %s", c, in.Confidence)
	}
}

func TestDataOverrides(t *testing.T) {
	extra := &Data{
		Carriers:           []CarrierProfile{{Name: "esendex", Label: Likely, Source: "we trust our own SMS provider"}},
		DisposablePrefixes: []PrefixEntry{{Prefix: "+447400", Source: "seen on receive-SMS sites"}},
		CountryCaps:        []CountryCap{{Region: "FR", Cap: Uncertain, Source: "policy"}},
		Fictitious:         []PrefixEntry{{Prefix: "+3361234", Source: "our test range"}},
	}
	e := New(Options{Data: DefaultData().With(extra)})

	in := e.Lookup("+447520501234", "")
	if in.Confidence != Likely || in.IsDisposable {
		t.Errorf("carrier override: %s disposable %v, want likely and not disposable", in.Confidence, in.IsDisposable)
	}
	in = e.Lookup("+447400123456", "")
	if in.Confidence != Low || !in.IsDisposable || in.Diagnostics.Disposable.MatchedPrefix != "+447400" {
		t.Errorf("added prefix: %s disposable %v %+v", in.Confidence, in.IsDisposable, in.Diagnostics.Disposable)
	}
	in = e.Lookup("+33 6 98 76 54 32", "")
	if in.Confidence != Uncertain || !in.Diagnostics.Confidence.CountryCap.Applied || !slices.Contains(codes(in), WarnCountryCapped) {
		t.Errorf("country cap: %s %+v", in.Confidence, in.Diagnostics.Confidence.CountryCap)
	}
	in = e.Lookup("+33 6 12 34 56 78", "")
	if !in.IsFictitious {
		t.Error("added fictitious prefix not applied")
	}
	// The default engine is untouched by another's data.
	if in := New(Options{}).Lookup("+447400123456", ""); in.IsDisposable {
		t.Error("extra data leaked into the default tables")
	}
}

func TestEmbeddedDataParses(t *testing.T) {
	d, err := parseEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Carriers) == 0 || len(d.DisposablePrefixes) == 0 || len(d.CountryCaps) == 0 || len(d.Fictitious) < 50 {
		t.Errorf("tables: %d carriers, %d disposable prefixes, %d caps, %d fictitious",
			len(d.Carriers), len(d.DisposablePrefixes), len(d.CountryCaps), len(d.Fictitious))
	}
	for _, c := range d.Carriers {
		if c.Source == "" {
			t.Errorf("carrier %q has no source", c.Name)
		}
	}
	for _, p := range slices.Concat(d.DisposablePrefixes, d.Fictitious) {
		if p.Source == "" {
			t.Errorf("prefix %s has no source", p.Prefix)
		}
	}
}

func TestNormalizePrefix(t *testing.T) {
	for in, want := range map[string]string{"+44 7700 900": "+447700900", "+1-201": "+1201"} {
		if got, err := NormalizePrefix(in); err != nil || got != want {
			t.Errorf("NormalizePrefix(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"447700", "+", "+44a", "+1234567890123456"} {
		if _, err := NormalizePrefix(bad); err == nil {
			t.Errorf("NormalizePrefix(%q) accepted", bad)
		}
	}
}

func TestReceiveSMSNumbers(t *testing.T) {
	l, err := openReceiveSMS(receiveSMSBin, "receive_sms_ranges.txt")
	if err != nil {
		t.Fatal(err)
	}
	if l.n < 125000 || len(l.ranges) == 0 {
		t.Fatalf("%d numbers, %d ranges", l.n, len(l.ranges))
	}
	for i := 1; i < l.n; i++ {
		if l.num(i) <= l.num(i-1) {
			t.Fatalf("numbers %d and %d out of order", i-1, i)
		}
	}
	for _, damaged := range [][]byte{nil, receiveSMSBin[:100], append([]byte("XX"), receiveSMSBin[2:]...)} {
		if _, err := openReceiveSMS(damaged, "receive_sms_ranges.txt"); err == nil {
			t.Errorf("a damaged binary of %d bytes opened", len(damaged))
		}
	}
	if l.version != "2.1.1628" || dayString(l.newest) != "2026-08-22" {
		t.Errorf("version %q, newest %s", l.version, dayString(l.newest))
	}
	if m, ok := l.lookup("+447240435862"); !ok || m.lastSeen() != "2024-11-05" || m.prefix != "+447240435862" || m.evidence != "" {
		t.Errorf("a listed number: %+v %v", m, ok)
	}
	if m, ok := l.lookup("+3584573998008"); !ok || m.prefix != "+3584573998" || !strings.Contains(m.evidence, "of the 1,000 numbers of its range listed") {
		t.Errorf("a number in a listed range: %+v %v", m, ok)
	}
	for _, n := range []string{"+447240435861", "+447400123456", "", "+", "+99999999999999999999", "+358457399800", "+35845739980081"} {
		if m, ok := l.lookup(n); ok {
			t.Errorf("%q is listed: %+v", n, m)
		}
	}
}

// TestReceiveSMSMaxAge: a sighting within max_age of the list's newest date
// makes a number disposable; an older one only caps it at uncertain, with a
// warning that carries the date. The wall clock plays no part.
func TestReceiveSMSMaxAge(t *testing.T) {
	fresh, stale := "+44 7304 250183", "+44 7240 435862" // last seen 2026-08-18 and 2024-11-05
	e := New(Options{})

	in := e.Lookup(fresh, "")
	if in.LineType != Mobile || !in.IsDisposable || in.Confidence != Low || in.RiskScore != 100 || !slices.Contains(codes(in), WarnDisposable) {
		t.Errorf("fresh: line type %s disposable %v confidence %s risk %d warnings %v", in.LineType, in.IsDisposable, in.Confidence, in.RiskScore, codes(in))
	}
	if d := in.Diagnostics; d.Disposable.MatchedPrefix != "+447304250183" || !strings.Contains(d.Confidence.DisposablePrefix.Source, "last seen 2026-08-18") {
		t.Errorf("fresh diagnostics %+v", d)
	}

	in = e.Lookup(stale, "")
	if in.IsDisposable || in.Confidence != Uncertain || in.RiskScore != riskUncertain || !slices.Contains(codes(in), WarnReceiveSMSHistory) {
		t.Errorf("stale: disposable %v confidence %s risk %d warnings %v", in.IsDisposable, in.Confidence, in.RiskScore, codes(in))
	}
	if h := in.Diagnostics.Confidence.ReceiveSMSHistory; h != (ReceiveSMSHistoryStage{Matched: "+447240435862", LastSeen: "2024-11-05", Applied: true}) {
		t.Errorf("stale history %+v", h)
	}
	for _, w := range in.Warnings {
		if w.Risk == WarnReceiveSMSHistory && w.AdditionalData["last_seen"] != "2024-11-05" {
			t.Errorf("warning %+v", w)
		}
	}

	// A longer max_age makes the old sighting count; an exemption drops it.
	longer := New(Options{Data: DefaultData().With(&Data{ReceiveSMSMaxAge: 3 * 365 * 24 * time.Hour})})
	if in := longer.Lookup(stale, ""); !in.IsDisposable || in.Confidence != Low {
		t.Errorf("max_age 3 years: disposable %v confidence %s", in.IsDisposable, in.Confidence)
	}
	exempt := New(Options{Data: DefaultData().With(&Data{ReceiveSMSExempt: []PrefixEntry{{Prefix: "+447304250183", Source: "test"}}})})
	if in := exempt.Lookup(fresh, ""); in.IsDisposable || in.Confidence != Verified {
		t.Errorf("exempt: disposable %v confidence %s", in.IsDisposable, in.Confidence)
	}

	// A number never seen, in a range where the list clusters.
	in = e.Lookup("+358 45 7399 8008", "")
	if !in.IsDisposable || in.Confidence != Low || in.Diagnostics.Disposable.MatchedPrefix != "+3584573998" {
		t.Errorf("range: disposable %v confidence %s diagnostics %+v", in.IsDisposable, in.Confidence, in.Diagnostics.Disposable)
	}
}
