package insight

// fictitious finds the reserved range a number is in: NANP 555-0100..0199 in
// every area code (recognised here, as it is no prefix), or a prefix of the
// fictitious table (Ofcom drama numbers, ACMA fictitious numbers, ...).
func fictitious(t *tables, in *Insight) (PrefixEntry, bool) {
	e := in.E164
	// +1 NPA 555 01XX: "+1" and ten digits, the exchange 555, the line 0100-0199.
	if len(e) == 12 && e[:2] == "+1" && e[5:8] == "555" && e[8:10] == "01" {
		return PrefixEntry{Prefix: e[:10], Source: "NANPA: 555-0100 to 555-0199 are reserved for fictional use in every area code"}, true
	}
	if e == "" {
		return PrefixEntry{}, false
	}
	return longestPrefix(t.fictitious, e)
}
