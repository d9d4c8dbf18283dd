package insight

// fictitious finds the reserved range a number is in: NANP 555-0100..0199 in
// a geographic area code (recognised here, as it is no prefix), or a prefix
// of the fictitious table (Ofcom drama numbers, ACMA fictitious numbers, ...).
func fictitious(t *tables, in *Insight) (PrefixEntry, bool) {
	e := in.E164
	// +1 NPA 555 01XX: "+1" and ten digits, the exchange 555, the line 0100-0199.
	if len(e) == 12 && e[:2] == "+1" && e[5:8] == "555" && e[8:10] == "01" && nanpGeographicNPA(e[2:5]) {
		return PrefixEntry{Prefix: e[:10], Source: "NANPA: 555-0100 to 555-0199 are reserved for fictional use in geographic area codes"}, true
	}
	if e == "" {
		return PrefixEntry{}, false
	}
	return longestPrefix(t.fictitious, e)
}

// nanpGeographicNPA reports whether a NANP area code serves a place. The
// 555-01XX reservation is a rule of geographic area codes: toll-free codes
// (800, 833, ... 888) are assigned through the toll-free registry, where an
// 8XX-555-01XX number is an ordinary, possibly real, number; likewise the
// other non-geographic codes NANPA lists (500-series personal communications,
// 600, 622, 700, 710, 900) and the N11 service codes.
func nanpGeographicNPA(npa string) bool {
	if len(npa) != 3 || npa[0] < '2' || npa[0] > '9' {
		return false
	}
	if npa[1] == '1' && npa[2] == '1' { // N11
		return false
	}
	switch npa {
	case "500", "521", "522", "523", "524", "525", "526", "527", "528", "529",
		"533", "544", "566", "577", "588", // personal communications
		"600", "622", "700", "710", "900",
		"800", "822", "833", "844", "855", "866", "877", "888": // toll-free
		return false
	}
	return true
}
