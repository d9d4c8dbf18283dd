package policy

import "testing"

// TestIsNormalEveryShortPath: every path of up to seven bytes from the
// bytes that matter to normalization ("/", ".", "%", ";", "\\", "2", "e"
// and a letter) that isNormal lets through is one the full normalization
// leaves as it is: no spelling of a dot segment, an empty segment or an
// escape slips past route matching by the fast path.
func TestIsNormalEveryShortPath(t *testing.T) {
	alphabet := []byte("/.%;\\2ea")
	buf := make([]byte, 0, 7)
	var walk func()
	walk = func() {
		if p := string(buf); isNormal(p) {
			if full := normalize(p); full != p {
				t.Fatalf("isNormal(%q), but normalize gives %q", p, full)
			}
		}
		if len(buf) == cap(buf) {
			return
		}
		for _, c := range alphabet {
			buf = append(buf, c)
			walk()
			buf = buf[:len(buf)-1]
		}
	}
	walk()
}
