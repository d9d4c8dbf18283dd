package insight

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// trackTwoPasses is track as it was before it was made one pass: find the
// slot (the number's, else the least recently seen), mark it, then count
// the set within the window. It is the oracle track is held to.
func trackTwoPasses(set []tracked, h, sec, window uint32) int {
	sec = max(sec, 1)
	oldest := 0
	placed := false
	for i := range set {
		if set[i].last != 0 && set[i].hash == h {
			set[i].last, placed = max(set[i].last, sec), true
			break
		}
		if set[i].last < set[oldest].last {
			oldest = i
		}
	}
	if !placed {
		set[oldest] = tracked{hash: h, last: sec}
	}
	n := 0
	for _, t := range set {
		if t.last != 0 && int64(sec)-int64(t.last) < int64(window) {
			n++
		}
	}
	return n
}

// TestTrackAgreesWithTwoPasses: on random sets (of the sizes Observe uses,
// hashes from a small pool so that they repeat, empty slots, times before
// and after the ones held, as checks racing with an older clock reading
// give, and second 0), track counts and leaves the set as the two-pass
// version did, for every window Observe can pass (at least a second).
func TestTrackAgreesWithTwoPasses(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 4))
	for i := range 200000 {
		size := []int{1, 2, MaxTrackedAddresses, MaxTrackedNumbers}[r.IntN(4)]
		set := make([]tracked, size)
		base := uint32(r.IntN(5000))
		for j := range set {
			if r.IntN(4) != 0 {
				set[j] = tracked{hash: uint32(r.IntN(8)), last: base + uint32(r.IntN(1200))}
			}
		}
		h := uint32(r.IntN(8))
		sec := base + uint32(r.IntN(1400))
		if r.IntN(50) == 0 {
			sec = 0
		}
		window := []uint32{1, 2, 60, 600, 1 << 31, 1<<32 - 1}[r.IntN(6)]
		want := slices.Clone(set)
		n, m := track(set, h, sec, window), trackTwoPasses(want, h, sec, window)
		if n != m || !slices.Equal(set, want) {
			t.Fatalf("case %d: track(h %d, sec %d, window %d) = %d leaving %v; two passes %d leaving %v", i, h, sec, window, n, set, m, want)
		}
	}
}
