package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phonegate/phonegate/insight"
	"go.yaml.in/yaml/v3"
)

// The schema of a policy file. Each struct mirrors one YAML mapping; the parser
// below fills them by hand so that every problem carries a line and column and
// unknown keys are refused with the list of known ones.

type fileDoc struct {
	routes   []routeDoc
	policies []policyDoc
	data     insight.Data
	velocity *insight.VelocityConfig
	velNode  *yaml.Node
	lists    *yaml.Node // read by compile, which holds every file's lists
}

type routeDoc struct {
	node                                                    *yaml.Node
	name, policy                                            string
	match                                                   Match
	fields                                                  []Field
	region                                                  RegionHint
	dryRun, denialDetails, metadataSignals, metadataDetails bool
	mismatch                                                Mismatch
	onNoNumber, onPartialBody, onUnparsableBody             Action
	policyNode                                              *yaml.Node
}

type policyDoc struct {
	node  *yaml.Node
	name  string
	rules []ruleDoc
}

type ruleDoc struct {
	node                *yaml.Node
	name, when, message string
	whenNode            *yaml.Node
	action              Action
	tags                []string
	status              int
}

// parser collects every problem instead of stopping at the first.
type parser struct {
	file string
	errs ErrorList
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	e := &Error{File: p.file, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

// parse reads one policy file.
func (p *parser) parse(src []byte) fileDoc {
	var doc fileDoc
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, io.EOF) {
		p.yamlError(err)
		return doc
	}
	// yaml.Unmarshal would read the first document and drop the rest
	// without a word.
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		p.errorf(&next, "a second YAML document: a policy file holds one (split policies across files of a directory instead)")
	} else if !errors.Is(err, io.EOF) {
		p.yamlError(err)
	}
	if len(root.Content) == 0 {
		p.errs = append(p.errs, &Error{File: p.file, Line: 1, Column: 1, Message: "empty policy file: want at least `version: 1`"})
		return doc
	}
	top := root.Content[0]
	var version *yaml.Node
	p.mapping(top, "policy file", fileKeys["policy file"], func(key string, v *yaml.Node) {
		switch key {
		case "version":
			version = v
			before := len(p.errs)
			if n := p.int(v); n != 1 && len(p.errs) == before {
				p.errorf(v, "unsupported version %d: this phonegate reads version 1", n)
			}
		case "routes":
			p.sequence(v, "routes", func(item *yaml.Node) { doc.routes = append(doc.routes, p.route(item)) })
		case "policies":
			p.sequence(v, "policies", func(item *yaml.Node) { doc.policies = append(doc.policies, p.policy(item)) })
		case "data":
			p.data(v, &doc.data)
		case "velocity":
			doc.velocity, doc.velNode = p.velocity(v), v
		case "lists":
			doc.lists = v
		}
	})
	if version == nil && top.Kind == yaml.MappingNode {
		p.errorf(top, "missing `version: 1`")
	}
	return doc
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns a syntax error from the YAML library into positioned errors.
func (p *parser) yamlError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.errs = append(p.errs, &Error{File: p.file, Line: line, Column: 1, Message: m[2]})
		return
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: 1, Column: 1, Message: strings.TrimPrefix(msg, "yaml: ")})
}

