package policy

// The types below describe a policy file for its JSON Schema, schema.json,
// which editors use to complete and check policies. The parser (parse.go)
// reads the YAML itself; TestSchemaJSON regenerates schema.json from these
// types and fails when the committed file is stale, and TestSchemaKeys
// holds these types and the parser to the same keys.
//
// Tags: json names the key; doc describes it; required, enum, pattern,
// minimum and maximum constrain it. A type with a oneOf method may be
// written in several ways (`region: US` or `region: {header: ...}`).

// fileKeys are the keys the parser accepts in each mapping, by the name its
// messages use.
var fileKeys = map[string][]string{
	"policy file": {"version", "routes", "policies", "data", "velocity", "lists"},
	"route": {"name", "match", "fields", "region", "policy", "dry_run", "denial_details",
		"metadata_signals", "metadata_details", "content_type_mismatch", "on_no_number", "on_partial_body", "on_unparsable_body"},
	"match":        {"path", "path_prefix", "path_regex", "methods", "host"},
	"region":       {"header", "field", "default"},
	"data":         {"disposable_prefixes", "fictitious_prefixes", "carriers", "country_caps", "receive_sms"},
	"carrier":      {"name", "label", "disposable", "virtual", "source"},
	"country cap":  {"region", "cap", "source"},
	"receive_sms":  {"max_age", "exempt"},
	"velocity":     {"window", "max_numbers", "range_digits", "recent_abuse"},
	"recent_abuse": {"seen", "distinct_ips", "distinct_networks"},
	"prefix":       {"prefix", "source"},
	"policy":       {"name", "rules"},
	"rule":         {"name", "when", "action", "tags", "message", "status"},
}

