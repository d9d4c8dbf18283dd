package policy

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/phonegate/phonegate/insight"
	"go.yaml.in/yaml/v3"
)

//go:embed builtin/*.yaml
var builtin embed.FS

// Source is one policy file's name and bytes.
type Source struct {
	Name string
	Data []byte
}

// Default returns the embedded default policy: one catch-all route for POST
// bodies, `auto` fields, the standard preset.
func Default() (*Set, error) {
	data, err := builtin.ReadFile("builtin/default.yaml")
	if err != nil {
		return nil, err
	}
	set, err := Compile(Source{Name: "default.yaml (embedded)", Data: data})
	if set != nil {
		set.Source = "embedded default"
	}
	return set, err
}

// Load reads policy files, or every *.yaml and *.yml file of directories in
// name order (hidden files and Kubernetes' ..data links are skipped, their
// targets are read through the regular names; so are policy test files,
// *_test.yaml), and compiles them together
// into one Set, as serve would: names are defined once across them all.
func Load(paths ...string) (*Set, error) {
	if len(paths) == 0 {
		return nil, errors.New("no policy file or directory named")
	}
	var files []string
	for _, p := range paths {
		fs, err := policyFiles(p)
		if err != nil {
			return nil, err
		}
		files = append(files, fs...)
	}
	srcs := make([]Source, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, &Error{File: f, Message: err.Error()}
		}
		srcs = append(srcs, Source{Name: f, Data: data})
	}
	set, err := Compile(srcs...)
	if set != nil {
		set.Source = strings.Join(paths, ", ")
		set.Files = files
	}
	return set, err
}

// IsTestFile reports whether a file name is a policy test file
// (*_test.yaml or *_test.yml), which `phonegate test` runs and a directory
// of policies leaves out.
func IsTestFile(name string) bool {
	base := filepath.Base(name)
	return strings.HasSuffix(base, "_test.yaml") || strings.HasSuffix(base, "_test.yml")
}

// policyFiles lists the policy files path names: itself, or a directory's.
func policyFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, &Error{File: path, Message: err.Error()}
	}
	files := []string{path}
	if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, &Error{File: path, Message: err.Error()}
		}
		files = files[:0]
		for _, e := range entries {
			name := e.Name()
			ext := filepath.Ext(name)
			if strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml") || IsTestFile(name) {
				continue
			}
			files = append(files, filepath.Join(path, name))
		}
		if len(files) == 0 {
			return nil, &Error{File: path, Message: "no *.yaml or *.yml policy files in this directory"}
		}
	}
	return files, nil
}

// Compile parses and validates sources and compiles their rules. It returns
// an [ErrorList] holding every problem found, with positions.
func Compile(srcs ...Source) (*Set, error) {
	presets, err := loadPresets()
	if err != nil {
		return nil, err
	}
	return compile(presets, srcs)
}

// loadPresets compiles the embedded presets; they are the policies every Set
// starts from.
func loadPresets() (map[string]*Policy, error) {
	data, err := builtin.ReadFile("builtin/presets.yaml")
	if err != nil {
		return nil, err
	}
	set, err := compile(nil, []Source{{Name: "presets.yaml (embedded)", Data: data}})
	if err != nil {
		return nil, fmt.Errorf("built-in presets: %w", err)
	}
	return set.Policies, nil
}

