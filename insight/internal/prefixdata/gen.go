//go:build ignore

// gen.go writes carrier_en.bin, geocoding_en.bin and timezones.bin from the
// carrier, geocoding and time-zone data of the nyaruka/phonenumbers module
// go.mod pins, and regions_en.bin, the English region names its geocoder
// falls back to (run by go generate in this directory, or with -out DIR).
//
// nyaruka's files are gzipped: a little-endian uint32 size, a newline-separated
// pool of strings, a uint32 count, then count entries of (uvarint delta from
// the previous prefix, value). A carrier or geocoding value is a uint16 index
// into the pool; a time-zone value is a uint8 count of uint16 indexes. Only the
// English carrier and geocoding files are read: phonegate asks for "en" alone.
//
// What is written is described in format.go. Prefixes are the integers nyaruka
// keys its maps by; a prefix the library can never reach (more digits than
// its lookup tries) is left out and counted on stderr.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers/v2"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Keep in step with format.go.
const (
	magic     = "PGPD"
	maxDigits = 9 // keys are uint32: 10^9-1 fits, 10^10-1 does not
	headerLen = 4 + 4 + 4 + 4 + 4*(maxDigits+1)
)

// Carrier and geocoding lookups try at most 9 digits: nyaruka's prefixmapper
// is called with a maximum length of 10 characters of the E.164 string, its
// "+" included.
const mapperDigits = 9

// entry is one prefix and its value.
type entry struct {
	prefix int
	value  string
}

func main() {
	out := flag.String("out", ".", "directory to write the tables to")
	flag.Parse()
	dir, err := moduleDir()
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range []struct{ src, dst string }{
		{"carrier/data/en.txt.gz", "carrier_en.bin"},
		{"geocoding/data/en.txt.gz", "geocoding_en.bin"},
	} {
		entries, err := readStrings(filepath.Join(dir, t.src))
		if err != nil {
			log.Fatal(err)
		}
		reachable := entries[:0]
		for _, e := range entries {
			if digitCount(e.prefix) <= mapperDigits {
				reachable = append(reachable, e)
			}
		}
		if n := len(entries) - len(reachable); n > 0 {
			fmt.Fprintf(os.Stderr, "%s: %d prefixes longer than %d digits left out (nyaruka never reaches them)\n", t.src, n, mapperDigits)
		}
		if err := write(filepath.Join(*out, t.dst), reachable); err != nil {
			log.Fatalf("%s: %v", t.src, err)
		}
	}
	const tz = "timezone/data/prefix_to_timezone.xml.gz"
	entries, err := readZoneLists(filepath.Join(dir, tz))
	if err != nil {
		log.Fatal(err)
	}
	if err := write(filepath.Join(*out, "timezones.bin"), entries); err != nil {
		log.Fatalf("%s: %v", tz, err)
	}
	if err := write(filepath.Join(*out, "regions_en.bin"), regionNames()); err != nil {
		log.Fatalf("region names: %v", err)
	}
}

// regionNames are the English names nyaruka's geocoder gives the regions it
// supports (golang.org/x/text's, which allocates a string per call), keyed
// by the two letters of the code as a big-endian uint16 ("GB" is 'G'<<8|'B').
func regionNames() []entry {
	namer := display.Regions(language.English)
	var out []entry
	for code := range phonenumbers.GetSupportedRegions() {
		if len(code) != 2 {
			log.Fatalf("region %q: not two letters", code)
		}
		name := ""
		if r, err := language.ParseRegion(code); err == nil {
			name = namer.Name(r)
		}
		out = append(out, entry{int(code[0])<<8 | int(code[1]), name})
	}
	return out
}

// moduleDir is where the go command keeps the nyaruka/phonenumbers version
// go.mod requires.
func moduleDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/nyaruka/phonenumbers/v2").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m github.com/nyaruka/phonenumbers/v2: %w", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", errors.New("go list -m github.com/nyaruka/phonenumbers/v2: no module directory (run go mod download)")
	}
	return dir, nil
}

// source is one of nyaruka's decompressed files being read.
type source struct {
	name string
	r    *bytes.Reader
	pool []string
}

func open(path string) (*source, uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	s := &source{name: path, r: bytes.NewReader(raw)}
	size, err := s.u32()
	if err != nil {
		return nil, 0, err
	}
	if int64(size) > int64(s.r.Len()) {
		return nil, 0, fmt.Errorf("%s: pool of %d bytes, %d left", path, size, s.r.Len())
	}
	pool := make([]byte, size)
	if _, err := io.ReadFull(s.r, pool); err != nil {
		return nil, 0, fmt.Errorf("%s: pool: %w", path, err)
	}
	s.pool = strings.Split(string(pool), "\n")
	count, err := s.u32()
	return s, count, err
}

