package insight

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// sharedReceiveSMSList is where the source of the receive-SMS files sits
// beside a checkout in CI (it is not in the repository: see
// data/README.md). Only the generator reads it, never the server.
var sharedReceiveSMSList = filepath.Join("..", "..", "shared", "data", "receive-sms", "number-list.json")

// TestReceiveSMSFilesRegenerate runs the generator on the list the embedded
// files name and requires the same bytes: the committed files are what the
// generator makes from that version with the libphonenumber in go.mod (a
// libphonenumber upgrade that changes which numbers are valid shows up
// here). Where the source list is not beside the checkout it skips, except
// in CI.
func TestReceiveSMSFilesRegenerate(t *testing.T) {
	if _, err := os.Stat(sharedReceiveSMSList); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI has no %s: %v", sharedReceiveSMSList, err)
		}
		t.Skipf("no %s beside the checkout", sharedReceiveSMSList)
	}
	committed, err := os.ReadFile(filepath.Join("data", "receive_sms_numbers.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`disposable-phone-numbers version (\S+) \(commit ([0-9a-f]{40})\)`).FindSubmatch(committed)
	if m == nil {
		t.Fatal("receive_sms_numbers.txt names no version and commit")
	}
	dir := t.TempDir()
	numbers, ranges, bin := filepath.Join(dir, "numbers.txt"), filepath.Join(dir, "ranges.txt"), filepath.Join(dir, "numbers.bin")
	cmd := exec.Command("go", "run", "./insight/data/receivesms/gen.go", "-version", string(m[1]), "-commit", string(m[2]),
		"-numbers", numbers, "-ranges", ranges, "-bin", bin, filepath.Join("insight", sharedReceiveSMSList))
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen.go: %v\n%s", err, out)
	}
	for generated, name := range map[string]string{numbers: "receive_sms_numbers.txt", ranges: "receive_sms_ranges.txt", bin: "receive_sms_numbers.bin"} {
		got, _ := os.ReadFile(generated)
		want, _ := os.ReadFile(filepath.Join("data", name))
		if !bytes.Equal(got, want) {
			t.Errorf("data/%s is not what gen.go makes from version %s: regenerate it (insight/data/README.md)", name, m[1])
		}
	}
}