func (p *parser) route(n *yaml.Node) routeDoc {
	r := routeDoc{node: n}
	p.mapping(n, "route", fileKeys["route"], func(key string, v *yaml.Node) {
		switch key {
		case "name":
			r.name = p.str(v)
		case "match":
			r.match = p.match(v)
		case "fields":
			p.sequence(v, "fields", func(item *yaml.Node) {
				if f, ok := p.field(item); ok {
					r.fields = append(r.fields, f)
				}
			})
			if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
				p.errorf(v, "fields is empty: name paths of keys such as phone or user.phone, or [auto]")
			}
		case "region":
			r.region = p.regionHint(v)
		case "policy":
			r.policy, r.policyNode = p.str(v), v
		case "dry_run":
			r.dryRun = p.bool(v)
		case "denial_details":
			r.denialDetails = p.bool(v)
		case "metadata_signals":
			r.metadataSignals = p.bool(v)
		case "metadata_details":
			r.metadataDetails = p.bool(v)
		case "content_type_mismatch":
			switch m := Mismatch(p.str(v)); m {
			case MismatchParse, MismatchReject:
				r.mismatch = m
			default:
				p.errorf(v, "content_type_mismatch %q: want parse or reject", m)
			}
		case "on_no_number":
			r.onNoNumber = p.action(v)
		case "on_partial_body":
			r.onPartialBody = p.action(v)
		case "on_unparsable_body":
			r.onUnparsableBody = p.action(v)
		}
	})
	if r.name == "" && n.Kind == yaml.MappingNode {
		p.errorf(n, "route has no name")
	}
	if r.policy == "" && n.Kind == yaml.MappingNode {
		p.errorf(n, "route %q names no policy", r.name)
	}
	return r
}

func (p *parser) match(n *yaml.Node) Match {
	var m Match
	var pathKeys []string
	p.mapping(n, "match", fileKeys["match"], func(key string, v *yaml.Node) {
		switch key {
		case "path":
			m.Path = p.path(v)
		case "path_prefix":
			m.PathPrefix = p.path(v)
		case "path_regex":
			src := p.str(v)
			if _, err := regexp.Compile(src); err != nil {
				var se *syntax.Error
				if errors.As(err, &se) {
					err = fmt.Errorf("%s: `%s`", se.Code, se.Expr)
				}
				p.errorf(v, "path_regex %q: %v", src, err)
				break
			}
			// Anchored: the whole path must match, as Envoy's safe_regex
			// does; and ignoring case, as paths are compared (see matches).
			m.PathRegex = regexp.MustCompile("(?i)^(?:" + src + ")$")
		case "methods":
			for _, method := range p.strs(v) {
				m.Methods = append(m.Methods, strings.ToUpper(method))
			}
		case "host":
			m.Host = strings.ToLower(p.str(v))
			if strings.Contains(strings.TrimPrefix(m.Host, "*."), "*") {
				p.errorf(v, "host %q: a wildcard may only lead, as in *.example.com", m.Host)
			}
		}
		if strings.HasPrefix(key, "path") {
			pathKeys = append(pathKeys, key)
		}
	})
	if len(pathKeys) > 1 {
		p.errorf(n, "match has %s: use one of path, path_prefix or path_regex", strings.Join(pathKeys, " and "))
	}
	return m
}

// regionHint reads `region: US`, or a mapping that takes the hint from a
// header or a body field, with a default.
func (p *parser) regionHint(n *yaml.Node) RegionHint {
	var h RegionHint
	fieldGiven := false
	if n.Kind == yaml.ScalarNode {
		h.Fixed = p.regionCode(n)
		return h
	}
	p.mapping(n, "region", fileKeys["region"], func(key string, v *yaml.Node) {
		switch key {
		case "header":
			h.Header = strings.ToLower(p.str(v))
		case "field":
			fieldGiven = true
			if f, ok := p.field(v); ok && f.Auto {
				p.errorf(v, "region field: name the key that holds the country, such as address.country; auto is for numbers")
			} else if ok {
				h.Field = &f
			}
		case "default":
			h.Fixed = p.regionCode(v)
		}
	})
	if h.Header != "" && h.Field != nil {
		p.errorf(n, "region takes its hint from a header or a field, not both")
	}
	if n.Kind == yaml.MappingNode && h.Header == "" && !fieldGiven {
		p.errorf(n, "region mapping needs a header or a field (or write `region: US`)")
	}
	return h
}

// regionCode reads a region that libphonenumber knows: any other makes every
// national number unparsable.
func (p *parser) regionCode(n *yaml.Node) string {
	code := strings.ToUpper(p.str(n))
	switch {
	case n.Kind != yaml.ScalarNode:
	case insight.IsRegion(code):
	case regionMistakes[code] != "":
		p.errorf(n, "region %q is not an ISO 3166-1 alpha-2 code: did you mean %s?", code, regionMistakes[code])
	default:
		p.errorf(n, "region %q is not an ISO 3166-1 alpha-2 region that libphonenumber knows, such as US or GB", code)
	}
	return code
}

