package policy

import (
	"bytes"
	"os"
	"regexp"
	"testing"
)

// TestReadmePoliciesCompile keeps the README honest: every YAML block in it
// that is a policy file compiles, with the lists it names (a block whose
// first line names a *_test.yaml file is a policy test file).
func TestReadmePoliciesCompile(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("README has no yaml block")
	}
	for i, b := range blocks {
		if bytes.HasPrefix(b[1], []byte("# ")) && bytes.Contains(bytes.SplitN(b[1], []byte("\n"), 2)[0], []byte("_test.yaml")) {
			continue // a policy test file: policytest's README test reads it
		}
		// Named as if in examples/policies, where the list files a block
		// names are.
		if _, err := Compile(Source{Name: "../examples/policies/README.md block", Data: b[1]}); err != nil {
			t.Errorf("README yaml block %d: %v", i+1, err)
		}
	}
}
