package insight

import (
	"slices"
	"testing"

	"github.com/nyaruka/phonenumbers/v2"
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
func BenchmarkLookupMiss(b *testing.B) {
	nums := benchNumbers(b)
	e := New(Options{CacheSize: -1})
	e.Warm()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e.Lookup(nums[i%len(nums)], "")
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
