package insight

import "sync/atomic"

// asMap caches the insight's map form; see [Insight.AsMap].
type asMap struct {
	p atomic.Pointer[map[string]any]
}

// AsMap returns the insight as its JSON object in Go values (strings, bools,
// int64, float64, []any and map[string]any), with the JSON field names. It is
// what expression languages (the policy's CEL rules) read. The map is built
// once per insight and shared, like the insight: it must not be modified.
func (in *Insight) AsMap() map[string]any {
	if m := in.asMap.p.Load(); m != nil {
		return *m
	}
	m := in.buildMap()
	in.asMap.p.CompareAndSwap(nil, &m)
	return *in.asMap.p.Load()
}

func (in *Insight) buildMap() map[string]any {
	zones := make([]any, len(in.Location.TimeZones))
	for i, z := range in.Location.TimeZones {
		zones[i] = z
	}
	warnings := make([]any, len(in.Warnings))
	for i, w := range in.Warnings {
		data := make(map[string]any, len(w.AdditionalData))
		for k, v := range w.AdditionalData {
			data[k] = v
		}
		warnings[i] = map[string]any{
			"risk": w.Risk, "log_type": w.LogType, "short_description": w.ShortDescription,
			"long_description": w.LongDescription, "additional_data": data,
		}
	}
	d := in.Diagnostics
	return map[string]any{
		"input":            in.Input,
		"region_hint":      in.RegionHint,
		"parsed":           in.Parsed,
		"possible":         in.Possible,
		"valid":            in.Valid,
		"e164":             in.E164,
		"international":    in.International,
		"national":         in.National,
		"country":          map[string]any{"iso2": in.Country.ISO2, "iso3": in.Country.ISO3, "name": in.Country.Name, "prefix": in.Country.Prefix},
		"line_type":        string(in.LineType),
		"carrier":          map[string]any{"name": in.Carrier.Name, "type": in.Carrier.Type},
		"location":         map[string]any{"description": in.Location.Description, "time_zones": zones},
		"is_disposable":    in.IsDisposable,
		"is_virtual":       in.IsVirtual,
		"is_fictitious":    in.IsFictitious,
		"confidence":       string(in.Confidence),
		"confidence_score": in.ConfidenceScore,
		"risk_score":       int64(in.RiskScore),
		"network": map[string]any{
			"reachable": in.Network.Reachable, "ported": in.Network.Ported,
			"roaming": in.Network.Roaming, "active": in.Network.Active,
		},
		"warnings": warnings,
		"diagnostics": map[string]any{
			"format": map[string]any{"possible": d.Format.Possible, "reason": d.Format.Reason},
			"disposable": map[string]any{
				"is_disposable": d.Disposable.IsDisposable, "reason": d.Disposable.Reason,
				"matched_prefix": d.Disposable.MatchedPrefix, "matched_carrier": d.Disposable.MatchedCarrier,
			},
			"confidence": map[string]any{
				"line_type_baseline": string(d.Confidence.LineTypeBaseline),
				"carrier_profile": map[string]any{
					"matched": d.Confidence.CarrierProfile.Matched, "label": string(d.Confidence.CarrierProfile.Label),
					"applied": d.Confidence.CarrierProfile.Applied,
				},
				"country_cap": map[string]any{
					"region": d.Confidence.CountryCap.Region, "cap": string(d.Confidence.CountryCap.Cap),
					"applied": d.Confidence.CountryCap.Applied,
				},
				"disposable_prefix": stageMap(d.Confidence.DisposablePrefix),
				"fictitious":        stageMap(d.Confidence.Fictitious),
				"final":             string(d.Confidence.Final),
			},
		},
	}
}

func stageMap(s PrefixStage) map[string]any {
	return map[string]any{"matched": s.Matched, "source": s.Source, "applied": s.Applied}
}
