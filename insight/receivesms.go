package insight

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// receiveSMSSource names the embedded list of numbers seen on public
// receive-SMS websites (data/receive_sms_numbers.txt).
const receiveSMSSource = "seen on public receive-SMS websites (iP.1 disposable-phone-numbers list)"

// numberSet is a sorted list of full numbers with the date each was first
// listed: 10 bytes a number, searched in O(log n).
type numberSet struct {
	nums []uint64 // E.164 digits as an integer, ascending
	days []uint16 // days from 2000-01-01 to the date first listed
}

var epoch2000 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// receiveSMSNumbers is the embedded list, parsed once.
var receiveSMSNumbers = sync.OnceValue(func() *numberSet {
	s, err := parseNumberSet("receive_sms_numbers.txt")
	if err != nil {
		panic("insight: embedded data: " + err.Error()) // the tests parse it; a bad build only
	}
	return s
})

func parseNumberSet(name string) (*numberSet, error) {
	b, err := embedded.ReadFile("data/" + name)
	if err != nil {
		return nil, err
	}
	lines := bytes.Count(b, []byte{'\n'})
	s := &numberSet{nums: make([]uint64, 0, lines), days: make([]uint16, 0, lines)}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		text := sc.Bytes() // no string a line: a hundred thousand are read at start-up
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		digits, date, ok := bytes.Cut(text, []byte{' '})
		n, okN := atou(digits)
		d, err := parseDate(date)
		if !ok || !okN || err != nil {
			return nil, fmt.Errorf("%s:%d: want E.164 digits, a space and a YYYY-MM-DD date", name, line)
		}
		if len(s.nums) > 0 && n <= s.nums[len(s.nums)-1] {
			return nil, fmt.Errorf("%s:%d: not in ascending order", name, line)
		}
		s.nums = append(s.nums, n)
		s.days = append(s.days, uint16(d.Sub(epoch2000).Hours()/24))
	}
	return s, sc.Err()
}

// lookup finds a number (its E.164 form) and the date it was first listed.
func (s *numberSet) lookup(e164 string) (listed string, ok bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(e164, "+"), 10, 64)
	if err != nil {
		return "", false
	}
	i, found := slices.BinarySearch(s.nums, n)
	if !found {
		return "", false
	}
	return epoch2000.AddDate(0, 0, int(s.days[i])).Format(time.DateOnly), true
}

// parseDate reads YYYY-MM-DD.
func parseDate(b []byte) (time.Time, error) {
	y, ok1 := atou(b[:min(4, len(b))])
	if len(b) != 10 || b[4] != '-' || b[7] != '-' || !ok1 {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD", b)
	}
	m, ok2 := atou(b[5:7])
	d, ok3 := atou(b[8:])
	if !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD", b)
	}
	return time.Date(int(y), time.Month(m), int(d), 0, 0, 0, 0, time.UTC), nil
}

// atou reads up to 19 decimal digits.
func atou(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
