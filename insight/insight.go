package insight

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

	IsDisposable bool `json:"is_disposable"`
	IsVirtual    bool `json:"is_virtual"`
	IsFictitious bool `json:"is_fictitious"`

	Confidence      Confidence `json:"confidence"`
	ConfidenceScore float64    `json:"confidence_score"`
	RiskScore       int        `json:"risk_score"`

	// Network holds what only a live network query can answer: always unknown here.
	Network Network `json:"network"`

	Diagnostics Diagnostics `json:"diagnostics"`
}

// Country is the region a number belongs to.
type Country struct {
	// ISO2 is the ISO 3166-1 alpha-2 code ("GB"), or "" when unknown. Numbers of
	// non-geographic services (+800, +882, ...) have the code "001".
	ISO2 string `json:"iso2"`
	// Prefix is the international dialing code ("44").
	Prefix string `json:"prefix"`
}

// Carrier is the original carrier of the number range, where the metadata has
// one. Numbers are ported, so this is the range holder, not the current network.
type Carrier struct {
	Name string `json:"name"`
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
	// Format is why parsing failed ("" when it did not).
	Format string `json:"format,omitempty"`
	// Confidence lists the result of each confidence stage.
	Confidence ConfidenceDiagnostics `json:"confidence"`
}

// ConfidenceDiagnostics records each stage of the confidence pipeline.
type ConfidenceDiagnostics struct {
	LineTypeBaseline Confidence `json:"line_type_baseline"`
	Final            Confidence `json:"final"`
}
