package insight

import (
	"fmt"
	"sync"
	"testing"

	"github.com/nyaruka/phonenumbers/v2"
)

func TestLookup(t *testing.T) {
	e := New(Options{})
	tests := []struct {
		input, region string
		valid         bool
		e164, iso2    string
		prefix        string
		lineType      LineType
		carrier       string
		confidence    Confidence
		risk          int
	}{
		{"+44 7400 123456", "", true, "+447400123456", "GB", "44", Mobile, "Three", Verified, 5},
		{"07400 123456", "GB", true, "+447400123456", "GB", "44", Mobile, "Three", Verified, 5},
		{"0044 7400 123456", "FR", true, "+447400123456", "GB", "44", Mobile, "Three", Verified, 5},
		{"+44 20 7183 8750", "", true, "+442071838750", "GB", "44", FixedLine, "", Verified, 5},
		{"(650) 253-0000", "us", true, "+16502530000", "US", "1", FixedLineOrMobile, "", Likely, 15},
		{"+1 800 253 0000", "", true, "+18002530000", "US", "1", TollFree, "", Likely, 15},
		{"+44 300 123 4567", "", true, "+443001234567", "GB", "44", UAN, "", Uncertain, 35},
		{"+44 56 1234 5678", "", true, "+445612345678", "GB", "44", VoIP, "", Low, 80},
		{"+44 7700 900", "", false, "+447700900", "", "44", UnknownLine, "", Invalid, 100},
		{"(650) 253-0000", "", false, "", "", "", UnknownLine, "", Invalid, 100},
		{"not a number", "US", false, "", "", "", UnknownLine, "", Invalid, 100},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.input, tt.region), func(t *testing.T) {
			in := e.Lookup(tt.input, tt.region)
			got := fmt.Sprint(in.Valid, in.E164, in.Country.ISO2, in.Country.Prefix, in.LineType, in.Carrier.Name, in.Confidence, in.RiskScore)
			want := fmt.Sprint(tt.valid, tt.e164, tt.iso2, tt.prefix, tt.lineType, tt.carrier, tt.confidence, tt.risk)
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
			if in.ConfidenceScore != in.Confidence.Score() {
				t.Errorf("confidence_score %v for %s", in.ConfidenceScore, in.Confidence)
			}
			if in.Network != (Network{Unknown, Unknown, Unknown, Unknown}) {
				t.Errorf("network %+v, want every field unknown", in.Network)
			}
			if !in.Valid && in.Diagnostics.Format.Reason == "" {
				t.Error("invalid number without a diagnostic")
			}
		})
	}
}

func TestLineTypesFollowLibphonenumber(t *testing.T) {
	// Every libphonenumber type maps to the snake_case name of DESIGN.md.
	for typ, want := range map[phonenumbers.PhoneNumberType]LineType{
		phonenumbers.FIXED_LINE: FixedLine, phonenumbers.MOBILE: Mobile,
		phonenumbers.FIXED_LINE_OR_MOBILE: FixedLineOrMobile, phonenumbers.TOLL_FREE: TollFree,
		phonenumbers.PREMIUM_RATE: PremiumRate, phonenumbers.SHARED_COST: SharedCost,
		phonenumbers.VOIP: VoIP, phonenumbers.PERSONAL_NUMBER: PersonalNumber,
		phonenumbers.PAGER: Pager, phonenumbers.UAN: UAN, phonenumbers.VOICEMAIL: Voicemail,
		phonenumbers.UNKNOWN: UnknownLine,
	} {
		if got := lineTypeOf(typ); got != want {
			t.Errorf("lineTypeOf(%d) = %s, want %s", typ, got, want)
		}
	}
}

func TestConfidenceBaseline(t *testing.T) {
	for lt, want := range map[LineType]Confidence{
		Mobile: Verified, FixedLine: Verified, FixedLineOrMobile: Likely, TollFree: Likely,
		VoIP: Low, Pager: Low, Voicemail: Low, PremiumRate: Uncertain, SharedCost: Uncertain,
		PersonalNumber: Uncertain, UAN: Uncertain, UnknownLine: Uncertain,
	} {
		if got := lineTypeBaseline(lt); got != want {
			t.Errorf("baseline(%s) = %s, want %s", lt, got, want)
		}
	}
}

func TestCache(t *testing.T) {
	e := New(Options{CacheSize: 2})
	a := e.Lookup("+447400123456", "")
	if b := e.Lookup("  +447400123456 ", ""); b != a {
		t.Error("the same number (spaces trimmed) was not served from the cache")
	}
	if h, m := e.CacheStats(); h != 1 || m != 1 {
		t.Errorf("hits %d misses %d, want 1 and 1", h, m)
	}
	// The region is part of the key: a national number means different things.
	if gb, us := e.Lookup("4155552671", "GB"), e.Lookup("4155552671", "US"); gb.Valid || !us.Valid {
		t.Errorf("GB hint valid=%v, US hint valid=%v", gb.Valid, us.Valid)
	}
	// Size 2: the first entry has been evicted.
	e.Lookup("+447400123456", "")
	if h, _ := e.CacheStats(); h != 1 {
		t.Errorf("hits %d after eviction, want 1", h)
	}

	off := New(Options{CacheSize: -1})
	off.Lookup("+447400123456", "")
	off.Lookup("+447400123456", "")
	if h, m := off.CacheStats(); h != 0 || m != 2 {
		t.Errorf("disabled cache: hits %d misses %d", h, m)
	}
}

func TestCacheConcurrent(t *testing.T) {
	e := New(Options{CacheSize: 8})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				in := e.Lookup(fmt.Sprintf("+44740012%04d", (g*200+i)%20), "")
				if !in.Valid {
					t.Errorf("%s invalid", in.Input)
					return
				}
			}
		}()
	}
	wg.Wait()
	if h, m := e.CacheStats(); h+m != 1600 {
		t.Errorf("hits+misses = %d, want 1600", h+m)
	}
}

func TestOverlongInputIsInvalidAndUncached(t *testing.T) {
	e := New(Options{})
	long := "+44" + string(make([]byte, MaxInputLen))
	if in := e.Lookup(long, ""); in.Valid || in.Confidence != Invalid {
		t.Errorf("overlong input scored %s", in.Confidence)
	}
	if _, m := e.CacheStats(); m != 0 {
		t.Error("overlong input went through the cache")
	}
}

// FuzzLookup: no input panics the engine, and a valid insight has an E.164
// that parses back to itself.
func FuzzLookup(f *testing.F) {
	f.Add("+447400123456", "")
	f.Add("07400 123456", "GB")
	f.Add("tel:+1-201-555-0123;ext=4", "US")
	f.Add("+800 1234 5678", "")        // non-geographic
	f.Add("0011 44 7400 123456", "AU") // another country's IDD
	f.Add("１２０１５５５０１２３", "US")         // full-width digits
	f.Add("+", "ZZ")
	f.Fuzz(func(t *testing.T, input, region string) {
		e := New(Options{CacheSize: -1})
		in := e.Lookup(input, region)
		if !in.Valid {
			if in.Confidence != Invalid {
				t.Fatalf("invalid number with confidence %s", in.Confidence)
			}
			return
		}
		if in.E164 == "" {
			t.Fatalf("valid insight for %q without an E.164", input)
		}
		back := e.Lookup(in.E164, "")
		if !back.Valid || back.E164 != in.E164 {
			t.Fatalf("%q -> %s, which parses back to %q (valid=%v)", input, in.E164, back.E164, back.Valid)
		}
	})
}
