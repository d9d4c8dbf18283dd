package insight

import "sync/atomic"

// Insight is everything the engine knows about one number. It is returned by
// [Engine.Lookup], shared through the cache, and must be treated as read-only.
// The JSON form (snake_case) is the one `phonegate lookup`, logs and the HTTP
// insight endpoint print.
type Insight struct {
	// Input is the string as it was given.
	Input string `json:"input"`
	// RegionHint is the region used for numbers written without a country code.
	RegionHint string `json:"region_hint,omitempty"`

	// Parsed, Possible and Valid are libphonenumber's verdicts.
	Parsed   bool `json:"parsed"`
	Possible bool `json:"possible"`
	Valid    bool `json:"valid"`

	// Formats are empty when the input could not be parsed.
	E164          string `json:"e164"`
	International string `json:"international"`
	National      string `json:"national"`

	Country  Country  `json:"country"`
	LineType LineType `json:"line_type"`
	Carrier  Carrier  `json:"carrier"`
	Location Location `json:"location"`

	// IsDisposable: the carrier or prefix is a provider of disposable numbers.
	IsDisposable bool `json:"is_disposable"`
	// IsVirtual: a VoIP line, or a virtual number of a disposable provider.
	IsVirtual bool `json:"is_virtual"`
	// IsFictitious: a range reserved for drama and examples (NANP 555-01XX,
	// Ofcom drama numbers, ACMA fictitious numbers).
	IsFictitious bool `json:"is_fictitious"`

	Confidence      Confidence `json:"confidence"`
	ConfidenceScore float64    `json:"confidence_score"`
	// RiskScore is 0–100, higher is riskier; the weights are in the package doc.
	RiskScore int `json:"risk_score"`

	// IP is the client's address against the number's country; nil when the
	// insight is of a number alone (no request, or no client address).
	IP *IP `json:"ip,omitempty"`
	// Velocity is what this process saw of the number lately; nil when the
	// insight is of a number alone.
	Velocity *Velocity `json:"velocity,omitempty"`

	// Network holds what only a live network query can answer: always unknown here.
	Network Network `json:"network"`

	// Warnings lists every signal that lowered trust; empty when none did.
	Warnings    []Warning   `json:"warnings"`
	Diagnostics Diagnostics `json:"diagnostics"`

	annex *Annex // shared by the copies ForRequest makes
}

// Annex holds what a caller derives from an insight alone (the filter's
// per-number headers, metadata and keyed hash), so that it is built once per
// cached insight instead of once per request. Copies of an insight made by
// [Engine.ForRequest] share their base's annex. A nil *Annex (an insight not
// made by the engine) stores nothing.
type Annex struct{ v atomic.Value }

// Annex returns the insight's annex; nil for an insight not made by the
// engine.
func (in *Insight) Annex() *Annex { return in.annex }

// Load returns what was stored, or nil.
func (a *Annex) Load() any {
	if a == nil {
		return nil
	}
	return a.v.Load()
}

// Store keeps v (always of one type) for every later Load.
func (a *Annex) Store(v any) {
	if a != nil {
		a.v.Store(v)
	}
}

// annexed is an insight and its annex in one allocation.
type annexed struct {
	in    Insight
	annex Annex
}

// Country is the region a number belongs to.
type Country struct {
	// ISO2 is the ISO 3166-1 alpha-2 code ("GB"), "001" for non-geographic
	// codes (+800, +882, ...), or "" when unknown (invalid numbers).
	ISO2 string `json:"iso2"`
	// ISO3 is the alpha-3 code ("GBR"); "" for non-geographic codes.
	ISO3 string `json:"iso3"`
	// Name is the English name ("United Kingdom").
	Name string `json:"name"`
	// Prefix is the international dialing code ("44").
	Prefix string `json:"prefix"`
}

// Carrier is the original carrier of the number range, where the metadata has
// one. Numbers are ported, so this is the range holder, not the current network.
type Carrier struct {
	Name string `json:"name"`
	// Type is the kind of network the line type implies: mobile, landline,
	// mobile_or_landline, landline_tollfree, landline_premium, virtual, pager
	// or unknown.
	Type string `json:"type"`
}

// Location is where a geographic number is, as libphonenumber's geocoding
// data says: a city or area, else the country.
type Location struct {
	Description string   `json:"description"`
	TimeZones   []string `json:"time_zones"`
}

// Network answers are "unknown" offline: they need a live HLR/carrier query.
type Network struct {
	Reachable string `json:"reachable"`
	Ported    string `json:"ported"`
	Roaming   string `json:"roaming"`
	Active    string `json:"active"`
}

// Unknown is the value of every field the engine cannot know offline.
const Unknown = "unknown"

// Diagnostics say why the engine reached its verdicts.
type Diagnostics struct {
	Format     FormatDiagnostics     `json:"format"`
	Disposable DisposableDiagnostics `json:"disposable"`
	Confidence ConfidenceDiagnostics `json:"confidence"`
}

// FormatDiagnostics explain the parse and validity verdicts.
type FormatDiagnostics struct {
	// Possible is libphonenumber's length check: is_possible, too_short,
	// too_long, invalid_length, invalid_country_code or is_possible_local_only;
	// "" when the input did not parse.
	Possible string `json:"possible"`
	// Reason says, for a person, why the number is not valid ("" when it is).
	Reason string `json:"reason,omitempty"`
}

// DisposableDiagnostics explain is_disposable.
type DisposableDiagnostics struct {
	IsDisposable   bool   `json:"is_disposable"`
	Reason         string `json:"reason"`
	MatchedPrefix  string `json:"matched_prefix,omitempty"`
	MatchedCarrier string `json:"matched_carrier,omitempty"`
}

// ConfidenceDiagnostics record each stage of the confidence pipeline. Each
// stage can only lower the label.
type ConfidenceDiagnostics struct {
	LineTypeBaseline Confidence          `json:"line_type_baseline"`
	CarrierProfile   CarrierProfileStage `json:"carrier_profile"`
	CountryCap       CountryCapStage     `json:"country_cap"`
	DisposablePrefix PrefixStage         `json:"disposable_prefix"`
	// ReceiveSMSHistory is stage 4's other outcome: a receive-SMS sighting
	// older than max_age, which caps the label at uncertain.
	ReceiveSMSHistory ReceiveSMSHistoryStage `json:"receive_sms_history"`
	Fictitious        PrefixStage            `json:"fictitious"`
	Final             Confidence             `json:"final"`
}

// CarrierProfileStage is stage 2: the profile matched, its label, and
// whether it lowered the confidence.
type CarrierProfileStage struct {
	Matched string     `json:"matched"`
	Label   Confidence `json:"label"`
	Applied bool       `json:"applied"`
}

// ReceiveSMSHistoryStage records a number (or its range) last seen on a
// receive-SMS website longer ago than max_age before the list's newest date.
type ReceiveSMSHistoryStage struct {
	Matched  string `json:"matched"`
	LastSeen string `json:"last_seen"`
	Applied  bool   `json:"applied"`
}

// CountryCapStage is stage 3: the region's cap and whether it applied.
type CountryCapStage struct {
	Region  string     `json:"region"`
	Cap     Confidence `json:"cap"`
	Applied bool       `json:"applied"`
}

// PrefixStage is a prefix-table stage: the prefix matched, its source, and
// whether it lowered the confidence.
type PrefixStage struct {
	Matched string `json:"matched"`
	Source  string `json:"source,omitempty"`
	Applied bool   `json:"applied"`
}
