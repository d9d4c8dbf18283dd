package prefixdata

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/nyaruka/phonenumbers/v2/carrier"
	"github.com/nyaruka/phonenumbers/v2/geocoding"
	"github.com/nyaruka/phonenumbers/v2/timezone"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"google.golang.org/protobuf/proto"
)

var tableFiles = []string{"carrier_en.bin", "geocoding_en.bin", "timezones.bin", "regions_en.bin"}

// TestTablesRegenerate: the committed tables are what gen.go makes from the
// nyaruka/phonenumbers version in go.mod, byte for byte.
func TestTablesRegenerate(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "gen.go", "-out", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, out)
	}
	for _, name := range tableFiles {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what gen.go makes (%d bytes, generated %d): run go generate in insight/internal/prefixdata", name, len(want), len(got))
		}
	}
}

// TestParseRefusesDamagedTables: a table cut short, grown or with a wrong
// header is refused, so a bad file cannot be read out of bounds.
func TestParseRefusesDamagedTables(t *testing.T) {
	for _, data := range []string{carrierData, geocodingData, timezoneData, regionData} {
		if _, err := parse(data); err != nil {
			t.Fatalf("committed table: %v", err)
		}
		for name, bad := range map[string]string{
			"empty":        "",
			"no magic":     "XXXX" + data[4:],
			"cut":          data[:len(data)-1],
			"grown":        data + "\x00",
			"header only":  data[:headerLen],
			"longest zero": data[:12] + "\x00\x00\x00\x00" + data[16:],
		} {
			if _, err := parse(bad); err == nil {
				t.Errorf("%s table accepted", name)
			}
		}
	}
}

// numberTypes are the types an example number can be asked for.
var numberTypes = []phonenumbers.PhoneNumberType{
	phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE,
	phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST,
	phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER,
	phonenumbers.UAN, phonenumbers.VOICEMAIL,
}

// examples are libphonenumber's example number of every type of every
// region, and of every non-geographical calling code.
func examples() []*phonenumbers.PhoneNumber {
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	var out []*phonenumbers.PhoneNumber
	for _, r := range regions {
		for _, typ := range numberTypes {
			if n := phonenumbers.GetExampleNumberForTypeInRegion(r, typ); n != nil {
				out = append(out, n)
			}
		}
	}
	codes := make([]int, 0, 16)
	for c := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		if n := phonenumbers.GetExampleNumberForNonGeoEntity(c); n != nil {
			out = append(out, n)
		}
	}
	return out
}

// variants derives numbers from the examples: every digit of the national
// number replaced by every other digit, every truncation, and random digits
// after every prefix of the example. Numbers that do not parse are dropped,
// duplicates too.
func variants(exs []*phonenumbers.PhoneNumber) []*phonenumbers.PhoneNumber {
	rng := rand.New(rand.NewPCG(13, 2026))
	seen := map[string]bool{}
	var out []*phonenumbers.PhoneNumber
	add := func(digits string) {
		if seen[digits] {
			return
		}
		seen[digits] = true
		if n, err := phonenumbers.Parse("+"+digits, ""); err == nil {
			out = append(out, n)
		}
	}
	for _, ex := range exs {
		digits := phonenumbers.Format(ex, phonenumbers.E164)[1:]
		cc := len(strconv.Itoa(int(ex.GetCountryCode())))
		b := []byte(digits)
		for p := cc; p < len(b); p++ {
			orig := b[p]
			for d := byte('0'); d <= '9'; d++ {
				if d != orig {
					b[p] = d
					add(string(b))
				}
			}
			b[p] = orig
		}
		for l := cc + 1; l < len(digits); l++ {
			add(digits[:l])
		}
		for l := cc; l < len(digits); l++ {
			for range 4 {
				r := []byte(digits[:l])
				for len(r) < len(digits)+rng.IntN(3)-1 {
					r = append(r, byte('0'+rng.IntN(10)))
				}
				add(string(r))
			}
		}
	}
	return out
}

// agreement counts the answers compared with the library's.
type agreement struct {
	t       *testing.T
	checked map[string]int
	failed  int
}

func (a *agreement) same(what string, num *phonenumbers.PhoneNumber, got, want any) {
	a.checked[what]++
	if fmt.Sprint(got) == fmt.Sprint(want) {
		return
	}
	a.failed++
	if a.failed <= 20 {
		a.t.Errorf("%s(%s): %q, nyaruka %q", what, phonenumbers.Format(num, phonenumbers.E164), got, want)
	}
}

