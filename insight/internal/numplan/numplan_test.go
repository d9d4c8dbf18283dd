package numplan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers/v2"
)

// TestTableRegenerates: the committed table is what gen.go makes from the
// nyaruka/phonenumbers version in go.mod, byte for byte.
func TestTableRegenerates(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("go", "run", "gen.go", "-out", dir).CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, out)
	}
	got, err := os.ReadFile(filepath.Join(dir, "numplan.bin"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("numplan.bin")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("numplan.bin is not what gen.go makes (%d bytes, generated %d): run go generate in insight/internal/numplan", len(want), len(got))
	}
}

// TestParseRefusesDamagedTables: a table cut short, grown or with a wrong
// header is refused, so a bad file cannot be read out of bounds.
func TestParseRefusesDamagedTables(t *testing.T) {
	if _, err := parse(data); err != nil {
		t.Fatalf("committed table: %v", err)
	}
	for name, bad := range map[string]string{
		"empty":    "",
		"no magic": "XXXX" + data[4:],
		"cut":      data[:len(data)-1],
		"cut more": data[:len(data)/2],
		"grown":    data + "\x00",
	} {
		if _, err := parse(bad); err == nil {
			t.Errorf("%s table accepted", name)
		}
	}
}

// TestCallingCodes: every calling code libphonenumber knows is in the
// table, compiled or refused with a reason; the refused are listed.
func TestCallingCodes(t *testing.T) {
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		if plans[cc] == nil {
			t.Errorf("+%d missing from the table", cc)
		}
	}
	refused := Refused()
	codes := make([]int, 0, len(refused))
	for cc := range refused {
		codes = append(codes, cc)
	}
	slices.Sort(codes)
	for _, cc := range codes {
		t.Logf("+%d answered by nyaruka: %s", cc, refused[cc])
	}
	t.Logf("%d calling codes compiled, %d refused", Compiled(), len(refused))
	if Compiled() < 200 {
		t.Errorf("only %d calling codes compiled", Compiled())
	}
}

var numberTypes = []phonenumbers.PhoneNumberType{
	phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE,
	phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST,
	phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER,
	phonenumbers.UAN, phonenumbers.VOICEMAIL,
}

// exampleNumbers are libphonenumber's example number of every type of every
// region and of every global code, in E.164.
func exampleNumbers() []string {
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	var out []string
	for _, r := range regions {
		for _, typ := range numberTypes {
			if n := phonenumbers.GetExampleNumberForTypeInRegion(r, typ); n != nil {
				out = append(out, phonenumbers.Format(n, phonenumbers.E164))
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
			out = append(out, phonenumbers.Format(n, phonenumbers.E164))
		}
	}
	return out
}

// variants derives inputs from E.164 examples: every digit after the "+"
// replaced by every other, every truncation, a digit or two added, random
// digits after every prefix, and the example written with separators.
func variants(exs []string, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, 13))
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, ex := range exs {
		digits := ex[1:]
		add(ex)
		for i := range digits {
			for d := byte('0'); d <= '9'; d++ {
				if d != digits[i] {
					add("+" + digits[:i] + string(d) + digits[i+1:])
				}
			}
			add("+" + digits[:i+1])
			var b strings.Builder
			b.WriteString(digits[:i+1])
			for range len(digits) - i - 1 + rng.IntN(3) - 1 {
				b.WriteByte(byte('0' + rng.IntN(10)))
			}
			add("+" + b.String())
		}
		add(ex + "0")
		add(ex + "12")
		// Written forms: grouped with spaces, dashes, dots, parentheses, slashes.
		for _, sep := range []string{" ", "-", ".", "/"} {
			var b strings.Builder
			b.WriteString("+")
			for i := range digits {
				if i > 0 && rng.IntN(3) == 0 {
					b.WriteString(sep)
				}
				b.WriteByte(digits[i])
			}
			add(b.String())
		}
		if len(digits) > 5 {
			add("+" + digits[:2] + " (" + digits[2:5] + ") " + digits[5:])
			add("+ " + digits[:1] + "-" + digits[1:] + ".")
		}
	}
	return out
}

// oracle is what nyaruka says of input, in the shape Parse answers.
func oracle(input string) (Number, error) { return oracleIn(input, "") }

// oracleIn is oracle with a region hint.
func oracleIn(input, region string) (Number, error) {
	num, err := phonenumbers.Parse(input, region)
	if err != nil {
		return Number{}, err
	}
	code := num.GetCountryCode()
	n := Number{
		CallingCode:   code,
		Region:        phonenumbers.GetRegionCodeForNumber(num),
		Type:          phonenumbers.GetNumberType(num),
		Possible:      phonenumbers.IsPossibleNumberWithReason(num),
		E164:          phonenumbers.Format(num, phonenumbers.E164),
		International: phonenumbers.Format(num, phonenumbers.INTERNATIONAL),
		National:      phonenumbers.Format(num, phonenumbers.NATIONAL),
		SharedCode:    len(phonenumbers.GetRegionCodesForCountryCode(int(code))) > 1,
	}
	regions := phonenumbers.GetRegionCodesForCountryCode(int(code))
	if len(regions) == 1 {
		n.GeoRegion = regions[0]
	} else {
		for _, r := range regions {
			if phonenumbers.IsValidNumberForRegion(num, r) {
				if n.GeoRegion != "" {
					n.GeoRegion = ""
					break
				}
				n.GeoRegion = r
			}
		}
	}
	return n, nil
}

