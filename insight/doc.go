// Package insight turns a phone number, as a user typed it, into an [Insight]:
// everything the best phone-intelligence services answer that can be known
// without a live network query, with the reasons.
//
// # What it is for
//
// An [Engine] answers [Engine.Lookup] in microseconds from in-memory data,
// behind a bounded LRU cache keyed by the trimmed input and the region hint:
//
//   - libphonenumber's verdicts and formats (github.com/nyaruka/phonenumbers/v2,
//     a port of Google's library): parsed, possible, valid, E.164,
//     international, national. A number written in international form
//     ("+44 7400 123456") is answered from the library's metadata compiled
//     ahead of time (internal/numplan), with the library's answers, in
//     about a tenth of the time, and so is a number in national form with
//     a region hint ("07400 123456", GB) unless its national prefix is
//     rewritten (BR, MX, the NANP islands...); any other input is parsed
//     by the library;
//   - the country (ISO 3166-1 alpha-2 and alpha-3, English name, dialing
//     prefix), the line type, the original carrier of the range (for valid
//     numbers only), the location and time zones;
//   - the confidence label and score, the risk score, the disposable, virtual
//     and fictitious flags, warnings with stable codes, and diagnostics saying
//     why.
//
// It never calls a network service: reachability, porting, roaming and
// activity need a live carrier (HLR) query, and [Network] reports them as
// "unknown", never guessed.
//
// # Confidence pipeline
//
// Each stage may lower the label, never raise it; [ConfidenceDiagnostics]
// records every stage's result.
//
//  1. Line-type baseline: mobile and fixed_line are verified (0.95);
//     fixed_line_or_mobile and toll_free likely (0.80); voip, pager and
//     voicemail low (0.20); any other line type uncertain (0.55); a number
//     that did not parse or is not possible or valid is invalid (0.00).
//  2. Carrier profile: the first profile whose name the range's carrier
//     contains sets its label and is_virtual (data/carriers.txt: Twilio,
//     Voxbone and Mobiweb, uncertain); a profile of kind disposable would
//     also set is_disposable. Profiles rest on evidence, and libphonenumber
//     has no carrier names for +1 numbers: US and Canadian VoIP (Google
//     Voice, TextNow, ...) cannot be recognised offline.
//  3. Country cap: listed regions are capped (data/country_caps.txt: the
//     non-geographic codes at likely).
//  4. Disposable prefix: the longest E.164 prefix in data/disposable_prefixes.txt
//     (and a policy's), or the number in data/receive_sms_numbers.bin or its
//     block in data/receive_sms_ranges.txt (numbers seen on public
//     receive-SMS websites, from the MIT-licensed iP.1
//     disposable-phone-numbers list, with the day each was last seen),
//     forces low and sets is_disposable. A receive-SMS sighting older than
//     max_age ([DefaultReceiveSMSMaxAge], counted back from the list's newest
//     date, never the clock) only caps the label at uncertain, with a
//     RECEIVE_SMS_HISTORY warning.
//
// Then fictitious ranges (NANP 555-0100..0199 in geographic area codes; the
// drama numbers of Ofcom, ACMA, ARCEP, BNetzA and PTS: data/fictitious.txt)
// force low and set is_fictitious, even where libphonenumber calls the
// number valid.
//
// The tables are embedded, each row with its source; [Data.With] extends or
// overrides them (entries given there win), which a policy's `data:` section
// uses.
//
// # Risk score
//
// RiskScore is 0–100, higher is riskier: a base for the final label plus a
// weight for each signal, capped at 100. An invalid number is always 100.
//
//	base:  verified 5, likely 15, uncertain 35, low 60
//	+40    fictitious range
//	+40    disposable carrier or prefix
//	+30    premium_rate line
//	+20    VoIP line or virtual (a virtual carrier profile)
//	+10    shared_cost line
//	+5     the country cap lowered the label
//
// and, per request ([Engine.ForRequest]), on top of the number's score:
//
//	+15    IP_COUNTRY_MISMATCH: the client's address is in another country
//	+30    RECENT_ABUSE: the number reached a velocity threshold
//
// So a personal mobile scores 5, a US number (fixed_line_or_mobile) 15, a
// premium-rate number 65, a VoIP number 80, and a disposable or fictitious
// number 100.
//
// # Warnings
//
// Every signal that lowered trust is a [Warning] with a stable code
// (INVALID_NUMBER, VOIP_NUMBER_DETECTED, DISPOSABLE_NUMBER_DETECTED,
// FICTITIOUS_NUMBER, PREMIUM_RATE_NUMBER, SHARED_COST_NUMBER,
// TOLL_FREE_NUMBER, UNVERIFIABLE_LINE_TYPE, LINE_TYPE_AMBIGUOUS,
// NON_GEOGRAPHIC_NUMBER, COUNTRY_CONFIDENCE_CAPPED, and per request
// IP_COUNTRY_MISMATCH and RECENT_ABUSE), a log type (error,
// warning, information) and short and long descriptions.
//
// # Per request: IP and velocity
//
// The cache holds what depends on the number alone. [Engine.ForRequest] adds,
// for one request and without touching the cached insight, the client's
// address placed against the number's country ([IP]: match is country,
// mismatch or unknown; private, loopback and unknown addresses are never a
// mismatch) and the number's [Velocity]: checks of the number, its distinct
// addresses and /24 or /48 networks, checks of and distinct numbers in its
// range (the number less its last RangeDigits digits: pumping walks through
// a range), distinct numbers from the client's address and network, checks
// of the number's country, all over a sliding window, and recent_abuse past
// a threshold.
//
// A [VelocityStore] counts in this process, in bounded memory: at most
// MaxNumbers numbers (about [VelocityEntryBytes] each) and as many ranges,
// addresses, networks and countries (about [VelocityGroupBytes]), the least
// recently seen forgotten first, so a flood of distinct numbers cannot grow
// the process. A [RedisVelocityStore] shares the counts of every replica
// through one Redis (github.com/redis/go-redis/v9): keys are HMACs under the
// number-hash key, never a number or an address; every key expires; a check
// is one Lua script, one round trip; and a check waits at most its timeout,
// after which it is answered with the local counts it also keeps (Source
// says which), so Redis is never a reason to fail a check. Both stores keep
// counts right when the window changes: buckets know the seconds of their
// first and last checks, members when they were last seen.
//
// Addresses are placed by the embedded table of github.com/phuslu/iploc
// (IP2Location LITE data) or by a MaxMind-format database ([OpenMaxMind]).
//
// # What it is not
//
// This package knows nothing of HTTP requests, gRPC, Envoy or YAML: it takes
// strings and returns values (and, for shared velocity, talks to Redis). Policies live in package policy; the Envoy side in
// package filter.
package insight
