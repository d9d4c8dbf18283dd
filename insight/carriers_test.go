package insight

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers/v2"
	"github.com/nyaruka/phonenumbers/v2/carrier"
)

// TestCarrierProfilesMatchLibphonenumber: every embedded carrier profile
// still matches a carrier name in the libphonenumber metadata go.mod pins,
// so a rename upstream cannot silently switch a profile off; and a profile
// that marks numbers disposable matches ranges where numbers of the
// receive-SMS list are actually seen.
func TestCarrierProfilesMatchLibphonenumber(t *testing.T) {
	prefixes := libphonenumberCarriers(t)
	names := map[string]bool{}
	for _, name := range prefixes {
		names[name] = true
	}
	if len(names) < 1000 {
		t.Fatalf("read %d carrier names from libphonenumber's metadata, want over 1,000", len(names))
	}

	// Receive-SMS numbers by the profile their carrier matches.
	l := receiveSMS()
	seen := map[string]int{}
	for i := range l.n {
		num, err := phonenumbers.Parse("+"+strconv.FormatUint(l.num(i), 10), "")
		if err != nil {
			continue
		}
		name, _ := carrier.GetNameForNumber(num, "en")
		if c, ok := compileData(DefaultData()).carrierProfile(name); ok {
			seen[c.Name]++
		}
	}

	for _, c := range DefaultData().Carriers {
		var matched []string
		for name := range names {
			if strings.Contains(strings.ToLower(name), strings.ToLower(c.Name)) {
				matched = append(matched, name)
			}
		}
		if len(matched) == 0 {
			t.Errorf("carrier profile %q matches no carrier name in libphonenumber's metadata: renamed or gone upstream; check its ranges and fix or remove the row", c.Name)
		}
		if c.Disposable && seen[strings.ToLower(c.Name)] == 0 {
			t.Errorf("carrier profile %q marks numbers disposable, but no number of the receive-SMS list is in its ranges: make it virtual, or find the evidence", c.Name)
		}
		if !c.Virtual {
			t.Errorf("carrier profile %q: every embedded profile is virtual or disposable", c.Name)
		}
		if !strings.Contains(c.Source, "libphonenumber carrier") {
			t.Errorf("carrier profile %q: the source names no libphonenumber carrier", c.Name)
		}
	}
}

// libphonenumberCarriers reads the English carrier names of the
// nyaruka/phonenumbers module go.mod pins, by prefix. The file is a
// gzipped, length-prefixed list of names and then (varint prefix delta,
// uint16 name index) pairs.
func libphonenumberCarriers(t *testing.T) map[int]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/nyaruka/phonenumbers/v2").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	f, err := os.Open(filepath.Join(strings.TrimSpace(string(out)), "carrier", "data", "en.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := decodePrefixMap(f)
	if err != nil {
		t.Fatalf("carrier/data/en.txt.gz: %v", err)
	}
	return m
}

func decodePrefixMap(r io.Reader) (map[int]string, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	br := bytes.NewReader(raw)
	var size uint32
	if err := binary.Read(br, binary.LittleEndian, &size); err != nil || int(size) > br.Len() {
		return nil, fmt.Errorf("bad names length")
	}
	names := make([]byte, size)
	io.ReadFull(br, names)
	values := strings.Split(string(names), "\n")
	var count uint32
	if err := binary.Read(br, binary.LittleEndian, &count); err != nil {
		return nil, err
	}
	m := make(map[int]string, count)
	prefix := 0
	for range count {
		delta, err := binary.ReadUvarint(br)
		if err != nil {
			return nil, err
		}
		prefix += int(delta)
		var i uint16
		if err := binary.Read(br, binary.LittleEndian, &i); err != nil || int(i) >= len(values) {
			return nil, fmt.Errorf("bad name index")
		}
		m[prefix] = values[i]
	}
	return m, nil
}
