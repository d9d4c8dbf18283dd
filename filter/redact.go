package filter

import "strings"

// Logs and gRPC error messages never carry a phone number: what phonegate
// writes about a request is its route, decision and the kinds of its
// problems, and a keyed hash in place of the number (hash.go). These guard the
// few places where text that may come from a request could reach a message.

// hasDigitRun reports whether s holds four or more digits in a row.
func hasDigitRun(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			if run++; run >= 4 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// redactDigits replaces every run of four or more digits (allowing the
// separators people write numbers with between them) by "#", for messages
// built by code that is not ours, such as a recovered panic's.
func redactDigits(s string) string {
	if !hasDigitRun(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' {
			return -1
		}
		return r
	}, s)) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		j, digits, end := i, 0, i // end: just past the run's last digit
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || digits > 0 && strings.IndexByte(" -.()", s[j]) >= 0) {
			if s[j] >= '0' && s[j] <= '9' {
				digits++
				end = j + 1
			}
			j++
		}
		if digits >= 4 {
			b.WriteByte('#')
			i = end
			continue
		}
		if j == i {
			j = i + 1
		}
		b.WriteString(s[i:j])
		i = j
	}
	return b.String()
}