// regionMistakes are codes people write for a region whose ISO code differs.
var regionMistakes = map[string]string{"UK": "GB", "EN": "GB", "EL": "GR", "SP": "ES", "JA": "JP", "KO": "KR"}

// data reads the `data:` section: entries that extend or override the
// engine's embedded tables.
func (p *parser) data(n *yaml.Node, d *insight.Data) {
	p.mapping(n, "data", fileKeys["data"], func(key string, v *yaml.Node) {
		switch key {
		case "disposable_prefixes":
			p.sequence(v, key, func(item *yaml.Node) { d.DisposablePrefixes = append(d.DisposablePrefixes, p.prefix(item)) })
		case "fictitious_prefixes":
			p.sequence(v, key, func(item *yaml.Node) { d.Fictitious = append(d.Fictitious, p.prefix(item)) })
		case "carriers":
			p.sequence(v, key, func(item *yaml.Node) {
				c := insight.CarrierProfile{Source: p.source(item)}
				seen := p.mapping(item, "carrier", fileKeys["carrier"], func(key string, v *yaml.Node) {
					switch key {
					case "name":
						c.Name = p.str(v)
					case "label":
						c.Label = p.confidence(v)
					case "disposable":
						c.Disposable = p.bool(v)
					case "virtual":
						c.Virtual = p.bool(v)
					}
				})
				p.require(item, "carrier", seen, "name", "label")
				d.Carriers = append(d.Carriers, c)
			})
		case "country_caps":
			p.sequence(v, key, func(item *yaml.Node) {
				c := insight.CountryCap{Source: p.source(item)}
				seen := p.mapping(item, "country cap", fileKeys["country cap"], func(key string, v *yaml.Node) {
					switch key {
					case "region":
						if c.Region = strings.ToUpper(p.str(v)); c.Region != "001" {
							c.Region = p.regionCode(v)
						}
					case "cap":
						c.Cap = p.confidence(v)
					}
				})
				p.require(item, "country cap", seen, "region", "cap")
				d.CountryCaps = append(d.CountryCaps, c)
			})
		case "receive_sms":
			p.mapping(v, "receive_sms", fileKeys["receive_sms"], func(key string, v *yaml.Node) {
				switch key {
				case "max_age":
					if d.ReceiveSMSMaxAge != 0 {
						p.errorf(v, "receive_sms max_age is set twice in the policy set: set it in one file")
					}
					errs := len(p.errs)
					if d.ReceiveSMSMaxAge = p.days(v); d.ReceiveSMSMaxAge < 24*time.Hour && len(p.errs) == errs {
						p.errorf(v, "max_age %q: want at least 1d", v.Value)
					}
				case "exempt":
					p.sequence(v, key, func(item *yaml.Node) { d.ReceiveSMSExempt = append(d.ReceiveSMSExempt, p.prefix(item)) })
				}
			})
		}
	})
}

// velocity reads the `velocity:` section: the sliding window, the memory
// bound, the digits a number's range leaves out and the recent_abuse
// thresholds.
func (p *parser) velocity(n *yaml.Node) *insight.VelocityConfig {
	c := &insight.VelocityConfig{}
	p.mapping(n, "velocity", fileKeys["velocity"], func(key string, v *yaml.Node) {
		switch key {
		case "window":
			c.Window = p.duration(v)
			if c.Window < time.Second {
				p.errorf(v, "window %s: want at least 1s", c.Window)
			}
		case "max_numbers":
			if c.MaxNumbers = p.int(v); c.MaxNumbers < 1 {
				p.errorf(v, "max_numbers %d: want at least 1", c.MaxNumbers)
			}
		case "range_digits":
			if c.RangeDigits = p.int(v); c.RangeDigits < 1 || c.RangeDigits > insight.MaxRangeDigits {
				p.errorf(v, "range_digits %d: want 1 to %d", c.RangeDigits, insight.MaxRangeDigits)
			}
		case "recent_abuse":
			p.mapping(v, "recent_abuse", fileKeys["recent_abuse"], func(key string, v *yaml.Node) {
				n := p.int(v)
				switch {
				case n < 1:
					p.errorf(v, "%s %d: want 1 or more", key, n)
				case key != "seen" && n > insight.MaxTrackedAddresses:
					// Distinct counts saturate at the addresses a number tracks.
					p.errorf(v, "%s %d: want 1 to %d", key, n, insight.MaxTrackedAddresses)
				}
				switch key {
				case "seen":
					c.Seen = n
				case "distinct_ips":
					c.DistinctIPs = n
				case "distinct_networks":
					c.DistinctNetworks = n
				}
			})
		}
	})
	return c
}

