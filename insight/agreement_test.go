package insight

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// agreementFixture holds Google libphonenumber's verdicts, written by
// testdata/libphonenumber/gen.js from the google-libphonenumber npm package
// pinned in testdata/libphonenumber/package.json. See the README there.
var agreementFixture = filepath.Join("testdata", "libphonenumber", "agreement.jsonl")

// minAgreementRows guards against a truncated or accidentally emptied fixture.
const minAgreementRows = 2000

// agreementRow is one line of the fixture.
type agreementRow struct {
	Input    string `json:"input"`
	Region   string `json:"region"`
	Valid    bool   `json:"valid"`
	LineType string `json:"line_type"`
	Country  string `json:"country"`
	E164     string `json:"e164"`
}

// knownDifferences are the fixture rows where our engine may disagree with
// Google, keyed by input+"|"+region, each with the reason. Keep it small: the
// test fails when an entry is not in the fixture or no longer differs.
var knownDifferences = map[string]string{
	// Metadata version: the fixture comes from google-libphonenumber 3.2.47
	// (2026-09-29, the newest on npm), whose metadata predates
	// libphonenumber 9.0.38; our engine has 9.0.38 (nyaruka v2.0.12).
	"093 12345|ZW": "9.0.38 added Zimbabwe's 7-digit fixed-line range 9[2-9]xxxxx; google-libphonenumber 3.2.47 does not have them yet",
}

// TestAgreesWithGoogleLibphonenumber replays Google's verdicts through the
// engine. Valid and line type are always compared; E.164 only when Google
// parsed the input (it is "" otherwise) and the country only for valid
// numbers, since the region of an invalid number is a best guess.
func TestAgreesWithGoogleLibphonenumber(t *testing.T) {
	rows := readAgreementFixture(t)
	if len(rows) < minAgreementRows {
		t.Fatalf("%s has %d rows, want at least %d", agreementFixture, len(rows), minAgreementRows)
	}

	e := New(Options{CacheSize: -1})
	inFixture := make(map[string]bool, len(rows))
	differs := make(map[string]bool)
	for _, row := range rows {
		key := row.Input + "|" + row.Region
		if inFixture[key] {
			t.Errorf("%q (region %q) appears twice in the fixture", row.Input, row.Region)
		}
		inFixture[key] = true

		diffs := agreementDiffs(row, e.Lookup(row.Input, row.Region))
		if len(diffs) == 0 {
			continue
		}
		differs[key] = true
		if _, known := knownDifferences[key]; !known {
			t.Errorf("%q (region %q) disagrees with Google: %s", row.Input, row.Region, strings.Join(diffs, "; "))
		}
	}

	for key, reason := range knownDifferences {
		switch {
		case reason == "":
			t.Errorf("knownDifferences[%q] gives no reason", key)
		case !inFixture[key]:
			t.Errorf("knownDifferences[%q] is not in the fixture: remove it", key)
		case !differs[key]:
			t.Errorf("knownDifferences[%q] agrees with Google now: remove it", key)
		}
	}
}

// agreementDiffs lists where in differs from Google's verdict in row.
func agreementDiffs(row agreementRow, in *Insight) []string {
	var diffs []string
	diff := func(field string, ours, google any) {
		if ours != google {
			diffs = append(diffs, fmt.Sprintf("%s: ours %q, Google %q", field, fmt.Sprint(ours), fmt.Sprint(google)))
		}
	}
	diff("valid", in.Valid, row.Valid)
	diff("line_type", string(in.LineType), row.LineType)
	if row.E164 != "" {
		diff("e164", in.E164, row.E164)
	}
	if row.Valid {
		diff("country", in.Country.ISO2, row.Country)
	}
	return diffs
}

func readAgreementFixture(t *testing.T) []agreementRow {
	t.Helper()
	data, err := os.ReadFile(agreementFixture)
	if err != nil {
		t.Fatal(err)
	}
	var rows []agreementRow
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var row agreementRow
		if err := dec.Decode(&row); err != nil {
			t.Fatalf("%s:%d: %v", agreementFixture, n, err)
		}
		if row.Input == "" {
			t.Fatalf("%s:%d: empty input", agreementFixture, n)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}
