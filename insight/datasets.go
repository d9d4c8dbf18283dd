package insight

import (
	"bytes"
	"runtime/debug"
	"strings"

	"github.com/nyaruka/phonenumbers/v2/metadata"
)

// DataSet describes one embedded data set: what `phonegate version` prints
// and /metrics exports as phonegate_build_info.
type DataSet struct {
	Name    string `json:"name"`
	Version string `json:"version"`           // upstream version, or the module version that ships it
	Date    string `json:"date,omitempty"`    // the newest date in the data, YYYY-MM-DD, when it has one
	Entries int    `json:"entries,omitempty"` // rows, numbers or prefixes
}

// DataSets lists the embedded data sets, for the version command and the
// build-info metric.
func DataSets() []DataSet {
	l := receiveSMS()
	d := DefaultData()
	return []DataSet{
		{Name: "libphonenumber_metadata", Version: metadata.Version + " (" + moduleVersion("github.com/nyaruka/phonenumbers/v2") + ")"},
		{Name: "receive_sms_numbers", Version: l.version, Date: dayString(l.newest), Entries: l.n},
		{Name: "receive_sms_ranges", Version: l.version, Date: dayString(l.newest), Entries: len(l.ranges)},
		{Name: "carrier_profiles", Version: updated("carriers.txt"), Entries: len(d.Carriers)},
		{Name: "disposable_prefixes", Version: updated("disposable_prefixes.txt"), Entries: len(d.DisposablePrefixes)},
		{Name: "country_caps", Version: updated("country_caps.txt"), Entries: len(d.CountryCaps)},
		{Name: "fictitious_ranges", Version: updated("fictitious.txt"), Entries: len(d.Fictitious)},
		{Name: "ip_country", Version: moduleVersion("github.com/phuslu/iploc")},
	}
}

// LibphonenumberVersion is the libphonenumber release of the embedded
// metadata, such as "v9.0.38".
func LibphonenumberVersion() string { return metadata.Version }

// updated reads a hand-kept table's "# Updated: YYYY-MM-DD" line.
func updated(name string) string {
	b, _ := embedded.ReadFile("data/" + name)
	_, after, ok := bytes.Cut(b, []byte("# Updated: "))
	if !ok {
		return ""
	}
	date, _, _ := bytes.Cut(after, []byte("\n"))
	f := strings.Fields(string(date))
	if len(f) == 0 {
		return ""
	}
	return "updated " + f[0]
}

// moduleVersion is the version of a dependency linked into the binary
// ("unknown" in a test binary built without module information).
func moduleVersion(path string) string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, m := range info.Deps {
			if m.Path == path {
				if m.Replace != nil {
					return m.Replace.Version
				}
				return m.Version
			}
		}
	}
	return "unknown"
}