func (p *parser) duration(n *yaml.Node) time.Duration {
	s := p.str(n)
	d, err := time.ParseDuration(s)
	if err != nil && s != "" {
		p.errorf(n, "duration %q: want a number and a unit, such as 10m or 90s", s)
	}
	return d
}

// days reads a duration that may be written in days ("365d") or as a Go
// duration ("8760h").
func (p *parser) days(n *yaml.Node) time.Duration {
	s := p.str(n)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(d); err == nil && days >= 0 && days <= 36500 {
			return time.Duration(days) * 24 * time.Hour
		}
		p.errorf(n, "duration %q: want a whole number of days, such as 365d", s)
		return 0
	}
	return p.duration(n)
}

// prefix reads `"+447700900"` or `{prefix: "+447700900", source: ...}`.
func (p *parser) prefix(n *yaml.Node) insight.PrefixEntry {
	var raw string
	e := insight.PrefixEntry{Source: p.source(n)}
	at := n
	if n.Kind == yaml.ScalarNode {
		raw = p.str(n)
	} else {
		p.mapping(n, "prefix", fileKeys["prefix"], func(key string, v *yaml.Node) {
			if key == "prefix" {
				raw, at = p.str(v), v
			}
		})
	}
	prefix, err := insight.NormalizePrefix(raw)
	if err != nil {
		p.errorf(at, "%v", err)
	}
	e.Prefix = prefix
	return e
}

// source is an entry's `source:`, or where in which file it was written.
func (p *parser) source(n *yaml.Node) string {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "source" && n.Content[i+1].Kind == yaml.ScalarNode {
				return n.Content[i+1].Value
			}
		}
	}
	return fmt.Sprintf("policy %s:%d", p.file, n.Line)
}

func (p *parser) confidence(n *yaml.Node) insight.Confidence {
	c, err := insight.ParseConfidence(p.str(n))
	if err != nil {
		p.errorf(n, "%v", err)
	}
	return c
}

func (p *parser) bool(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errorf(n, "want true or false, got %s", kindName(n))
		return false
	}
	v, _ := strconv.ParseBool(n.Value)
	return v
}

func (p *parser) policy(n *yaml.Node) policyDoc {
	pd := policyDoc{node: n}
	p.mapping(n, "policy", fileKeys["policy"], func(key string, v *yaml.Node) {
		switch key {
		case "name":
			pd.name = p.str(v)
		case "rules":
			p.sequence(v, "rules", func(item *yaml.Node) { pd.rules = append(pd.rules, p.rule(item, len(pd.rules)+1)) })
		}
	})
	if pd.name == "" && n.Kind == yaml.MappingNode {
		p.errorf(n, "policy has no name")
	}
	return pd
}

