package insight

import (
	"maps"
	"sync"
)

// mapCache holds an insight's map form, built once; see [Insight.AsMap]. It
// is behind a pointer so that an Insight may be copied.
type mapCache struct {
	once sync.Once
	m    map[string]any
}

// AsMap returns the insight as its JSON object in Go values (strings, bools,
// int64, float64, []any and map[string]any), with the JSON field names. It is
// what expression languages (the policy's CEL rules) read. `ip` and
// `velocity` are always there, unknown and zero when the insight has none, so
// a rule reading them never fails. The map is built once per insight and
// shared, like the insight: it must not be modified.
func (in *Insight) AsMap() map[string]any {
	c := in.maps
	if c == nil { // an Insight not made by an Engine
		return in.buildMap()
	}
	c.once.Do(func() {
		if in.base != nil {
			// A request's insight: the cached number's map with what the
			// request changed, without rebuilding the rest.
			c.m = maps.Clone(in.base.AsMap())
			c.m["ip"] = ipMap(in.IP)
			c.m["velocity"] = velocityMap(in.Velocity)
			c.m["risk_score"] = int64(in.RiskScore)
			c.m["warnings"] = warningsList(in.Warnings)
			return
		}
		c.m = in.buildMap()
	})
	return c.m
}

func ipMap(ip *IP) map[string]any {
	if ip == nil {
		return map[string]any{"address": "", "country": "", "match": MatchUnknown}
	}
	return map[string]any{"address": ip.Address, "country": ip.Country, "match": ip.Match}
}

func velocityMap(v *Velocity) map[string]any {
	if v == nil {
		v = &Velocity{}
	}
	return map[string]any{
		"seen":              int64(v.Seen),
		"distinct_ips":      int64(v.DistinctIPs),
		"distinct_networks": int64(v.DistinctNetworks),
		"range_seen":        int64(v.RangeSeen),
		"range_numbers":     int64(v.RangeNumbers),
		"ip_numbers":        int64(v.IPNumbers),
		"network_numbers":   int64(v.NetworkNumbers),
		"country_seen":      int64(v.CountrySeen),
		"window":            v.Window,
		"source":            v.Source,
		"recent_abuse":      v.RecentAbuse,
	}
}

func warningsList(ws []Warning) []any {
	out := make([]any, len(ws))
	for i, w := range ws {
		data := make(map[string]any, len(w.AdditionalData))
		for k, v := range w.AdditionalData {
			data[k] = v
		}
		out[i] = map[string]any{
			"risk": w.Risk, "log_type": w.LogType, "short_description": w.ShortDescription,
			"long_description": w.LongDescription, "additional_data": data,
		}
	}
	return out
}

func (in *Insight) buildMap() map[string]any {
	zones := make([]any, len(in.Location.TimeZones))
	for i, z := range in.Location.TimeZones {
		zones[i] = z
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
		"ip":       ipMap(in.IP),
		"velocity": velocityMap(in.Velocity),
		"warnings": warningsList(in.Warnings),
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