// check compares Parse with the oracle; it reports whether the tables
// answered.
func check(t testing.TB, input string) bool {
	got, ok := Parse(input)
	if !ok {
		return false
	}
	want, err := oracle(input)
	if err != nil {
		t.Errorf("%q: tables answer %+v, nyaruka fails: %v", input, got, err)
		return true
	}
	if got != want {
		t.Errorf("%q:\n tables  %+v\n nyaruka %+v", input, got, want)
	}
	return true
}

// TestAgreesWithNyaruka holds every answer of the tables to nyaruka's, over
// every example number and their variants, and counts how many the tables
// answer.
func TestAgreesWithNyaruka(t *testing.T) {
	exs := exampleNumbers()
	inputs := variants(exs, 1)
	rng := rand.New(rand.NewPCG(7, 7))
	codes := make([]int, 0, 256)
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		codes = append(codes, cc)
	}
	slices.Sort(codes)
	for range 80000 {
		cc := codes[rng.IntN(len(codes))]
		var b strings.Builder
		fmt.Fprintf(&b, "+%d", cc)
		for range 2 + rng.IntN(14) {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		inputs = append(inputs, b.String())
	}
	if testing.Short() {
		inputs = inputs[:len(inputs)/10]
	}
	if raceDetector {
		sample := inputs[:0:0]
		for i := 0; i < len(inputs); i += 5 {
			sample = append(sample, inputs[i])
		}
		inputs = sample
	}
	answered, examples := 0, 0
	for i, in := range inputs {
		if check(t, in) {
			answered++
		}
		if t.Failed() && i > 0 && i%1000 == 0 {
			t.FailNow()
		}
	}
	for _, ex := range exs {
		if _, ok := Parse(ex); ok {
			examples++
		}
	}
	t.Logf("%d inputs, %d answered by the tables (the rest by nyaruka); %d of %d example numbers", len(inputs), answered, examples, len(exs))
	if answered < len(inputs)/2 {
		t.Errorf("the tables answered only %d of %d", answered, len(inputs))
	}
}

// FuzzParse: on any input the tables answer, they answer as nyaruka does.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"+447400123456",          // GB mobile
		"+1 (650) 253-0000",      // NANP, US
		"+39 06 1234 5678",       // Italian leading zero
		"+44 07400 123456",       // a national prefix after the code: nyaruka
		"+800 1234 5678",         // global code
		"+7 912 345-67-89",       // shared code, RU
		"+1/242/359/1234",        // slashes
		"+00",                    // too short
		"+9991234",               // no such code
		"+123456789012345678901", // too long
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		check(t, s)
	})
}

// checkNational compares ParseNational with the oracle; it reports whether
// the tables answered.
func checkNational(t testing.TB, input, region string) bool {
	got, ok := ParseNational(input, region)
	if !ok {
		return false
	}
	want, err := oracleIn(input, region)
	if err != nil {
		t.Errorf("%q (%s): tables answer %+v, nyaruka fails: %v", input, region, got, err)
		return true
	}
	if got != want {
		t.Errorf("%q (%s):\n tables  %+v\n nyaruka %+v", input, region, got, want)
	}
	return true
}

// TestNationalAgreesWithNyaruka holds ParseNational to nyaruka's Parse with
// the region hint, over every example number of every region in national
// form, its digits, without the national prefix, and every digit of those
// replaced by every other (the engine's test, package insight, covers more).
func TestNationalAgreesWithNyaruka(t *testing.T) {
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	var inputs [][2]string
	for _, r := range regions {
		for _, typ := range numberTypes {
			n := phonenumbers.GetExampleNumberForTypeInRegion(r, typ)
			if n == nil {
				continue
			}
			nat := phonenumbers.Format(n, phonenumbers.NATIONAL)
			nsn := phonenumbers.GetNationalSignificantNumber(n)
			inputs = append(inputs, [2]string{nat, r}, [2]string{nsn, r})
			var digits []byte
			for i := 0; i < len(nat); i++ {
				if nat[i] >= '0' && nat[i] <= '9' {
					digits = append(digits, nat[i])
				}
			}
			for i := range digits {
				for d := byte('0'); d <= '9'; d++ {
					v := slices.Clone(digits)
					v[i] = d
					inputs = append(inputs, [2]string{string(v), r})
				}
			}
		}
	}
	if testing.Short() || raceDetector {
		sample := inputs[:0:0]
		for i := 0; i < len(inputs); i += 5 {
			sample = append(sample, inputs[i])
		}
		inputs = sample
	}
	answered := 0
	for i, in := range inputs {
		if checkNational(t, in[0], in[1]) {
			answered++
		}
		if t.Failed() && i > 0 && i%1000 == 0 {
			t.FailNow()
		}
	}
	t.Logf("%d inputs, %d answered by the tables; %d regions", len(inputs), answered, NationalRegions())
	if answered < len(inputs)/2 {
		t.Errorf("the tables answered only %d of %d", answered, len(inputs))
	}
}

// FuzzParseNational: on any input and region the tables answer, they
// answer as nyaruka does.
func FuzzParseNational(f *testing.F) {
	for _, s := range [][2]string{
		{"07400 123456", "GB"},
		{"(650) 253-0000", "US"},
		{"06 1234 5678", "IT"},
		{"8 912 345-67-89", "RU"},
		{"1831 0412 345 678", "AU"},
		{"464-1234", "AG"},
		{"0044 7400 123456", "GB"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, region string) {
		checkNational(t, s, region)
	})
}
