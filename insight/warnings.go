package insight

import (
	"strconv"
	"sync"
	"sync/atomic"
)

// Warning is one signal that lowered trust, in the shape verification
// reports use: a stable risk code, how grave it is, and descriptions for
// people.
type Warning struct {
	// Risk is the stable code, such as VOIP_NUMBER_DETECTED.
	Risk string `json:"risk"`
	// LogType is error (the number cannot be used), warning (a risk signal)
	// or information.
	LogType          string            `json:"log_type"`
	ShortDescription string            `json:"short_description"`
	LongDescription  string            `json:"long_description"`
	AdditionalData   map[string]string `json:"additional_data,omitempty"`
}

// The warning codes. They are part of the contract: policies and logs match
// on them.
const (
	WarnInvalidNumber       = "INVALID_NUMBER"
	WarnVoIP                = "VOIP_NUMBER_DETECTED"
	WarnDisposable          = "DISPOSABLE_NUMBER_DETECTED"
	WarnFictitious          = "FICTITIOUS_NUMBER"
	WarnPremiumRate         = "PREMIUM_RATE_NUMBER"
	WarnSharedCost          = "SHARED_COST_NUMBER"
	WarnTollFree            = "TOLL_FREE_NUMBER"
	WarnUnverifiableLine    = "UNVERIFIABLE_LINE_TYPE"
	WarnCountryCapped       = "COUNTRY_CONFIDENCE_CAPPED"
	WarnLineTypeAmbiguous   = "LINE_TYPE_AMBIGUOUS"
	WarnNonGeographicNumber = "NON_GEOGRAPHIC_NUMBER"
	WarnIPCountryMismatch   = "IP_COUNTRY_MISMATCH"
	WarnRecentAbuse         = "RECENT_ABUSE"
	WarnReceiveSMSHistory   = "RECEIVE_SMS_HISTORY"
)

// WarningCodes lists every code the engine emits.
var WarningCodes = []string{
	WarnInvalidNumber, WarnVoIP, WarnDisposable, WarnFictitious, WarnPremiumRate,
	WarnSharedCost, WarnTollFree, WarnUnverifiableLine, WarnCountryCapped,
	WarnLineTypeAmbiguous, WarnNonGeographicNumber, WarnIPCountryMismatch, WarnRecentAbuse,
	WarnReceiveSMSHistory,
}

func ipMismatchWarning(ip *IP, numberCountry string) Warning {
	key := [2]string{ip.Country, numberCountry}
	if w, ok := mismatchWarnings.Load(key); ok {
		return w.(Warning)
	}
	w := Warning{
		Risk: WarnIPCountryMismatch, LogType: "warning",
		ShortDescription: "IP country mismatch",
		LongDescription:  "The request comes from " + ip.Country + " but the number belongs to " + numberCountry + ".",
		AdditionalData:   map[string]string{"ip_country": ip.Country, "number_country": numberCountry, "risk_weight": strconv.Itoa(weightIPMismatch)},
	}
	if mismatchCount.Add(1) <= maxMismatchWarnings {
		mismatchWarnings.Store(key, w)
	}
	return w
}

// mismatchWarnings holds the IP_COUNTRY_MISMATCH warning of each pair of
// countries, built once and shared read-only; past maxMismatchWarnings
// pairs (a few dozen are usual) a warning is built per use.
var (
	mismatchWarnings sync.Map
	mismatchCount    atomic.Int64
)

const maxMismatchWarnings = 4096

// recentAbuseWarning is the RECENT_ABUSE warning of a number past a velocity
// threshold within window.
func recentAbuseWarning(window string) Warning {
	if last := lastRecentAbuse.Load(); last != nil && last.window == window {
		return last.w
	}
	w := Warning{
		Risk: WarnRecentAbuse, LogType: "warning",
		ShortDescription: "Number used again and again",
		LongDescription: "Within " + window + " this number reached a velocity threshold: its checks, client addresses" +
			" or networks (velocity has the counts).",
		AdditionalData: map[string]string{"window": window, "risk_weight": strconv.Itoa(weightRecentAbuse)},
	}
	lastRecentAbuse.Store(&windowWarning{window, w})
	return w
}

