// Package insight turns a phone number, as a user typed it, into an [Insight]:
// what libphonenumber can tell about it offline (formats, country, line type,
// original carrier) and how far a signup can trust it (a [Confidence] label and
// score, and a risk score).
//
// # What it is for
//
// An [Engine] answers [Engine.Lookup] in microseconds from in-memory metadata,
// behind a bounded LRU cache. It never calls a network service: what needs a live
// carrier query (reachability, porting, roaming) is reported as "unknown", never
// guessed.
//
// # Confidence
//
// The label starts from the line type (the line-type baseline) and later stages
// may only lower it:
//
//   - mobile, fixed_line: verified (0.95)
//   - fixed_line_or_mobile, toll_free: likely (0.80)
//   - voip, pager, voicemail: low (0.20)
//   - any other line type: uncertain (0.55)
//   - not parsed, not possible or not valid: invalid (0.00)
//
// # Risk score
//
// RiskScore is 0–100, higher is riskier. Until the full signal weights land it is
// derived from the confidence score alone: round((1 - confidence_score) * 100), so
// verified is 5, likely 20, uncertain 45, low 80 and invalid 100.
//
// # What it is not
//
// This package knows nothing of HTTP requests, gRPC, Envoy or YAML: it takes
// strings and returns values. Policies live in package policy; the Envoy side in
// package filter.
package insight
