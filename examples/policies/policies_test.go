// Package policies_test runs the example policies' test files through
// policytest, the code `phonegate test` runs.
package policies_test

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phonegate/phonegate/policytest"
)

// TestExamplePolicies: every example policy has a test file beside it, and
// every case passes.
func TestExamplePolicies(t *testing.T) {
	policies, _ := filepath.Glob("*.yaml")
	for _, p := range policies {
		if strings.HasSuffix(p, "_test.yaml") {
			continue
		}
		test := strings.TrimSuffix(p, ".yaml") + "_test.yaml"
		if !slices.Contains(policies, test) {
			t.Errorf("%s has no test file %s", p, test)
		}
	}
	files, err := policytest.Find(".")
	if err != nil || len(files) == 0 {
		t.Fatalf("test files: %v %v", files, err)
	}
	var out bytes.Buffer
	res := policytest.Run(&out, files, policytest.Options{})
	if !res.OK() || res.Passed < 30 {
		t.Errorf("%d passed, %d failed, %d files in error:\n%s", res.Passed, res.Failed, res.Errors, out.String())
	}
}
