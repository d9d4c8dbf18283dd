package prefixdata

import "fmt"

// A table file maps prefixes of E.164 digits (as integers, the way
// libphonenumber's data keys them) to strings. All integers are
// little-endian; nothing is aligned.
//
//	header    "PGPD"
//	          uint32 number of values V
//	          uint32 bytes in the pool
//	          uint32 longest prefix, in digits
//	          uint32 count[0..9]: prefixes of each length (count[0] is 0)
//	offsets   (V+1) uint32: value i is pool[offset[i]:offset[i+1]]
//	pool      the values, sorted, back to back
//	per length 1..9, where count > 0:
//	          count uint32 prefixes, ascending
//	          count uint16 value indexes, in the same order
//
// A lookup reads the embedded string in place: nothing is decoded at start-up
// but the header.
const (
	magic     = "PGPD"
	maxDigits = 9 // prefixes are uint32: every 9-digit number fits
	headerLen = 4 + 4 + 4 + 4 + 4*(maxDigits+1)
)

// table is a view of one embedded table file.
type table struct {
	data    string
	values  int // number of values
	offsets int // where the value offsets start
	pool    int // where the pool starts
	maxLen  int // longest prefix, in digits
	keys    [maxDigits + 1]int
	vals    [maxDigits + 1]int
	count   [maxDigits + 1]int
}

// u32 reads a little-endian uint32 from s at i.
func u32(s string, i int) uint32 {
	_ = s[i+3]
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}

// u16 reads a little-endian uint16 from s at i.
func u16(s string, i int) int {
	_ = s[i+1]
	return int(s[i]) | int(s[i+1])<<8
}

// load checks the header of an embedded table and finds its sections. The
// files are generated and compiled in, so a bad one is a broken build: the
// package refuses to start with it.
func load(name, data string) table {
	t, err := parse(data)
	if err != nil {
		panic(fmt.Sprintf("prefixdata: embedded %s: %v (run go generate in insight/internal/prefixdata)", name, err))
	}
	return t
}

func parse(data string) (table, error) {
	t := table{data: data}
	if len(data) < headerLen || data[:4] != magic {
		return t, fmt.Errorf("no %q header", magic)
	}
	t.values = int(u32(data, 4))
	poolBytes := int(u32(data, 8))
	t.maxLen = int(u32(data, 12))
	if t.maxLen < 1 || t.maxLen > maxDigits {
		return t, fmt.Errorf("longest prefix %d digits, want 1 to %d", t.maxLen, maxDigits)
	}
	if t.values > 1<<16 {
		return t, fmt.Errorf("%d values, more than a uint16 indexes", t.values)
	}
	t.offsets = headerLen
	t.pool = t.offsets + 4*(t.values+1)
	at := t.pool + poolBytes
	if at > len(data) {
		return t, fmt.Errorf("%d bytes, the pool ends at %d", len(data), at)
	}
	if got := int(u32(data, t.pool-4)); got != poolBytes {
		return t, fmt.Errorf("the offsets end at %d, the pool has %d bytes", got, poolBytes)
	}
	for l := 1; l <= maxDigits; l++ {
		n := int(u32(data, 16+4*l))
		if n > 0 && l > t.maxLen {
			return t, fmt.Errorf("%d prefixes of %d digits, longest said to be %d", n, l, t.maxLen)
		}
		t.count[l], t.keys[l], t.vals[l] = n, at, at+4*n
		at += 6 * n
	}
	if at != len(data) {
		return t, fmt.Errorf("%d bytes, the sections end at %d", len(data), at)
	}
	return t, nil
}

// value is the string at index i of the pool.
func (t *table) value(i int) string {
	a, b := u32(t.data, t.offsets+4*i), u32(t.data, t.offsets+4*i+4)
	return t.data[t.pool+int(a) : t.pool+int(b)]
}

// find returns the value index of the prefix key of l digits.
func (t *table) find(l int, key uint32) (int, bool) {
	n := t.count[l]
	if n == 0 {
		return 0, false
	}
	base := t.keys[l]
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if u32(t.data, base+4*m) < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < n && u32(t.data, base+4*lo) == key {
		return u16(t.data, t.vals[l]+2*lo), true
	}
	return 0, false
}

// text is what a lookup reads digits from.
type text interface{ ~string | ~[]byte }

// result of a scan.
type result int

const (
	absent    result = iota // no prefix matched
	found                   // a prefix matched
	malformed               // libphonenumber's strconv.Atoi would have failed
)

// scan finds the longest prefix of s in t the way libphonenumber's lookups
// do: for i from min(window, len(s)) down to floor+1, strconv.Atoi(s[:i])
// (an optional sign, then decimal digits) is looked up as an integer key;
// the first failure to parse ends the search. Leading zeros therefore map
// "+0044" to 44, as the library does, and negative numbers match nothing.
// window is at most 10, so no integer can overflow.
func scan[S text](t *table, s S, window, floor int) (int, result) {
	m := min(window, len(s))
	if m <= floor {
		return 0, absent
	}
	start, neg := 0, false
	if s[0] == '+' || s[0] == '-' {
		start, neg = 1, s[0] == '-'
	}
	if m == start {
		return 0, malformed // Atoi of a lone sign
	}
	var v uint64
	for j := start; j < m; j++ {
		c := s[j] - '0'
		if c > 9 {
			return 0, malformed
		}
		v = v*10 + uint64(c)
	}
	// Every shorter prefix parses too, down to the lone sign (if any).
	for i := m; i > floor; i-- {
		if i == start {
			return 0, malformed
		}
		if !neg && v != 0 {
			if l := digitCount(v); l <= t.maxLen {
				if idx, ok := t.find(l, uint32(v)); ok {
					return idx, found
				}
			}
		}
		v /= 10
	}
	return 0, absent
}

// digitCount is the number of decimal digits of v > 0.
func digitCount(v uint64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}
