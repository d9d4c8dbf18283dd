package insight

import "math"

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

// riskFromConfidence is the interim risk score: the distrust of the label, 0–100.
func riskFromConfidence(score float64) int {
	return int(math.Round((1 - score) * 100))
}
