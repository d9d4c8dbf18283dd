package prefixdata

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/nyaruka/phonenumbers/v2/carrier"
	"github.com/nyaruka/phonenumbers/v2/geocoding"
	"github.com/nyaruka/phonenumbers/v2/timezone"
)

// loadChildEnv makes the test binary measure nyaruka's first lookups in a
// fresh process (see TestMain) instead of running tests.
const loadChildEnv = "PREFIXDATA_LOAD_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(loadChildEnv) != "" {
		ns, heap := loadNyaruka()
		fmt.Println(ns, heap)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// loadNyaruka is the time and the heap kept of nyaruka's first carrier,
// geocoding and time-zone lookups in a process: what decoding their English
// data costs. The metadata is loaded before, by parsing the number.
func loadNyaruka() (ns int64, heap uint64) {
	num, err := phonenumbers.Parse("+442079460000", "")
	if err != nil {
		panic(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	carrier.GetNameForValidNumber(num, "en")
	geocoding.GetDescriptionForValidNumber(num, "en")
	timezone.GetTimeZonesForGeographicalNumber(num)
	ns = time.Since(start).Nanoseconds()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return ns, after.HeapAlloc - before.HeapAlloc
}

// BenchmarkLoad is the start-up cost of the data: what this package does at
// init (read four headers, split the time-zone lists), against nyaruka's
// first lookups in a fresh process each (heap-B: the Go heap kept).
func BenchmarkLoad(b *testing.B) {
	b.Run("prefixdata", func(b *testing.B) {
		// ns/op includes two garbage collections; load-ns is the loading.
		var heap uint64
		var total time.Duration
		b.ReportAllocs()
		for b.Loop() {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			var tables [4]table
			for i, data := range []string{carrierData, geocodingData, timezoneData, regionData} {
				tables[i] = load("table", data)
			}
			lists := splitZoneLists(&tables[2])
			total += time.Since(start)
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap = after.HeapAlloc - before.HeapAlloc
			runtime.KeepAlive(lists)
		}
		b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "load-ns")
		b.ReportMetric(float64(heap), "heap-B")
	})
	b.Run("nyaruka", func(b *testing.B) {
		var total, heap float64
		// ns/op is a whole process; load-ns is the loading inside it.
		for b.Loop() {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), loadChildEnv+"=1")
			out, err := cmd.Output()
			if err != nil {
				b.Fatalf("child: %v", err)
			}
			var ns int64
			var h uint64
			if _, err := fmt.Sscan(string(out), &ns, &h); err != nil {
				b.Fatalf("child said %q: %v", out, err)
			}
			total += float64(ns)
			heap = float64(h)
		}
		b.ReportMetric(total/float64(b.N), "load-ns")
		b.ReportMetric(heap, "heap-B")
	})
}

// benchNumbers are the example fixed-line and mobile numbers of every
// region, only the geographic ones when geographicOnly is set.
func benchNumbers(b *testing.B, geographicOnly bool) []*phonenumbers.PhoneNumber {
	b.Helper()
	var out []*phonenumbers.PhoneNumber
	for _, n := range examples() {
		typ := phonenumbers.GetNumberType(n)
		if typ != phonenumbers.FIXED_LINE && typ != phonenumbers.MOBILE && typ != phonenumbers.FIXED_LINE_OR_MOBILE {
			continue
		}
		if geographicOnly && !phonenumbers.IsNumberGeographicalForType(typ, int(n.GetCountryCode())) {
			continue
		}
		out = append(out, n)
	}
	// Warm nyaruka's maps: the benchmarks compare lookups, not loading.
	carrier.GetNameForValidNumber(out[0], "en")
	geocoding.GetDescriptionForValidNumber(out[0], "en")
	timezone.GetTimeZonesForGeographicalNumber(out[0])
	return out
}

func benchPair(b *testing.B, geographicOnly bool, ours, theirs func(*phonenumbers.PhoneNumber)) {
	nums := benchNumbers(b, geographicOnly)
	for _, c := range []struct {
		name string
		f    func(*phonenumbers.PhoneNumber)
	}{{"prefixdata", ours}, {"nyaruka", theirs}} {
		f := c.f
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				f(nums[i%len(nums)])
			}
		})
	}
}

// BenchmarkCarrier: the carrier of the example mobile and fixed-line number
// of every region in turn.
func BenchmarkCarrier(b *testing.B) {
	benchPair(b, false,
		func(n *phonenumbers.PhoneNumber) { CarrierForValidNumber(n) },
		func(n *phonenumbers.PhoneNumber) { carrier.GetNameForValidNumber(n, "en") })
}

// BenchmarkDescription: the description of every region's geographic
// example numbers (the engine asks only for these), country fallback included.
func BenchmarkDescription(b *testing.B) {
	benchPair(b, true,
		func(n *phonenumbers.PhoneNumber) { DescriptionForValidNumber(n) },
		func(n *phonenumbers.PhoneNumber) { geocoding.GetDescriptionForValidNumber(n, "en") })
}

// BenchmarkTimeZones: the time zones of every region's geographic example
// numbers.
func BenchmarkTimeZones(b *testing.B) {
	benchPair(b, true,
		func(n *phonenumbers.PhoneNumber) { TimeZonesForGeographicalNumber(n) },
		func(n *phonenumbers.PhoneNumber) { timezone.GetTimeZonesForGeographicalNumber(n) })
}

// BenchmarkArea is the table lookup alone, on E.164 strings (no number to
// format, no country fallback).
func BenchmarkArea(b *testing.B) {
	var e164s []string
	for _, n := range benchNumbers(b, true) {
		e164s = append(e164s, phonenumbers.Format(n, phonenumbers.E164))
	}
	slices.Sort(e164s)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Area(e164s[i%len(e164s)])
	}
}