// rule reads the index'th rule (1-based) of a policy; a rule without a name
// is called "rule N" in messages and logs.
func (p *parser) rule(n *yaml.Node, index int) ruleDoc {
	r := ruleDoc{node: n, name: fmt.Sprintf("rule %d", index)}
	hasAction := false
	p.mapping(n, "rule", fileKeys["rule"], func(key string, v *yaml.Node) {
		switch key {
		case "name":
			r.name = p.str(v)
		case "when":
			r.when, r.whenNode = p.str(v), v
		case "action":
			r.action, hasAction = p.action(v), true
		case "tags":
			r.tags = p.strs(v)
		case "message":
			r.message = p.str(v)
		case "status":
			r.status = p.int(v)
			if r.status < 400 || r.status > 499 {
				p.errorf(v, "status %d is not a 4xx HTTP status", r.status)
			}
		}
	})
	if n.Kind != yaml.MappingNode {
		return r
	}
	if r.when == "" {
		p.errorf(n, "rule %q has no `when` condition (use `when: \"true\"` for a catch-all)", r.name)
	}
	if !hasAction {
		p.errorf(n, "rule %q has no action: want one of %s", r.name, actionList())
	}
	if r.status != 0 && r.action != Reject {
		p.errorf(n, "rule %q sets a status, which only a reject uses", r.name)
	}
	return r
}

// mapping checks that n is a mapping whose keys are all known and unique,
// calls fn for each pair in order, and returns the keys it saw.
func (p *parser) mapping(n *yaml.Node, what string, known []string, fn func(key string, v *yaml.Node)) map[string]bool {
	seen := map[string]bool{}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, got %s", what, kindName(n))
		return seen
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(known, k.Value):
			p.errorf(k, "unknown key %q in %s: want one of %s", k.Value, what, strings.Join(known, ", "))
		case seen[k.Value]:
			p.errorf(k, "key %q appears twice in %s", k.Value, what)
		default:
			seen[k.Value] = true
			fn(k.Value, v)
		}
	}
	return seen
}

// require reports the keys a mapping lacks.
func (p *parser) require(n *yaml.Node, what string, seen map[string]bool, keys ...string) {
	if n.Kind != yaml.MappingNode {
		return // already reported
	}
	for _, k := range keys {
		if !seen[k] {
			p.errorf(n, "%s needs %s", what, strings.Join(keys, " and "))
			return
		}
	}
}

func (p *parser) sequence(n *yaml.Node, what string, fn func(item *yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list, got %s", what, kindName(n))
		return
	}
	for _, item := range n.Content {
		fn(item)
	}
}

func (p *parser) str(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "want a string, got %s", kindName(n))
		return ""
	}
	return n.Value
}

func (p *parser) int(n *yaml.Node) int {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errorf(n, "want an integer, got %s", kindName(n))
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		p.errorf(n, "want an integer, got %q", n.Value)
	}
	return v
}

func (p *parser) strs(n *yaml.Node) []string {
	var out []string
	p.sequence(n, "value", func(item *yaml.Node) { out = append(out, p.str(item)) })
	return out
}

// field reads one entry of `fields` (or a region's field) by the grammar of
// [ParseField].
func (p *parser) field(n *yaml.Node) (Field, bool) {
	s := p.str(n)
	if n.Kind != yaml.ScalarNode {
		return Field{}, false
	}
	f, err := ParseField(s)
	if err != nil {
		p.errorf(n, "%v", err)
		return Field{}, false
	}
	return f, true
}

func (p *parser) path(n *yaml.Node) string {
	s := p.str(n)
	switch {
	case s == "":
	case !strings.HasPrefix(s, "/"):
		p.errorf(n, "path %q must start with /", s)
	case NormalizePath(s) != s:
		// Requests are matched by their normalized path, so a route
		// written otherwise would never match.
		p.errorf(n, "path %q is matched as requests are, normalized: write %q", s, NormalizePath(s))
	}
	return s
}

func (p *parser) action(n *yaml.Node) Action {
	s := p.str(n)
	a := Action(s)
	if s == "" && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		p.errorf(n, "empty action: want one of %s", actionList())
		return ""
	}
	if s != "" && !slices.Contains(Actions, a) {
		p.errorf(n, "unknown action %q: want one of %s", s, actionList())
		return ""
	}
	return a
}

func actionList() string {
	names := make([]string, len(Actions))
	for i, a := range Actions {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.Tag {
	case "!!null":
		return "nothing"
	case "!!str":
		return fmt.Sprintf("the string %q", n.Value)
	case "!!int":
		return "the integer " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	}
	return fmt.Sprintf("%q", n.Value)
}
