// Package prefixdata answers libphonenumber's carrier, geocoding and time-zone
// questions from tables compiled into the binary, giving exactly what
// nyaruka/phonenumbers' carrier, geocoding and timezone packages give for
// English, without their start-up cost.
//
// # Why
//
// nyaruka's packages decompress and decode their data into Go maps on first
// use: the English geocoding map alone took 77–102 ms and about 15 MB of
// pointer-rich heap, the bulk of phonegate's start-up and resident memory.
// Here the same data is generated at build time (gen.go, run by go generate)
// into sorted arrays of integer prefixes, one array per prefix length, with
// uint16 indexes into one pool of strings, and embedded as strings (see
// format.go). A lookup is a binary search per prefix length, longest first,
// reading the embedded bytes in place: no decoding at start-up beyond a
// header, no allocation per lookup, nothing for the garbage collector to
// scan. The only thing built at start-up is the 315 distinct time-zone lists
// as shared []string, so a lookup can return one without allocating. The
// geocoding table's header is read on first use: reading it maps about 2 MB
// of the binary, which a process that never geocodes need not carry. The
// English region names the geocoder falls back to are a fourth table, since
// golang.org/x/text allocates a string for each name it renders.
//
// # Same answers
//
// Each function names the nyaruka function it stands for and follows it to
// the letter, quirks included: carrier and geocoding lookups read at most 9
// digits after the "+" (the library's maximum length of 10 counts the "+");
// time zones read up to the longest prefix in the data; prefixes are
// compared as integers the way the library's maps key them; a mobile token
// (Argentina's 9) is removed before geocoding; the geocoder falls back to the
// country's English name (golang.org/x/text's, as the library's) and names
// no country for a number valid in several regions of a shared code.
// Tests hold every answer to the library's on every example number and on
// hundreds of thousands of variants, and a fuzz target on arbitrary input;
// another test regenerates the tables and requires the committed bytes.
//
// Only English is kept: phonegate asks for nothing else.
//
// # Following a new libphonenumber release
//
// After upgrading github.com/nyaruka/phonenumbers/v2 in go.mod, run
// go generate ./insight/internal/prefixdata and commit the three .bin files;
// TestTablesRegenerate fails until then.
package prefixdata
