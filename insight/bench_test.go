package insight

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/phonegate/phonegate/insight/internal/numplan"
)

// benchNumbers is a mix of countries: the example mobile number of every
// region libphonenumber supports, in E.164.
func benchNumbers(b *testing.B) []string {
	b.Helper()
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	var out []string
	for _, r := range regions {
		if n := phonenumbers.GetExampleNumberForTypeInRegion(r, phonenumbers.MOBILE); n != nil {
			out = append(out, phonenumbers.Format(n, phonenumbers.E164))
		}
	}
	return out
}

// BenchmarkLookupMiss measures scoring a number with the cache disabled.
func BenchmarkLookupMiss(b *testing.B) { benchmarkLookupMiss(b, false) }

// BenchmarkLookupMissNyaruka is BenchmarkLookupMiss with every number
// taking nyaruka's path instead of the compiled tables (package numplan).
func BenchmarkLookupMissNyaruka(b *testing.B) { benchmarkLookupMiss(b, true) }

func benchmarkLookupMiss(b *testing.B, nyarukaOnly bool) {
	nums := benchNumbers(b)
	e := New(Options{CacheSize: -1})
	e.nyarukaOnly = nyarukaOnly
	e.Warm()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e.Lookup(nums[i%len(nums)], "")
	}
}

// BenchmarkNyarukaFacts is what the compiled tables replace, by nyaruka's
// own calls on the numbers of BenchmarkLookupMiss: parse, possible length,
// type, the three formats and the region.
func BenchmarkNyarukaFacts(b *testing.B) {
	nums := benchNumbers(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		nyarukaFacts(b, nums[i%len(nums)], "")
	}
}

// nyarukaFacts asks nyaruka for what the compiled tables answer: parse,
// possible length, type, the three formats and the region.
func nyarukaFacts(b *testing.B, input, region string) {
	num, err := phonenumbers.Parse(input, region)
	if err != nil {
		b.Fatal(err)
	}
	phonenumbers.IsPossibleNumberWithReason(num)
	phonenumbers.GetNumberType(num)
	phonenumbers.Format(num, phonenumbers.E164)
	phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
	phonenumbers.Format(num, phonenumbers.NATIONAL)
	phonenumbers.GetRegionCodeForNumber(num)
}

// BenchmarkPlanFacts is the same facts from the compiled tables.
func BenchmarkPlanFacts(b *testing.B) {
	nums := benchNumbers(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok := numplan.Parse(nums[i%len(nums)]); !ok && nums[i%len(nums)][:3] != "+54" {
			b.Fatal(nums[i%len(nums)])
		}
	}
}

// BenchmarkLookupHit measures a lookup answered from the cache.
func BenchmarkLookupHit(b *testing.B) {
	nums := benchNumbers(b)
	e := New(Options{})
	for _, n := range nums {
		e.Lookup(n, "")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e.Lookup(nums[i%len(nums)], "")
	}
}

// BenchmarkCacheEntryHeap reports the Go heap one cached insight holds
// (heap-B/entry), which sizes --cache-size against a memory budget.
func BenchmarkCacheEntryHeap(b *testing.B) {
	const entries = 4096
	var perEntry float64
	for i := 0; b.Loop(); i++ {
		e := New(Options{CacheSize: entries})
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for n := range entries {
			e.Lookup(fmt.Sprintf("+4474%08d", n), "")
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEntry = float64(after.HeapAlloc-before.HeapAlloc) / entries
		runtime.KeepAlive(e)
	}
	b.ReportMetric(perEntry, "heap-B/entry")
}

// BenchmarkParseReceiveSMS is the start-up cost of the embedded list of
// receive-SMS numbers.
func BenchmarkParseReceiveSMS(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := openReceiveSMS(receiveSMSBin, "receive_sms_ranges.txt"); err != nil {
			b.Fatal(err)
		}
	}
}

// benchNational is benchNumbers in national form (Format NATIONAL) with
// their region as the hint.
func benchNational(b *testing.B) [][2]string {
	b.Helper()
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	var out [][2]string
	for _, r := range regions {
		if n := phonenumbers.GetExampleNumberForTypeInRegion(r, phonenumbers.MOBILE); n != nil {
			out = append(out, [2]string{phonenumbers.Format(n, phonenumbers.NATIONAL), r})
		}
	}
	return out
}

// BenchmarkLookupMissNational measures scoring a number in national form
// with its region hint, the cache disabled.
func BenchmarkLookupMissNational(b *testing.B) {
	nums := benchNational(b)
	e := New(Options{CacheSize: -1})
	e.Warm()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		n := nums[i%len(nums)]
		e.Lookup(n[0], n[1])
	}
}

// BenchmarkLookupMissNationalNyaruka is BenchmarkLookupMissNational with
// every number taking nyaruka's path.
func BenchmarkLookupMissNationalNyaruka(b *testing.B) {
	nums := benchNational(b)
	e := New(Options{CacheSize: -1})
	e.nyarukaOnly = true
	e.Warm()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		n := nums[i%len(nums)]
		e.Lookup(n[0], n[1])
	}
}

// BenchmarkNyarukaFactsNational is BenchmarkNyarukaFacts on the numbers of
// BenchmarkLookupMissNational.
func BenchmarkNyarukaFactsNational(b *testing.B) {
	nums := benchNational(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		n := nums[i%len(nums)]
		nyarukaFacts(b, n[0], n[1])
	}
}

// BenchmarkPlanFactsNational is the same facts from the compiled tables
// (numbers they leave to nyaruka are skipped).
func BenchmarkPlanFactsNational(b *testing.B) {
	all := benchNational(b)
	var nums [][2]string
	for _, n := range all {
		if _, ok := numplan.ParseNational(n[0], n[1]); ok {
			nums = append(nums, n)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		n := nums[i%len(nums)]
		numplan.ParseNational(n[0], n[1])
	}
	b.ReportMetric(float64(len(nums)), "answered")
	b.ReportMetric(float64(len(all)), "numbers")
}

// BenchmarkParseEmbeddedTables is the start-up cost of the hand-kept tables
// (carrier profiles, disposable prefixes, country caps, fictitious ranges,
// about 100 rows): parsed from their text and merged into lookup maps, as a
// policy's data section is merged with them on every load.
func BenchmarkParseEmbeddedTables(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		d, err := parseEmbedded()
		if err != nil {
			b.Fatal(err)
		}
		_ = compileData(d)
	}
}