func (a *agreement) zones(what string, num *phonenumbers.PhoneNumber, got, want []string) {
	a.checked[what]++
	if slices.Equal(got, want) && (got == nil) == (want == nil) {
		return
	}
	a.failed++
	if a.failed <= 20 {
		a.t.Errorf("%s(%s): %q, nyaruka %q", what, phonenumbers.Format(num, phonenumbers.E164), got, want)
	}
}

// valid compares the lookups the engine makes on a valid number.
func (a *agreement) valid(num *phonenumbers.PhoneNumber) {
	want, _ := carrier.GetNameForValidNumber(num, "en")
	a.same("CarrierForValidNumber", num, CarrierForValidNumber(num), want)
	want, _ = geocoding.GetDescriptionForValidNumber(num, "en")
	a.same("DescriptionForValidNumber", num, DescriptionForValidNumber(num), want)
	zones, _ := timezone.GetTimeZonesForGeographicalNumber(num)
	a.zones("TimeZonesForGeographicalNumber", num, TimeZonesForGeographicalNumber(num), zones)
}

// typed compares the lookups that compute the number's type first.
func (a *agreement) typed(num *phonenumbers.PhoneNumber) {
	want, _ := geocoding.GetDescriptionForNumber(num, "en")
	a.same("DescriptionForNumber", num, DescriptionForNumber(num), want)
	zones, _ := timezone.GetTimeZonesForNumber(num)
	a.zones("TimeZonesForNumber", num, TimeZonesForNumber(num), zones)
}

// TestAgreesWithLibphonenumber: for every example number and about 200,000
// variants of them, every lookup answers what nyaruka's answers.
func TestAgreesWithLibphonenumber(t *testing.T) {
	t.Parallel() // the longest test here: 46 s with -race
	a := &agreement{t: t, checked: map[string]int{}}
	exs := examples()
	for _, n := range exs {
		a.valid(n)
		a.typed(n)
	}
	vs := variants(exs)
	for i, n := range vs {
		a.valid(n)
		// The type's regular expressions dominate: every 8th variant, and
		// every valid one of a calling code shared by several regions
		// (where the geocoder's country name needs the type).
		if i%8 == 0 {
			a.typed(n)
		}
	}
	t.Logf("%d examples, %d variants; answers compared: %v", len(exs), len(vs), a.checked)
	if len(exs) < 1300 || len(vs) < 100_000 {
		t.Errorf("%d examples and %d variants, want at least 1,300 and 100,000", len(exs), len(vs))
	}
}

// TestRegionNames: every supported region's name is x/text's English name,
// which nyaruka's geocoder falls back to; codes outside the table too.
func TestRegionNames(t *testing.T) {
	namer := display.Regions(language.English)
	for code := range phonenumbers.GetSupportedRegions() {
		if got, want := RegionName(code), namer.Name(language.MustParseRegion(code)); got != want {
			t.Errorf("RegionName(%q) = %q, x/text %q", code, got, want)
		}
	}
	for code, want := range map[string]string{"": "", "ZZ": "", "001": "", "EU": "European Union", "gb": "United Kingdom", "XYZ": ""} {
		if got := RegionName(code); got != want {
			t.Errorf("RegionName(%q) = %q, want %q", code, got, want)
		}
	}
}

// rawNumber is a number libphonenumber formats as s verbatim (no national
// number, no country code, s as raw input): the library's lookups then read
// s itself, so any string can be put to both.
func rawNumber(s string) *phonenumbers.PhoneNumber {
	return &phonenumbers.PhoneNumber{RawInput: proto.String(s)}
}

// TestEveryPrefixAgrees puts every prefix of every table, alone and with
// random digits after it, to the library's lookups.
func TestEveryPrefixAgrees(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(13, 1))
	a := &agreement{t: t, checked: map[string]int{}}
	for _, tb := range []*table{&carrierTable, geocodingTable(), &zoneTable} {
		for l := 1; l <= maxDigits; l++ {
			for i := range tb.count[l] {
				p := "+" + strconv.FormatUint(uint64(u32(tb.data, tb.keys[l]+4*i)), 10)
				for _, s := range []string{p, p + strconv.Itoa(rng.IntN(1000)), p + strconv.Itoa(1000000+rng.IntN(9000000))} {
					num := rawNumber(s)
					want, _ := carrier.GetNameForValidNumber(num, "en")
					a.same("Carrier", num, Carrier(s), want)
					want, _ = geocoding.GetDescriptionForValidNumber(num, "en")
					a.same("Area", num, Area(s), want)
					zones, _ := timezone.GetTimeZonesForGeographicalNumber(num)
					a.zones("TimeZones", num, TimeZones(s), zones)
				}
			}
		}
	}
	t.Logf("answers compared: %v", a.checked)
}

