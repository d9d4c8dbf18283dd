package numplan

import (
	"errors"
	"fmt"
)

// numplan.bin is, with little-endian integers and nothing aligned:
//
//	"PGNP", uint16 number of calling codes, then for each in ascending order:
//	uint16 calling code, uint8 status
//	status 1 (refused): uint8 length, the reason
//	status 0 (compiled):
//	  uint8 regions, each uint8 length and the code (the library's order)
//	  18 bytes: IsPossibleNumberWithReason's verdict for each length 0..17
//	  uint16 states S (state 0 is dead), uint16 start state, uint16 accept sets A,
//	  uint8 format entries F
//	  S×10 uint16: the next state on each digit
//	  S uint16: each state's accept set
//	  A×16 results of 6 bytes, for national numbers of 2..17 digits:
//	    region index, number type, national format entry, international
//	    format entry, the geocoder's region index (0xFF: none), flags
//	  F entries: uint8 1 if compiled (0: no more bytes), uint8 pieces P,
//	    P×(uint8 length, uint8 group, uint8 variable), uint8 length T and
//	    the template, a byte below 0x20 naming a group
const (
	magic      = "PGNP"
	minNSN     = 2
	maxNSN     = 17
	lengths    = maxNSN - minNSN + 1
	none       = 0xFF
	resultSize = 6

	flagFallback = 1

	statusCompiled = 0
	statusRefused  = 1
)

// code is the compiled plan of one calling code: offsets into the data.
type code struct {
	cc       int
	refused  string
	regions  []string
	possible string // 18 verdicts
	start    int
	states   int
	next     int // offset of the transitions
	accept   int // offset of the accept sets of the states
	results  int // offset of the results
	entries  []entry
}

// entry is one compiled format.
type entry struct {
	ok       bool
	pieces   string // 3 bytes a piece
	template string
}

func u16(s string, i int) int { return int(s[i]) | int(s[i+1])<<8 }

// reader walks the file, failing on a cut.
type reader struct {
	s   string
	at  int
	err error
}

func (r *reader) take(n int) string {
	if r.err != nil {
		return ""
	}
	if n < 0 || r.at+n > len(r.s) {
		r.err = fmt.Errorf("cut at byte %d (want %d more of %d)", r.at, n, len(r.s))
		return ""
	}
	v := r.s[r.at : r.at+n]
	r.at += n
	return v
}

func (r *reader) u8() int {
	v := r.take(1)
	if v == "" {
		return 0
	}
	return int(v[0])
}

func (r *reader) u16() int {
	v := r.take(2)
	if v == "" {
		return 0
	}
	return u16(v, 0)
}

// parse reads the file into its codes, checking every offset it will read.
func parse(data string) (map[int]*code, error) {
	r := &reader{s: data}
	if r.take(4) != magic {
		return nil, fmt.Errorf("no %q header", magic)
	}
	n := r.u16()
	codes := make(map[int]*code, n)
	prev := 0
	for range n {
		c := &code{cc: r.u16()}
		if r.err == nil && (c.cc <= prev || c.cc > 999) {
			return nil, fmt.Errorf("calling code %d after %d", c.cc, prev)
		}
		prev = c.cc
		switch r.u8() {
		case statusRefused:
			c.refused = r.take(r.u8())
		case statusCompiled:
			for range r.u8() {
				c.regions = append(c.regions, r.take(r.u8()))
			}
			c.possible = r.take(maxNSN + 1)
			c.states = r.u16()
			c.start = r.u16()
			accepts := r.u16()
			nEntries := r.u8()
			c.next = r.at
			r.take(c.states * 20)
			c.accept = r.at
			acc := r.take(c.states * 2)
			c.results = r.at
			res := r.take(accepts * lengths * resultSize)
			if r.err != nil {
				break
			}
			if c.states == 0 || c.start >= c.states || len(c.regions) == 0 {
				return nil, fmt.Errorf("+%d: %d states, start %d, %d regions", c.cc, c.states, c.start, len(c.regions))
			}
			for i := range c.states * 10 {
				if u16(data, c.next+2*i) >= c.states {
					return nil, fmt.Errorf("+%d: a transition out of range", c.cc)
				}
			}
			for i := range c.states {
				if u16(acc, 2*i) >= accepts {
					return nil, fmt.Errorf("+%d: an accept set out of range", c.cc)
				}
			}
			for i := 0; i < len(res); i += resultSize {
				if (res[i] != none && int(res[i]) >= len(c.regions)) || (res[i+4] != none && int(res[i+4]) >= len(c.regions)) ||
					(res[i+2] != none && int(res[i+2]) >= nEntries) || (res[i+3] != none && int(res[i+3]) >= nEntries) {
					return nil, fmt.Errorf("+%d: a result out of range", c.cc)
				}
			}
			for range nEntries {
				var e entry
				if e.ok = r.u8() == 1; e.ok {
					e.pieces = r.take(3 * r.u8())
					e.template = r.take(r.u8())
				}
				c.entries = append(c.entries, e)
			}
		default:
			if r.err == nil {
				return nil, fmt.Errorf("+%d: unknown status", c.cc)
			}
		}
		if r.err != nil {
			return nil, r.err
		}
		codes[c.cc] = c
	}
	if r.err == nil && r.at != len(data) {
		return nil, errors.New("bytes after the last calling code")
	}
	return codes, r.err
}