// lastRecentAbuse is the RECENT_ABUSE warning last built, shared read-only:
// it says only the window, which changes with a reload at most, so a
// number checked again and again (the checks that carry the warning) does
// not build it again every time. The counts are the insight's velocity.
var lastRecentAbuse atomic.Pointer[windowWarning]

type windowWarning struct {
	window string
	w      Warning
}

// warnings lists every signal of a finished insight that lowered trust.
func warnings(in *Insight) []Warning {
	var w []Warning
	add := func(code, logType, short, long string, data map[string]string) {
		w = append(w, Warning{Risk: code, LogType: logType, ShortDescription: short, LongDescription: long, AdditionalData: data})
	}
	if !in.Valid {
		add(WarnInvalidNumber, "error", "Invalid phone number",
			"The number cannot be dialled: "+in.Diagnostics.Format.Reason+".",
			map[string]string{"possible": in.Diagnostics.Format.Possible})
	}
	if in.IsFictitious {
		add(WarnFictitious, "warning", "Fictitious number",
			"The number is in a range reserved for drama, film and examples and is never assigned to a subscriber ("+in.Diagnostics.Confidence.Fictitious.Source+").",
			map[string]string{"matched_prefix": in.Diagnostics.Confidence.Fictitious.Matched})
	}
	if in.IsDisposable {
		data := map[string]string{}
		if p := in.Diagnostics.Disposable.MatchedPrefix; p != "" {
			data["matched_prefix"] = p
		}
		if c := in.Diagnostics.Disposable.MatchedCarrier; c != "" {
			data["carrier"] = c
		}
		add(WarnDisposable, "warning", "Disposable number",
			"The number belongs to a provider of temporary or rented numbers: "+in.Diagnostics.Disposable.Reason+".", data)
	}
	if h := in.Diagnostics.Confidence.ReceiveSMSHistory; h.Matched != "" {
		add(WarnReceiveSMSHistory, "warning", "Seen on a receive-SMS website long ago",
			"The number was last seen on a public receive-SMS website on "+h.LastSeen+
				", longer ago than the list's max_age: it may since have gone to a new subscriber, so it is not called disposable, only not trusted above uncertain.",
			map[string]string{"matched_prefix": h.Matched, "last_seen": h.LastSeen})
	}
	if in.LineType == VoIP || in.IsVirtual {
		add(WarnVoIP, "warning", "VoIP number",
			"The number is a VoIP or virtual line, which anyone can rent online without proving who they are.",
			map[string]string{"line_type": string(in.LineType), "carrier": in.Carrier.Name})
	}
	switch in.LineType {
	case PremiumRate:
		add(WarnPremiumRate, "warning", "Premium-rate number",
			"Calls and texts to the number are charged at a premium; such numbers are used to draw money out of SMS verification (SMS pumping).", nil)
	case SharedCost:
		add(WarnSharedCost, "information", "Shared-cost number",
			"The number is a shared-cost service line, not a personal phone.", nil)
	case TollFree:
		add(WarnTollFree, "information", "Toll-free number",
			"The number is a toll-free service line, which usually cannot receive text messages.", nil)
	case FixedLineOrMobile:
		add(WarnLineTypeAmbiguous, "information", "Fixed line or mobile",
			"The numbering plan does not tell fixed lines from mobiles in this range; a live query would.", nil)
	case Pager, Voicemail, UAN, PersonalNumber:
		add(WarnUnverifiableLine, "warning", "Line type that cannot be verified",
			"A "+string(in.LineType)+" number forwards to another line or cannot receive a verification text.",
			map[string]string{"line_type": string(in.LineType)})
	}
	if in.Valid && in.Country.ISO2 == nonGeographicRegion {
		add(WarnNonGeographicNumber, "information", "Non-geographic number",
			"The number uses a global country code (+"+in.Country.Prefix+") with no subscriber country.", nil)
	}
	if cc := in.Diagnostics.Confidence.CountryCap; cc.Applied {
		add(WarnCountryCapped, "information", "Confidence capped for the region",
			"Numbers of "+cc.Region+" are never trusted above "+string(cc.Cap)+".",
			map[string]string{"region": cc.Region, "cap": string(cc.Cap), "risk_weight": strconv.Itoa(weightCountryCap)})
	}
	return w
}