func (s *source) u32() (uint32, error) {
	var v uint32
	if err := binary.Read(s.r, binary.LittleEndian, &v); err != nil {
		return 0, fmt.Errorf("%s at byte %d: %w", s.name, s.offset(), err)
	}
	return v, nil
}

func (s *source) offset() int64 { return s.r.Size() - int64(s.r.Len()) }

// next reads the delta to the next prefix.
func (s *source) next(prefix int) (int, error) {
	d, err := binary.ReadUvarint(s.r)
	if err != nil {
		return 0, fmt.Errorf("%s at byte %d: prefix delta: %w", s.name, s.offset(), err)
	}
	if d == 0 && prefix != 0 {
		return 0, fmt.Errorf("%s at byte %d: prefix %d twice", s.name, s.offset(), prefix)
	}
	return prefix + int(d), nil
}

// value reads one uint16 index into the pool.
func (s *source) value() (string, error) {
	var i uint16
	if err := binary.Read(s.r, binary.LittleEndian, &i); err != nil {
		return "", fmt.Errorf("%s at byte %d: value: %w", s.name, s.offset(), err)
	}
	if int(i) >= len(s.pool) {
		return "", fmt.Errorf("%s at byte %d: value %d of a pool of %d", s.name, s.offset(), i, len(s.pool))
	}
	return s.pool[i], nil
}

func (s *source) end() error {
	if s.r.Len() != 0 {
		return fmt.Errorf("%s: %d bytes after the last entry", s.name, s.r.Len())
	}
	return nil
}

// readStrings reads a carrier or geocoding file.
func readStrings(path string) ([]entry, error) {
	s, count, err := open(path)
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, count)
	prefix := 0
	for range count {
		if prefix, err = s.next(prefix); err != nil {
			return nil, err
		}
		v, err := s.value()
		if err != nil {
			return nil, err
		}
		out = append(out, entry{prefix, v})
	}
	return out, s.end()
}

// readZoneLists reads the time-zone file; a list is written joined by "&",
// as libphonenumber's own text source has it.
func readZoneLists(path string) ([]entry, error) {
	s, count, err := open(path)
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, count)
	prefix := 0
	for range count {
		if prefix, err = s.next(prefix); err != nil {
			return nil, err
		}
		n, err := s.r.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("%s at byte %d: zone count: %w", path, s.offset(), err)
		}
		zones := make([]string, n)
		for i := range zones {
			if zones[i], err = s.value(); err != nil {
				return nil, err
			}
			if zones[i] == "" || strings.Contains(zones[i], "&") {
				return nil, fmt.Errorf("%s: prefix %d: time zone %q cannot be listed with &", path, prefix, zones[i])
			}
		}
		out = append(out, entry{prefix, strings.Join(zones, "&")})
	}
	return out, s.end()
}

func digitCount(n int) int { return len(strconv.Itoa(n)) }

// write writes one table (format.go describes the layout).
func write(path string, entries []entry) error {
	var byLen [maxDigits + 1][]entry
	values := map[string]int{}
	maxLen := 0
	for _, e := range entries {
		n := digitCount(e.prefix)
		if e.prefix <= 0 || n > maxDigits {
			return fmt.Errorf("prefix %d: a table holds prefixes of 1 to %d digits", e.prefix, maxDigits)
		}
		byLen[n] = append(byLen[n], e)
		values[e.value] = 0
		maxLen = max(maxLen, n)
	}
	pool := make([]string, 0, len(values))
	for v := range values {
		pool = append(pool, v)
	}
	slices.Sort(pool)
	if len(pool) > 1<<16 {
		return fmt.Errorf("%d distinct values, more than a uint16 indexes", len(pool))
	}
	for i, v := range pool {
		values[v] = i
	}

	var b []byte
	b = append(b, magic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(pool)))
	poolBytes := 0
	for _, v := range pool {
		poolBytes += len(v)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(poolBytes))
	b = binary.LittleEndian.AppendUint32(b, uint32(maxLen))
	for _, l := range byLen {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(l)))
	}
	if len(b) != headerLen {
		panic("header length")
	}
	off := 0
	for _, v := range pool {
		b = binary.LittleEndian.AppendUint32(b, uint32(off))
		off += len(v)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(off))
	for _, v := range pool {
		b = append(b, v...)
	}
	for _, l := range byLen {
		slices.SortFunc(l, func(x, y entry) int { return x.prefix - y.prefix })
		for _, e := range l {
			b = binary.LittleEndian.AppendUint32(b, uint32(e.prefix))
		}
		for _, e := range l {
			b = binary.LittleEndian.AppendUint16(b, uint16(values[e.value]))
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %d prefixes, %d values, %d bytes\n", path, len(entries), len(pool), len(b))
	return nil
}
