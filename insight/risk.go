package insight

// The risk score is 0–100, higher is riskier: a base for the confidence label
// plus a weight for each signal, capped at 100. An invalid number is 100.
// These are the documented weights (see the package doc); policies set
// thresholds on the result.
const (
	riskVerified  = 5
	riskLikely    = 15
	riskUncertain = 35
	riskLow       = 60

	weightFictitious  = 40 // reserved drama/test range: nobody's number
	weightDisposable  = 40 // disposable carrier or prefix
	weightPremiumRate = 30 // premium-rate: costs the caller, used for fraud
	weightVirtual     = 20 // VoIP or virtual line
	weightSharedCost  = 10 // shared-cost line
	weightCountryCap  = 5  // the region's cap lowered the label

	// Per request, on top of the number's score (Engine.ForRequest):
	weightIPMismatch  = 15 // the client's IP is in another country than the number
	weightRecentAbuse = 30 // the number was seen too often, from too many places, lately
)

func riskScore(in *Insight) int {
	var r int
	switch in.Confidence {
	case Verified:
		r = riskVerified
	case Likely:
		r = riskLikely
	case Uncertain:
		r = riskUncertain
	case Low:
		r = riskLow
	default:
		return 100
	}
	if in.IsFictitious {
		r += weightFictitious
	}
	if in.IsDisposable {
		r += weightDisposable
	}
	if in.IsVirtual {
		r += weightVirtual
	}
	switch in.LineType {
	case PremiumRate:
		r += weightPremiumRate
	case SharedCost:
		r += weightSharedCost
	}
	if in.Diagnostics.Confidence.CountryCap.Applied {
		r += weightCountryCap
	}
	return min(r, 100)
}
