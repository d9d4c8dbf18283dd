package policy

import (
	"fmt"
	"regexp"
	"slices"

	"cel.dev/cel-go/cel"
	"github.com/phonegate/phonegate/insight"
)

// Action is what a rule, or a route's fallback, does with a request.
type Action string

// The actions, from least to most strict.
const (
	Allow  Action = "allow"  // let the request through untouched but for x-phone-* headers
	Tag    Action = "tag"    // let it through with tags for the upstream
	Reject Action = "reject" // deny it with a status and a JSON body
)

// Actions lists the valid actions, least strict first.
var Actions = []Action{Allow, Tag, Reject}

// strictness orders actions: reject > tag > allow.
func (a Action) strictness() int { return slices.Index(Actions, a) }

// Stricter reports whether a is stricter than b.
func (a Action) Stricter(b Action) bool { return a.strictness() > b.strictness() }

// Set is a compiled, validated policy configuration: every route, every policy
// (presets included), ready to serve. A Set is immutable once built; a reload
// builds a new one and swaps it in whole.
type Set struct {
	Routes   []*Route
	Policies map[string]*Policy
	// Hash identifies the source bytes: the first 12 hex digits of their SHA-256.
	Hash string
	// Source names where the set came from ("embedded default" or paths).
	Source string
	// Files are the policy files read, in order; nil for the embedded default.
	Files []string
	// Data extends the engine's tables (the files' `data:` sections, in
	// order); nil when no file has one.
	Data *insight.Data
	// Velocity configures the velocity store (the `velocity:` section, which
	// one file at most may have); the zero value takes the defaults.
	Velocity insight.VelocityConfig
	// Lists are the files' `lists:` sections, by name, read at load.
	Lists map[string]*List
}

// Route says which requests phonegate checks, where their numbers are and which
// policy judges them.
type Route struct {
	Name  string
	Match Match
	// Fields name where numbers are: paths of keys ("phone", "user.phone",
	// "contacts[*].phone") in JSON, form, multipart and GraphQL bodies alike,
	// or "auto", which finds phone-like keys (see the package doc).
	Fields []Field
	// Region says where the hint for numbers written without a country code
	// comes from.
	Region RegionHint
	Policy *Policy
	// DryRun computes and reports the real decision but always lets the
	// request through.
	DryRun bool
	// DenialDetails adds the deciding number's signals (confidence, risk
	// score, line type, warning codes) to a denial's JSON body.
	DenialDetails bool
	// MetadataSignals adds this request's own signals (ip_country, ip_match,
	// seen, recent_abuse, velocity_source) to the dynamic metadata. They are
	// off by default: every entry is bytes Envoy and whatever reads the
	// response decode on every check, and the decision's and number's
	// entries are what the access log and later filters need most.
	MetadataSignals bool
	// MetadataDetails adds where the deciding number was (field), how many
	// numbers the body held (numbers_found) and whether the number is
	// disposable (disposable) to the dynamic metadata, for an access log
	// that wants them: the decision log line has the first two, and the
	// upstream's x-phone-disposable header the third. Off by default, for the
	// same reason.
	MetadataDetails bool
	// ContentTypeMismatch is what to do with a body that is JSON while its
	// content type says a form: parse it as what it is, or reject it.
	ContentTypeMismatch Mismatch
	// What to do when the body holds no number, was cut by Envoy, or cannot be
	// parsed as the content type it claims.
	OnNoNumber       Action
	OnPartialBody    Action
	OnUnparsableBody Action
	lists            map[string]any // the set's lists, as CEL reads them
}

// Mismatch is a route's answer to a body whose content type lies.
type Mismatch string

// The answers to a content-type mismatch.
const (
	MismatchParse  Mismatch = "parse"  // read the body as what it is (the default)
	MismatchReject Mismatch = "reject" // treat it as unparsable
)

// Match selects requests by path, method and host. Empty parts match
// anything.
type Match struct {
	Path       string         // exact path, query string excluded
	PathPrefix string         // path prefix
	PathRegex  *regexp.Regexp // RE2, matching the whole path
	Methods    []string       // upper-case HTTP methods
	// Host is an exact host ("signup.example.com") or a leading wildcard
	// ("*.example.com"), compared without the port, case-insensitively.
	Host string
}

// RegionHint says where a route's region hint comes from: a request header
// (such as a CDN's client-country header), a body field, or neither; Fixed is
// the hint when neither gives a valid code.
type RegionHint struct {
	Fixed  string // ISO 3166-1 alpha-2, or ""
	Header string // lower-case header name
	Field  *Field // a path of keys, as in Route.Fields; nil when none
}

// Policy is an ordered list of rules. The first rule whose condition holds
// decides; when none holds the number is allowed.
type Policy struct {
	Name  string
	Rules []*Rule
}

// Rule is a CEL condition and what to do when it holds.
type Rule struct {
	Name    string
	When    string // CEL source, over `insight` and `request`
	Action  Action
	Tags    []string // for tag (and reject, for the logs)
	Message string   // for reject: said to the client
	Status  int      // for reject: HTTP status, 403 when unset
	program cel.Program
}

// DefaultRejectStatus is the HTTP status of a denial when a rule sets none.
const DefaultRejectStatus = 403

func (r *Rule) String() string { return fmt.Sprintf("rule %q", r.Name) }