const (
	regionPattern = "^[A-Za-z]{2}$"
	prefixPattern = `^\+[0-9 -]{1,30}$`
	durationPat   = `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	daysPattern   = `^([0-9]+d|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`
)

type schemaFile struct {
	Version  int               `json:"version" required:"true" minimum:"1" maximum:"1" doc:"The format's version: 1."`
	Routes   []schemaRoute     `json:"routes" doc:"Which requests phonegate checks, in order: the first whose match holds (or the one Envoy names in context_extensions phonegate-route) decides."`
	Policies []schemaPolicy    `json:"policies" doc:"Policies of your own, beside the presets high-trust, standard, enrichment and otp-send."`
	Data     *schemaData       `json:"data" doc:"Extends the engine's embedded tables; entries here win."`
	Velocity *schemaVelocity   `json:"velocity" doc:"The velocity window and thresholds (one file of a set at most)."`
	Lists    map[string]string `json:"lists" doc:"Named files of numbers and prefixes (one a line), relative to this file, read as lists.NAME in rules."`
}

type schemaRoute struct {
	Name                string       `json:"name" required:"true" doc:"The route's name, in metrics, logs and metadata."`
	Match               *schemaMatch `json:"match" doc:"Which requests: all conditions given must hold; none matches every request."`
	Fields              []string     `json:"fields" doc:"Where numbers are: key paths (phone, user.phone, contacts[*].phone), or auto for phone-like keys."`
	Region              schemaRegion `json:"region" doc:"The region of numbers written without a country code."`
	Policy              string       `json:"policy" required:"true" doc:"The policy that judges the numbers: a preset or one of policies."`
	DryRun              bool         `json:"dry_run" doc:"Decide and report, but let every request through."`
	DenialDetails       bool         `json:"denial_details" doc:"Add the deciding number's signals to a denial's body."`
	MetadataSignals     bool         `json:"metadata_signals" doc:"Add this request's IP and velocity signals (ip_country, ip_match, seen, recent_abuse, velocity_source) to the dynamic metadata."`
	MetadataDetails     bool         `json:"metadata_details" doc:"Add the deciding number's field, the numbers found and whether the number is disposable (field, numbers_found, disposable) to the dynamic metadata."`
	ContentTypeMismatch string       `json:"content_type_mismatch" enum:"parse,reject" doc:"A JSON body sent as a form: parse it as what it is, or reject it."`
	OnNoNumber          string       `json:"on_no_number" enum:"allow,tag,reject" doc:"When the body holds no number (default allow)."`
	OnPartialBody       string       `json:"on_partial_body" enum:"allow,tag,reject" doc:"When Envoy cut the body, or it is over the size limit."`
	OnUnparsableBody    string       `json:"on_unparsable_body" enum:"allow,tag,reject" doc:"When the body is not what its content type says."`
}

type schemaMatch struct {
	Path       string   `json:"path" pattern:"^/" doc:"The exact path, normalized, without the query; case-insensitive."`
	PathPrefix string   `json:"path_prefix" pattern:"^/" doc:"A path prefix."`
	PathRegex  string   `json:"path_regex" doc:"An RE2 expression the whole path must match."`
	Methods    []string `json:"methods" doc:"HTTP methods, such as POST."`
	Host       string   `json:"host" doc:"An exact host, or a leading wildcard such as *.example.com."`
}

// schemaRegion is `region: US` or `region: {header: cf-ipcountry, default: US}`.
type schemaRegion struct{}

func (schemaRegion) oneOf() []any { return []any{regionCode(""), schemaRegionFrom{}} }

type regionCode string

func (regionCode) pattern() string { return regionPattern }

type schemaRegionFrom struct {
	Header  string     `json:"header" doc:"A request header holding the region, such as cf-ipcountry."`
	Field   string     `json:"field" doc:"A body key path holding the country (ISO code or calling code)."`
	Default regionCode `json:"default" doc:"The region when the header or field gives none."`
}

type schemaPolicy struct {
	Name  string       `json:"name" required:"true" doc:"The policy's name, which routes use."`
	Rules []schemaRule `json:"rules" doc:"In order: the first rule whose condition holds decides."`
}

type schemaRule struct {
	Name    string   `json:"name" doc:"The rule's name, in metrics, logs and metadata."`
	When    string   `json:"when" required:"true" doc:"A CEL condition over insight and request that gives a bool."`
	Action  string   `json:"action" required:"true" enum:"allow,tag,reject" doc:"What the rule does when its condition holds."`
	Tags    []string `json:"tags" doc:"Tags for the upstream (x-phone-tags) and the logs."`
	Message string   `json:"message" doc:"For a reject: what the client reads."`
	Status  int      `json:"status" minimum:"400" maximum:"499" doc:"For a reject: the HTTP status (default 403)."`
}

type schemaData struct {
	DisposablePrefixes []schemaPrefix     `json:"disposable_prefixes" doc:"E.164 prefixes whose numbers are disposable."`
	FictitiousPrefixes []schemaPrefix     `json:"fictitious_prefixes" doc:"E.164 prefixes reserved for drama and examples."`
	Carriers           []schemaCarrier    `json:"carriers" doc:"Carrier profiles: a label for the numbers of carriers whose name contains name."`
	CountryCaps        []schemaCountryCap `json:"country_caps" doc:"Regions never trusted above a label."`
	ReceiveSMS         *schemaReceiveSMS  `json:"receive_sms" doc:"How the embedded list of numbers seen on receive-SMS websites is used."`
}

// schemaPrefix is `"+447700900"` or `{prefix: "+447700900", source: ...}`.
type schemaPrefix struct{}

func (schemaPrefix) oneOf() []any { return []any{e164Prefix(""), schemaPrefixEntry{}} }

type e164Prefix string

func (e164Prefix) pattern() string { return prefixPattern }

type schemaPrefixEntry struct {
	Prefix e164Prefix `json:"prefix" required:"true" doc:"An E.164 prefix: + and digits."`
	Source string     `json:"source" doc:"Where the entry comes from."`
}

type schemaCarrier struct {
	Name       string `json:"name" required:"true" doc:"Matches carrier names that contain it, ignoring case."`
	Label      string `json:"label" required:"true" enum:"verified,likely,uncertain,low,invalid" doc:"The best label the carrier's numbers get."`
	Disposable bool   `json:"disposable" doc:"Marks the carrier's numbers disposable (and virtual)."`
	Virtual    bool   `json:"virtual" doc:"Marks the carrier's numbers virtual."`
	Source     string `json:"source" doc:"The evidence for the row."`
}

type schemaCountryCap struct {
	Region string `json:"region" required:"true" doc:"An ISO 3166-1 alpha-2 region, or 001 for non-geographic codes."`
	Cap    string `json:"cap" required:"true" enum:"verified,likely,uncertain,low,invalid" doc:"The best label the region's numbers get."`
	Source string `json:"source" doc:"The evidence for the row."`
}

type schemaReceiveSMS struct {
	MaxAge duration       `json:"max_age" doc:"How long a sighting keeps a number disposable, counted back from the list's newest date (365d by default)."`
	Exempt []schemaPrefix `json:"exempt" doc:"Numbers or prefixes the list never marks."`
}

// duration is a Go duration (90s, 10m) or, where days are read, 365d.
type duration string

func (duration) pattern() string { return daysPattern }

type windowDuration string

func (windowDuration) pattern() string { return durationPat }

type schemaVelocity struct {
	Window      windowDuration     `json:"window" doc:"The sliding window of the counts (default 10m)."`
	MaxNumbers  int                `json:"max_numbers" minimum:"1" doc:"Numbers remembered, and as many groups: the memory bound."`
	RangeDigits int                `json:"range_digits" minimum:"1" maximum:"8" doc:"A number's range is its E.164 less these last digits (default 4)."`
	RecentAbuse *schemaRecentAbuse `json:"recent_abuse" doc:"The thresholds of insight.velocity.recent_abuse."`
}

type schemaRecentAbuse struct {
	Seen             int `json:"seen" minimum:"1" doc:"Checks of the number in the window."`
	DistinctIPs      int `json:"distinct_ips" minimum:"1" maximum:"16" doc:"Distinct client addresses."`
	DistinctNetworks int `json:"distinct_networks" minimum:"1" maximum:"16" doc:"Distinct /24 or /48 networks."`
}
