// Package numplan answers libphonenumber's questions about a number written
// in international form ("+44 7400 123456") from tables compiled into the
// binary: the calling code, the national number, whether its length is
// possible, its type, its region, and its E.164, international and national
// formats, exactly as nyaruka/phonenumbers' Parse, IsPossibleNumberWithReason,
// GetNumberType, GetRegionCodeForNumber and Format answer, without running a
// regular expression; and the same for a number in national form with a
// region hint, running only the region's national-prefix, general and
// international-prefix patterns (see below).
//
// # Why
//
// Those calls were most of the cost of scoring a number phonegate has not
// seen: libphonenumber tests a number against its metadata's regular
// expressions one after another (backtracking and caching pattern strings
// on every test). But the metadata of a calling code is a finite set of
// regular languages over digits, so it compiles to one DFA: reading the
// national number's digits once tells which patterns match. gen.go (run by
// go generate) builds it ahead of time with regexp/syntax, the parser the
// regexp package nyaruka uses is built on, and writes numplan.bin (see
// format.go), read in place: nothing is built at start-up but an index.
//
// # Same answers, or none
//
// [Parse] answers only input of the form "+", digits, and the separators
// space - . ( ) /; anything else (national numbers, letters, extensions,
// "tel:", "00") is left to nyaruka, as are parse errors, a national prefix
// written after the calling code (+44 0...), a national number with several
// leading zeros, the calling codes gen.go refused (it refuses what it cannot
// compile exactly: today only +54, whose geocoding re-parses mobile numbers
// without their token 9) and formats whose groups it cannot cut by length
// alone. Tests hold every answer to nyaruka's over every example number
// and hundreds of thousands of variants, and a fuzz target on arbitrary
// input; another regenerates the table and requires the committed bytes.
//
// # Numbers in national form
//
// [ParseNational] answers a number written in national form with a region
// hint ("07400 123456", GB): it strips the national prefix for parsing as
// maybeStripNationalPrefixAndCarrierCode and parseHelper do (its pattern
// and the region's general pattern compiled from the same strings and
// tested by the same regexp package, a plain "0" compared directly; the
// region's possible lengths), then answers as Parse does for the calling
// code. A carrier code the prefix captures (AU 1831...) changes nothing
// Parse returns. In the regions with a transform rule (BR, MX, the NANP
// islands, GG, JE, IM...: the number is rewritten) a number the prefix
// pattern matches is left to nyaruka, as are digits starting with the
// region's international prefix or its calling code (nyaruka may read
// those as international), regions of a refused calling code (AR) and
// every case Parse leaves to it.
//
// # Following a new libphonenumber release
//
// After upgrading github.com/nyaruka/phonenumbers/v2 in go.mod, run
// go generate ./insight/internal/numplan and commit numplan.bin;
// TestTableRegenerates fails until then.
package numplan