// TestOddInputs: what the library does with strings that are not E.164,
// which the lookups must copy rather than guess at.
func TestOddInputs(t *testing.T) {
	for _, s := range []string{
		"", "+", "++", "-", "+-", "-44", "+0044", "0044", "44", "4", "+4", "+44x", "+4420",
		"+447400123456", "447400123456", "++447400123456", "+ 44", "+44 74", "+1", "1", "+１",
		"+86", "+8613", "+00000000000", "+999999999999", "99999999999999999999999",
	} {
		num := rawNumber(s)
		want, _ := carrier.GetNameForValidNumber(num, "en")
		if got := Carrier(s); got != want {
			t.Errorf("Carrier(%q) = %q, nyaruka %q", s, got, want)
		}
		want, _ = geocoding.GetDescriptionForValidNumber(num, "en")
		if got := Area(s); got != want {
			t.Errorf("Area(%q) = %q, nyaruka %q", s, got, want)
		}
		zones, _ := timezone.GetTimeZonesForGeographicalNumber(num)
		if got := TimeZones(s); !slices.Equal(got, zones) || (got == nil) != (zones == nil) {
			t.Errorf("TimeZones(%q) = %q, nyaruka %q", s, got, zones)
		}
	}
}

// TestLookupsDoNotAllocate: the lookups allocate nothing. Two paths of the
// library's own are left as they are: Argentina's mobiles are parsed again
// without their token, and a number of a shared calling code (+1, +44, ...)
// that has no area is checked against each region of the code.
func TestLookupsDoNotAllocate(t *testing.T) {
	for _, s := range []string{
		"+442079460000",  // London: area, zone
		"+16502530000",   // Mountain View: area, zone
		"+33612345678",   // a French mobile: carrier, the country's name, zone
		"+390612345678",  // Rome: a leading zero
		"+80012345678",   // international freephone: no area, no country
		"+5491187654321", // an Argentine mobile: carrier
	} {
		num, err := phonenumbers.Parse(s, "")
		if err != nil {
			t.Fatal(err)
		}
		n := testing.AllocsPerRun(100, func() {
			CarrierForValidNumber(num)
			if num.GetCountryCode() != 54 {
				DescriptionForValidNumber(num)
			}
			TimeZonesForGeographicalNumber(num)
			TimeZonesForCountryCode(num.GetCountryCode())
			Carrier(s)
			Area(s)
			TimeZones(s)
		})
		if n != 0 {
			t.Errorf("%s: %v allocations", s, n)
		}
	}
}

// FuzzAgreesWithLibphonenumber puts arbitrary strings to both: read
// verbatim (see rawNumber), and as E.164 digits when they parse as a number.
func FuzzAgreesWithLibphonenumber(f *testing.F) {
	for _, s := range []string{
		"+447400123456",  // a GB mobile: carrier, area, one zone
		"+16502530000",   // NANP: area, no carrier
		"+5491187654321", // an Argentine mobile: the token 9 removed for geocoding
		"+390612345678",  // Italy: a leading zero kept
		"+80012345678",   // non-geographical
		"+0044", "-44", "+", "", "44x", "+8613800138000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		num := rawNumber(s)
		want, _ := carrier.GetNameForValidNumber(num, "en")
		if got := Carrier(s); got != want {
			t.Errorf("Carrier(%q) = %q, nyaruka %q", s, got, want)
		}
		want, _ = geocoding.GetDescriptionForValidNumber(num, "en")
		if got := Area(s); got != want {
			t.Errorf("Area(%q) = %q, nyaruka %q", s, got, want)
		}
		zones, _ := timezone.GetTimeZonesForGeographicalNumber(num)
		if got := TimeZones(s); !slices.Equal(got, zones) || (got == nil) != (zones == nil) {
			t.Errorf("TimeZones(%q) = %q, nyaruka %q", s, got, zones)
		}
		digits := strings.TrimPrefix(s, "+")
		if len(digits) > 20 || strings.Trim(digits, "0123456789") != "" {
			return
		}
		parsed, err := phonenumbers.Parse("+"+digits, "")
		if err != nil {
			return
		}
		a := &agreement{t: t, checked: map[string]int{}}
		a.valid(parsed)
		a.typed(parsed)
	})
}
