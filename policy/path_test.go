package policy

import (
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"/api/register":              "/api/register",
		"":                           "/",
		"api/register":               "/api/register",
		"//api/register":             "/api/register",
		"/api//register":             "/api/register",
		"/api/%72egister":            "/api/register",
		"/api/%2e/register":          "/api/register",
		"/api/./register":            "/api/register",
		"/api/x/../register":         "/api/register",
		"/api/x/%2E%2E/register":     "/api/register",
		"/../../api/register":        "/api/register",
		"/api/register?next=/x":      "/api/register",
		"/api/register#frag":         "/api/register",
		"/api/register;jsessionid=1": "/api/register",
		"/api;x=1/register":          "/api/register",
		"/api/register/":             "/api/register/",
		"/api/register/.":            "/api/register/",
		"/api/register/x/..":         "/api/register/",
		"/api%2Fregister":            "/api%2Fregister", // an encoded slash stays encoded
		"/api%2fregister":            "/api%2Fregister",
		"/api%5Cregister":            "/api%5Cregister",
		"/api/%zz":                   "/api/%25zz",
		"/api/%2":                    "/api/%252",
		"/%0%61":                     "/%250a",
		"/api/caf%C3%A9":             "/api/caf%C3%A9",
		"/..":                        "/",
		"/api\\register":             "/api/register",
		"\\api\\..\\api\\register":   "/api/register",
		"/.":                         "/",
	} {
		if got := NormalizePath(in); got != want {
			t.Errorf("NormalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRouteMatchesEverySpelling: a path that differs from a route only in
// spelling is matched by it.
func TestRouteMatchesEverySpelling(t *testing.T) {
	set, err := Compile(Source{Name: "p.yaml", Data: []byte(`version: 1
routes:
  - {name: exact, policy: standard, match: {path: /api/signup}}
  - {name: prefix, policy: standard, match: {path_prefix: /api/register}}
  - {name: regex, policy: standard, match: {path_regex: "/v[0-9]+/join"}}
`)})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/api/signup": "exact", "/api/signup/": "exact", "//api/signup": "exact", "/API/Signup": "exact",
		"/api/%73ignup": "exact", "/api/x/../signup": "exact", "/api/signup;x": "exact", "/api/signup?a=b": "exact",
		"/api/register": "prefix", "//api/register": "prefix", "/api//register": "prefix", "/api/%72egister": "prefix",
		"/api/./register": "prefix", "/api/x/../register": "prefix", "/Api/Register/step2": "prefix",
		"/v2/join": "regex", "/V2/JOIN": "regex", "/v2/./join": "regex",
		"/api/signupx": "", "/api/other": "", "/api%2Fregister": "",
	} {
		r, err := set.Route(&Request{Method: "POST", Path: path})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if r != nil {
			got = r.Name
		}
		if got != want {
			t.Errorf("%s: route %q, want %q", path, got, want)
		}
	}
}

// FuzzNormalizePath: the result starts with "/", never holds "//", "/./" or
// "/../" (nor ends in "/." or "/.."), and normalizing it again changes nothing.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{
		"/api/register", "//a//b", "/a/./b/../c", "/%2e%2E/x", "/a;b/c", "/a/%2F/b", "?x", "/%25%32%65", // %25 is "%": never decoded twice
		"/a/.%2e/b", "/a/..;/b", "/%", "/a/b/..", ".", "..", "/", "/a/", "/a//", "/.", "/a/.", "/a\\b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		// The fast path takes only what the full one would leave as it is.
		if !strings.ContainsAny(p, "?#") && isNormal(p) {
			if full := normalize(p); full != p {
				t.Fatalf("isNormal(%q), but normalize gives %q", p, full)
			}
		}
		got := NormalizePath(p)
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("NormalizePath(%q) = %q: no leading /", p, got)
		}
		for _, bad := range []string{"//", "/./", "/../"} {
			if strings.Contains(got, bad) {
				t.Fatalf("NormalizePath(%q) = %q holds %q", p, got, bad)
			}
		}
		if strings.HasSuffix(got, "/.") || strings.HasSuffix(got, "/..") {
			t.Fatalf("NormalizePath(%q) = %q ends in a dot segment", p, got)
		}
		if again := NormalizePath(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", p, got, again)
		}
	})
}