func compile(presets map[string]*Policy, srcs []Source) (*Set, error) {
	set := &Set{Policies: map[string]*Policy{}, Lists: map[string]*List{}}
	for name, p := range presets {
		set.Policies[name] = p
	}
	var errs ErrorList
	type fileRoutes struct {
		p        *parser
		routes   []routeDoc
		policies []policyDoc
	}
	var all []fileRoutes
	var data insight.Data           // every file's data section, in order
	velocityAt := ""                // where the velocity section is, once read
	policyAt := map[string]string{} // name -> "file:line" of its first definition
	routeAt := map[string]string{}
	h := sha256.New()
	for _, src := range srcs {
		fmt.Fprintf(h, "%s\x00%d\x00", src.Name, len(src.Data))
		h.Write(src.Data)
		p := &parser{file: src.Name}
		doc := p.parse(src.Data)
		if doc.lists != nil {
			p.lists(doc.lists, set.Lists)
		}
		for _, pd := range doc.policies {
			if p.defineOnce(policyAt, "policy", pd.name, pd.node) {
				set.Policies[pd.name] = p.compilePolicy(pd)
			}
		}
		var routes []routeDoc
		for _, rd := range doc.routes {
			if p.defineOnce(routeAt, "route", rd.name, rd.node) {
				routes = append(routes, rd)
			}
		}
		all = append(all, fileRoutes{p, routes, doc.policies})
		data = *doc.data.With(&data) // earlier files' entries first: they take precedence
		if doc.velocity != nil {
			if velocityAt != "" {
				p.errorf(doc.velNode, "a second velocity section (the first is at %s)", velocityAt)
			} else {
				velocityAt = fmt.Sprintf("%s:%d", src.Name, doc.velNode.Line)
				set.Velocity = *doc.velocity
			}
		}
	}
	// A list file is part of the policy: a change to it is a new set.
	names := slices.Sorted(maps.Keys(set.Lists))
	for _, name := range names {
		fmt.Fprintf(h, "list\x00%s\x00%s\x00", name, set.Lists[name].File)
		h.Write(set.Lists[name].digest[:])
	}
	lists := listsValue(set.Lists)
	// Routes are resolved once every file's policies are known, so a route may
	// name a policy defined in another file; conditions' lists likewise.
	for _, f := range all {
		for _, pd := range f.policies {
			f.p.checkListRefs(pd, set.Lists)
		}
		for _, rd := range f.routes {
			if r := f.p.compileRoute(rd, set.Policies); r != nil {
				r.lists = lists
				set.Routes = append(set.Routes, r)
			}
		}
		errs = append(errs, f.p.errs...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	set.Hash = hex.EncodeToString(h.Sum(nil))[:12]
	if len(data.Carriers)+len(data.DisposablePrefixes)+len(data.CountryCaps)+len(data.Fictitious) > 0 {
		set.Data = &data
	}
	return set, nil
}

// defineOnce records where a named policy or route is first defined and
// reports a second definition as an error. Nameless ones were reported by the
// parser and are skipped.
func (p *parser) defineOnce(seen map[string]string, kind, name string, n *yaml.Node) bool {
	if name == "" {
		return false
	}
	if at, dup := seen[name]; dup {
		p.errorf(n, "%s %q is defined twice (first at %s)", kind, name, at)
		return false
	}
	seen[name] = fmt.Sprintf("%s:%d", p.file, n.Line)
	return true
}

func (p *parser) compilePolicy(pd policyDoc) *Policy {
	pol := &Policy{Name: pd.name}
	for _, rd := range pd.rules {
		rule := &Rule{Name: rd.name, When: rd.when, Action: rd.action, Tags: rd.tags, Message: rd.message, Status: rd.status}
		if rd.when != "" {
			prog, err := compileCondition(rd.when)
			if err != nil {
				p.errorf(rd.whenNode, "policy %q: rule %q: condition: %s", pd.name, rule.Name, oneLine(err.Error()))
			}
			rule.program = prog
		}
		pol.Rules = append(pol.Rules, rule)
	}
	return pol
}

func (p *parser) compileRoute(rd routeDoc, policies map[string]*Policy) *Route {
	if rd.name == "" || rd.policy == "" {
		return nil
	}
	pol, ok := policies[rd.policy]
	if !ok {
		names := make([]string, 0, len(policies))
		for n := range policies {
			names = append(names, n)
		}
		sort.Strings(names)
		p.errorf(rd.policyNode, "route %q names policy %q, which is not defined: want one of %s", rd.name, rd.policy, strings.Join(names, ", "))
		return nil
	}
	r := &Route{
		Name:                rd.name,
		Match:               rd.match,
		Fields:              rd.fields,
		Region:              rd.region,
		Policy:              pol,
		DryRun:              rd.dryRun,
		DenialDetails:       rd.denialDetails,
		MetadataSignals:     rd.metadataSignals,
		MetadataDetails:     rd.metadataDetails,
		ContentTypeMismatch: rd.mismatch,
		OnNoNumber:          orDefault(rd.onNoNumber, Allow),
		OnPartialBody:       orDefault(rd.onPartialBody, Reject),
		OnUnparsableBody:    orDefault(rd.onUnparsableBody, Reject),
	}
	if len(r.Fields) == 0 {
		r.Fields = []Field{{Path: AutoField, Auto: true}}
	}
	if r.ContentTypeMismatch == "" {
		r.ContentTypeMismatch = MismatchParse
	}
	return r
}

func orDefault(a, def Action) Action {
	if a == "" {
		return def
	}
	return a
}

// oneLine folds CEL's multi-line error (with its caret drawing) into one line.
func oneLine(s string) string {
	s = strings.TrimPrefix(s, "ERROR: <input>:")
	if i := strings.Index(s, "\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
