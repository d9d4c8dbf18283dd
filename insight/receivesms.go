package insight

import (
	"bufio"
	"bytes"
	"cmp"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultReceiveSMSMaxAge is how long after a number was last seen on a
// receive-SMS website it still counts as disposable, measured back from the
// list's newest date (never from the clock). Older sightings only cap the
// label at uncertain: operators recycle numbers, and an old listing may now
// be someone's phone. A policy's `data: receive_sms: max_age` changes it.
const DefaultReceiveSMSMaxAge = 365 * 24 * time.Hour

// receiveSMSSource names the embedded list of numbers seen on public
// receive-SMS websites (data/receive_sms_numbers.bin and
// data/receive_sms_ranges.txt, written by data/receivesms/gen.go).
const receiveSMSSource = "seen on public receive-SMS websites (iP.1 disposable-phone-numbers list)"

// receiveSMSList is the embedded list: whole numbers and the 1,000-number
// blocks where they cluster, each with the day last seen. The numbers are
// read in place from the embedded binary (10 bytes a number, searched in
// O(log n)): nothing is parsed or copied at start-up.
type receiveSMSList struct {
	version string // of the upstream list, from the files' header
	newest  uint16 // the newest day in the list: "now" for max_age

	n    int
	nums []byte // n little-endian uint64: E.164 digits as an integer, ascending
	days []byte // n little-endian uint16: days from 2000-01-01 to the day last seen

	ranges map[string]receiveSMSRange // E.164 digits (no +) less the last rangeDigits
}

//go:embed data/receive_sms_numbers.bin
var receiveSMSBin []byte

func (l *receiveSMSList) num(i int) uint64 { return binary.LittleEndian.Uint64(l.nums[8*i:]) }
func (l *receiveSMSList) day(i int) uint16 { return binary.LittleEndian.Uint16(l.days[2*i:]) }

// receiveSMSRange is a block of 1,000 numbers where listed numbers cluster.
type receiveSMSRange struct {
	day          uint16
	seen, recent int // numbers listed; of them, seen in the year to the newest date
}

// rangeDigits is how many last digits a receive-SMS range leaves out.
const rangeDigits = 3

// receiveSMSMatch is a number found in the list, by itself or by its range.
type receiveSMSMatch struct {
	prefix   string // the number's E.164, or its range's prefix
	day      uint16
	evidence string // for a range: its density
}

func (m receiveSMSMatch) lastSeen() string { return dayString(m.day) }

var epoch2000 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func dayString(d uint16) string { return epoch2000.AddDate(0, 0, int(d)).Format(time.DateOnly) }

// receiveSMS is the embedded list, opened once.
var receiveSMS = sync.OnceValue(func() *receiveSMSList {
	l, err := openReceiveSMS(receiveSMSBin, "receive_sms_ranges.txt")
	if err != nil {
		panic("insight: embedded data: " + err.Error()) // the tests open it; a bad build only
	}
	return l
})

// openReceiveSMS reads the binary's header (see data/receivesms/gen.go) and
// the ranges file.
func openReceiveSMS(bin []byte, rangesFile string) (*receiveSMSList, error) {
	const magic = "PGRSMS1\n"
	bad := errors.New("receive_sms_numbers.bin: damaged: regenerate it")
	if len(bin) < len(magic)+1 || string(bin[:len(magic)]) != magic {
		return nil, bad
	}
	rest := bin[len(magic):]
	vlen := int(rest[0])
	if len(rest) < 1+vlen+6 {
		return nil, bad
	}
	l := &receiveSMSList{version: string(rest[1 : 1+vlen]), ranges: map[string]receiveSMSRange{}}
	rest = rest[1+vlen:]
	l.n = int(binary.LittleEndian.Uint32(rest))
	l.newest = binary.LittleEndian.Uint16(rest[4:])
	rest = rest[6:]
	if len(rest) != 10*l.n {
		return nil, bad
	}
	l.nums, l.days = rest[:8*l.n], rest[8*l.n:]

	b, err := embedded.ReadFile("data/" + rangesFile)
	if err != nil {
		return nil, err
	}
	if v := headerVersion(b); v != l.version {
		return nil, fmt.Errorf("%s is from version %q of the list, receive_sms_numbers.bin from %q: regenerate both", rangesFile, v, l.version)
	}
	err = eachRow(rangesFile, b, func(f [][]byte) error {
		if len(f) != 4 {
			return fmt.Errorf("want a prefix, a date and two counts")
		}
		_, okP := atou(f[0])
		d, err := parseDay(f[1])
		seen, okS := atou(f[2])
		recent, okR := atou(f[3])
		if !okP || err != nil || !okS || !okR {
			return fmt.Errorf("want a prefix, a date and two counts")
		}
		l.ranges[string(f[0])] = receiveSMSRange{day: d, seen: int(seen), recent: int(recent)}
		return nil
	})
	return l, err
}

// eachRow calls row with the space-separated fields of each line that is not
// a comment. No string a line: a hundred thousand are read at start-up.
func eachRow(name string, b []byte, row func([][]byte) error) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	fields := make([][]byte, 0, 4)
	for line := 1; sc.Scan(); line++ {
		text := sc.Bytes()
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		fields = fields[:0]
		for f := range bytes.FieldsSeq(text) {
			fields = append(fields, f)
		}
		if len(fields) < 2 {
			return fmt.Errorf("%s:%d: want at least two fields", name, line)
		}
		if err := row(fields); err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	return sc.Err()
}

// headerVersion finds "version X" in a generated file's header.
func headerVersion(b []byte) string {
	_, after, ok := bytes.Cut(b, []byte("disposable-phone-numbers version "))
	if !ok {
		return ""
	}
	v, _, _ := bytes.Cut(after, []byte(" "))
	return string(v)
}

// lookup finds a number (its E.164 form) in the list, or the range it is in.
func (l *receiveSMSList) lookup(e164 string) (receiveSMSMatch, bool) {
	digits := strings.TrimPrefix(e164, "+")
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || len(digits) != len(e164)-1 {
		return receiveSMSMatch{}, false
	}
	if i, found := sort.Find(l.n, func(i int) int { return cmp.Compare(n, l.num(i)) }); found {
		return receiveSMSMatch{prefix: e164, day: l.day(i)}, true
	}
	if len(digits) > rangeDigits {
		if r, ok := l.ranges[digits[:len(digits)-rangeDigits]]; ok {
			return receiveSMSMatch{
				prefix: e164[:len(e164)-rangeDigits], day: r.day,
				evidence: fmt.Sprintf("%d of the 1,000 numbers of its range listed, %d of them in the year to %s", r.seen, r.recent, dayString(l.newest)),
			}, true
		}
	}
	return receiveSMSMatch{}, false
}

// fresh reports whether a sighting on day is within maxAge of the list's
// newest date.
func (l *receiveSMSList) fresh(day uint16, maxAge time.Duration) bool {
	return int(l.newest)-int(day) <= int(maxAge/(24*time.Hour))
}

// parseDay reads YYYY-MM-DD as days since 2000-01-01.
func parseDay(b []byte) (uint16, error) {
	t, err := parseDate(b)
	if err != nil {
		return 0, err
	}
	days := t.Sub(epoch2000).Hours() / 24
	if days < 0 || days > 65535 {
		return 0, fmt.Errorf("date %q: out of range", b)
	}
	return uint16(days), nil
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
