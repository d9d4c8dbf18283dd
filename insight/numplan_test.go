package insight

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/phonegate/phonegate/insight/internal/numplan"
)

// internationalInputs are libphonenumber's example number of every type of
// every region and global code, written in international form in several
// ways, and variants of them: every digit replaced by every other, every
// truncation, digits added, random digits after every prefix; then random
// national numbers after every calling code.
func internationalInputs(seed uint64) (examples, all []string) {
	rng := rand.New(rand.NewPCG(seed, 13))
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			all = append(all, s)
		}
	}
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	var nums []*phonenumbers.PhoneNumber
	for _, r := range regions {
		for _, typ := range numberTypes {
			if n := phonenumbers.GetExampleNumberForTypeInRegion(r, typ); n != nil {
				nums = append(nums, n)
			}
		}
	}
	codes := make([]int, 0, 256)
	for c := range phonenumbers.GetSupportedCallingCodes() {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		if n := phonenumbers.GetExampleNumberForNonGeoEntity(c); n != nil {
			nums = append(nums, n)
		}
	}
	for _, n := range nums {
		e164 := phonenumbers.Format(n, phonenumbers.E164)
		examples = append(examples, e164)
		for _, s := range []string{
			e164,
			phonenumbers.Format(n, phonenumbers.INTERNATIONAL),
			strings.ReplaceAll(phonenumbers.Format(n, phonenumbers.INTERNATIONAL), " ", "-"),
			strings.ReplaceAll(phonenumbers.Format(n, phonenumbers.INTERNATIONAL), " ", "."),
			fmt.Sprintf("+%d (%s)", n.GetCountryCode(), phonenumbers.GetNationalSignificantNumber(n)),
			fmt.Sprintf("+%d/%s", n.GetCountryCode(), phonenumbers.GetNationalSignificantNumber(n)),
		} {
			add(s)
		}
	}
	for _, ex := range examples {
		digits := ex[1:]
		for i := range digits {
			for d := byte('0'); d <= '9'; d++ {
				if d != digits[i] {
					add("+" + digits[:i] + string(d) + digits[i+1:])
				}
			}
			add("+" + digits[:i+1])
			var b strings.Builder
			b.WriteString(digits[:i+1])
			for range len(digits) - i - 2 + rng.IntN(4) {
				b.WriteByte(byte('0' + rng.IntN(10)))
			}
			add("+" + b.String())
		}
		add(ex + "0")
		add(ex + "12")
	}
	for len(all) < 215_000 {
		var b strings.Builder
		fmt.Fprintf(&b, "+%d", codes[rng.IntN(len(codes))])
		for i := range 2 + rng.IntN(15) {
			if i > 0 && rng.IntN(4) == 0 {
				b.WriteByte(" -./"[rng.IntN(4)])
			}
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		add(b.String())
	}
	return examples, all
}

var numberTypes = []phonenumbers.PhoneNumberType{
	phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE,
	phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST,
	phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER,
	phonenumbers.UAN, phonenumbers.VOICEMAIL,
}

// sameInsight compares the insight of input by the compiled tables with
// nyaruka's, as JSON: every field. It reports whether the tables answered.
func sameInsight(t testing.TB, fast, slow *Engine, input, region string) bool {
	t.Helper()
	if _, ok := numplan.Parse(input); !ok {
		if _, ok := numplan.ParseNational(input, region); !ok {
			return false
		}
	}
	got, err := json.Marshal(fast.compute(input, region))
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(slow.compute(input, region))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%q (region %q):\n tables  %s\n nyaruka %s", input, region, got, want)
	}
	return true
}

// TestCompiledPlanAgreesWithNyaruka: for numbers in international form the
// engine answers from package numplan's tables; its insight (every field)
// is the one nyaruka's path gives, over every example number written
// several ways and more than 200,000 variants. It says how many inputs
// and calling codes take the tables' path.
func TestCompiledPlanAgreesWithNyaruka(t *testing.T) {
	t.Parallel()
	fast := New(Options{CacheSize: -1})
	slow := New(Options{CacheSize: -1})
	slow.nyarukaOnly = true
	examples, inputs := internationalInputs(2026)
	hints := []string{"", "", "", "GB", "US", "DE"}
	answered, exAnswered := 0, 0
	for i, in := range inputs {
		if sameInsight(t, fast, slow, in, hints[i%len(hints)]) {
			answered++
		}
		if t.Failed() && i%1000 == 0 {
			t.FailNow()
		}
	}
	for _, ex := range examples {
		if _, ok := numplan.Parse(ex); ok {
			exAnswered++
		}
	}
	t.Logf("%d inputs, %d answered by the compiled tables, the rest by nyaruka; %d of %d example numbers; %d calling codes compiled, refused: %v",
		len(inputs), answered, exAnswered, len(examples), numplan.Compiled(), numplan.Refused())
	if len(inputs) < 200_000 || answered < len(inputs)*3/4 || exAnswered < len(examples)*9/10 {
		t.Errorf("the tables answered %d of %d inputs and %d of %d examples", answered, len(inputs), exAnswered, len(examples))
	}
}

