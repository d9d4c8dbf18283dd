package insight

import (
	"fmt"
	"slices"
	"strings"
)

// Confidence is the trust label of a number, from most to least trusted.
type Confidence string

// The five labels of the confidence pipeline.
const (
	Verified  Confidence = "verified"
	Likely    Confidence = "likely"
	Uncertain Confidence = "uncertain"
	Low       Confidence = "low"
	Invalid   Confidence = "invalid"
)

// Confidences lists the labels from most to least trusted.
var Confidences = []Confidence{Verified, Likely, Uncertain, Low, Invalid}

// ParseConfidence reads a label, refusing anything but the five.
func ParseConfidence(s string) (Confidence, error) {
	c := Confidence(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Confidences, c) {
		return "", fmt.Errorf("unknown confidence %q: want one of verified, likely, uncertain, low, invalid", s)
	}
	return c, nil
}

// Score is the label's numeric confidence.
func (c Confidence) Score() float64 {
	switch c {
	case Verified:
		return 0.95
	case Likely:
		return 0.80
	case Uncertain:
		return 0.55
	case Low:
		return 0.20
	}
	return 0
}

// Below reports whether c is less trusted than other.
func (c Confidence) Below(other Confidence) bool {
	return slices.Index(Confidences, c) > slices.Index(Confidences, other)
}

// lowerTo is one pipeline step: the label becomes to if that is lower, and
// applied says whether it did. A stage can lower a label, never raise it.
func lowerTo(cur, to Confidence) (Confidence, bool) {
	if to.Below(cur) {
		return to, true
	}
	return cur, false
}

// lineTypeBaseline is the first stage of the pipeline: the label a line type
// earns before anything else is known.
func lineTypeBaseline(t LineType) Confidence {
	switch t {
	case Mobile, FixedLine:
		return Verified
	case FixedLineOrMobile, TollFree:
		return Likely
	case VoIP, Pager, Voicemail:
		return Low
	}
	return Uncertain
}

// runPipeline runs the four stages and the fictitious check over an insight
// whose number facts are known, recording each stage in the diagnostics.
func (in *Insight) runPipeline(t *tables) {
	d := &in.Diagnostics.Confidence
	label := Invalid
	if in.Parsed && in.Possible && in.Valid {
		label = lineTypeBaseline(in.LineType)
	}
	d.LineTypeBaseline = label

	// 2. Carrier profile.
	if p, ok := t.carrierProfile(in.Carrier.Name); ok {
		d.CarrierProfile.Matched = p.Name
		d.CarrierProfile.Label = p.Label
		label, d.CarrierProfile.Applied = lowerTo(label, p.Label)
		in.IsVirtual = in.IsVirtual || p.Virtual || p.Disposable
		if p.Disposable {
			in.IsDisposable = true
			in.Diagnostics.Disposable = DisposableDiagnostics{
				IsDisposable: true, MatchedCarrier: in.Carrier.Name,
				Reason: fmt.Sprintf("the range's carrier %q is a provider of disposable numbers (%s)", in.Carrier.Name, p.Source),
			}
		}
	}

	// 3. Country cap.
	if c, ok := t.caps[in.Country.ISO2]; ok && in.Country.ISO2 != "" {
		d.CountryCap = CountryCapStage{Region: c.Region, Cap: c.Cap}
		label, d.CountryCap.Applied = lowerTo(label, c.Cap)
	}

	// 4. Disposable prefix: the operator's and embedded prefixes, then the
	// embedded list of numbers seen on receive-SMS websites (a whole number
	// is its own longest prefix) and the ranges where they cluster. A
	// sighting older than max_age only caps the label at uncertain.
	if in.E164 != "" {
		p, ok := longestPrefix(t.disposable, in.E164)
		if !ok {
			if m, found := receiveSMS().lookup(in.E164); found && !t.isExempt(in.E164) {
				switch {
				case receiveSMS().fresh(m.day, t.maxAge):
					p, ok = PrefixEntry{Prefix: m.prefix, Source: receiveSMSSource + ", last seen " + m.lastSeen()}, true
					if m.evidence != "" {
						p.Source += "; " + m.evidence
					}
				default:
					h := &d.ReceiveSMSHistory
					h.Matched, h.LastSeen = m.prefix, m.lastSeen()
					label, h.Applied = lowerTo(label, Uncertain)
				}
			}
		}
		if ok {
			d.DisposablePrefix = PrefixStage{Matched: p.Prefix, Source: p.Source}
			label, d.DisposablePrefix.Applied = lowerTo(label, Low)
			in.IsDisposable = true
			in.Diagnostics.Disposable = DisposableDiagnostics{
				IsDisposable: true, MatchedPrefix: p.Prefix, MatchedCarrier: in.Diagnostics.Disposable.MatchedCarrier,
				Reason: disposableReason(p, in.E164),
			}
		}
	}

	// Fictitious ranges, valid or not in libphonenumber's eyes.
	if p, ok := fictitious(t, in); ok {
		in.IsFictitious = true
		d.Fictitious = PrefixStage{Matched: p.Prefix, Source: p.Source}
		label, d.Fictitious.Applied = lowerTo(label, Low)
	}

	if !in.IsDisposable {
		in.Diagnostics.Disposable.Reason = "no disposable carrier or prefix matched"
	}
	d.Final = label
	in.Confidence = label
	in.ConfidenceScore = label.Score()
}

func disposableReason(p PrefixEntry, e164 string) string {
	if p.Prefix == e164 {
		return "the number itself is listed: " + p.Source
	}
	return "the number is in a disposable range: " + p.Source
}