// FuzzCompiledPlan: on any input, the engine's insight is the one nyaruka's
// path gives.
func FuzzCompiledPlan(f *testing.F) {
	for _, s := range []string{
		"+447400123456",     // GB mobile
		"+1 (650) 253-0000", // NANP
		"+39 06 1234 5678",  // Italian leading zero
		"+44 07400 123456",  // a national prefix after the code: nyaruka
		"+7 912 345-67-89",  // shared code
		"+800 1234 5678",    // global code
		"+2125 0 0",         // too short
	} {
		f.Add(s, "")
	}
	f.Add("+1 242 359 1234", "GB")
	for _, s := range [][2]string{
		{"07400 123456", "GB"},    // national prefix stripped
		{"7400 123456", "GB"},     // written without it
		{"(650) 253-0000", "US"},  // NANP
		{"1 650 253 0000", "US"},  // the calling code in front: nyaruka
		{"06 1234 5678", "IT"},    // no national prefix, a leading zero
		{"8 912 345-67-89", "RU"}, // national prefix 8
		{"011 44 7400 123456", "US"},
		{"0044 7400 123456", "GB"}, // an international prefix: nyaruka
		{"011 15-2345-6789", "AR"}, // a prefix that is a pattern: nyaruka
		{"01234", "GB"},
	} {
		f.Add(s[0], s[1])
	}
	fast := New(Options{CacheSize: -1})
	slow := New(Options{CacheSize: -1})
	slow.nyarukaOnly = true
	f.Fuzz(func(t *testing.T, input, region string) {
		if len(input) > MaxInputLen {
			return
		}
		sameInsight(t, fast, slow, input, region)
	})
}

// nationalInputs are libphonenumber's example number of every type of every
// region written in national form with that region as the hint (as Format
// NATIONAL writes it, its digits alone, without the national prefix) and
// with the other regions sharing its calling code as the hint, and
// variants of the digits: every digit replaced by every other, every
// truncation, digits added, random digits after every prefix.
func nationalInputs(seed uint64) (examples, all [][2]string) {
	rng := rand.New(rand.NewPCG(seed, 31))
	seen := map[[2]string]bool{}
	add := func(s, r string) {
		k := [2]string{s, r}
		if !seen[k] {
			seen[k] = true
			all = append(all, k)
		}
	}
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	digitsOf := func(s string) string {
		var b strings.Builder
		for _, c := range s {
			if c >= '0' && c <= '9' {
				b.WriteRune(c)
			}
		}
		return b.String()
	}
	for _, r := range regions {
		for _, typ := range numberTypes {
			n := phonenumbers.GetExampleNumberForTypeInRegion(r, typ)
			if n == nil {
				continue
			}
			nat := phonenumbers.Format(n, phonenumbers.NATIONAL)
			examples = append(examples, [2]string{nat, r})
			add(nat, r)
			add(digitsOf(nat), r)
			add(phonenumbers.GetNationalSignificantNumber(n), r)
			add(strings.ReplaceAll(nat, " ", "-"), r)
			for _, other := range phonenumbers.GetRegionCodesForCountryCode(int(n.GetCountryCode())) {
				add(nat, other)
			}
			add(nat, regions[rng.IntN(len(regions))])
			// Carrier codes and other prefixes some regions' national
			// prefix patterns match (AU 1831, CN 17951, KR 081, LU 15001,
			// LI 1001, CR 1900, BY 80, BO 012...).
			nsn := phonenumbers.GetNationalSignificantNumber(n)
			for _, p := range []string{"1831", "17951", "081", "0851", "15001", "1001", "1900", "80", "8", "012", "03", "0", "00", "1"} {
				add(p+" "+nsn, r)
			}
		}
	}
	for _, ex := range examples {
		digits, r := digitsOf(ex[0]), ex[1]
		for i := range digits {
			for d := byte('0'); d <= '9'; d++ {
				if d != digits[i] {
					add(digits[:i]+string(d)+digits[i+1:], r)
				}
			}
			add(digits[:i+1], r)
			var b strings.Builder
			b.WriteString(digits[:i+1])
			for range len(digits) - i - 2 + rng.IntN(4) {
				b.WriteByte(byte('0' + rng.IntN(10)))
			}
			add(b.String(), r)
		}
		add(digits+"0", r)
		add(digits+"12", r)
		add("0"+digits, r)
	}
	for len(all) < 160_000 {
		var b strings.Builder
		for i := range 2 + rng.IntN(15) {
			if i > 0 && rng.IntN(4) == 0 {
				b.WriteByte(" -./()"[rng.IntN(6)])
			}
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		add(b.String(), regions[rng.IntN(len(regions))])
	}
	return examples, all
}

// TestCompiledPlanNationalAgreesWithNyaruka: for numbers in national form
// with a region hint whose national prefix is plain, the engine answers
// from package numplan's tables; its insight (every field) is the one
// nyaruka's path gives, over every example number written in national form
// and more than 100,000 variants. It says how many inputs and regions take
// the tables' path.
func TestCompiledPlanNationalAgreesWithNyaruka(t *testing.T) {
	t.Parallel()
	fast := New(Options{CacheSize: -1})
	slow := New(Options{CacheSize: -1})
	slow.nyarukaOnly = true
	examples, inputs := nationalInputs(2026)
	answered, exAnswered := 0, 0
	for i, in := range inputs {
		if sameInsight(t, fast, slow, in[0], in[1]) {
			answered++
		}
		if t.Failed() && i%1000 == 0 {
			t.FailNow()
		}
	}
	for _, ex := range examples {
		if _, ok := numplan.ParseNational(ex[0], ex[1]); ok {
			exAnswered++
		}
	}
	t.Logf("%d inputs, %d answered by the compiled tables, the rest by nyaruka; %d of %d example numbers; %d of %d regions read national numbers from the tables",
		len(inputs), answered, exAnswered, len(examples), numplan.NationalRegions(), len(phonenumbers.GetSupportedRegions()))
	if len(inputs) < 100_000 || answered < len(inputs)/2 || exAnswered < len(examples)*3/4 {
		t.Errorf("the tables answered %d of %d inputs and %d of %d examples", answered, len(inputs), exAnswered, len(examples))
	}
}
