package insight

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"
)

// TestAsMapIsTheJSONForm: the map policies read has exactly the names and
// values of the JSON form, for every kind of insight.
func TestAsMapIsTheJSONForm(t *testing.T) {
	e := New(Options{})
	var insights []*Insight
	for _, input := range []string{"+447400123456", "+447520501234", "+1 201 555 0123", "+883 510 012345678", "junk", "+44 12"} {
		insights = append(insights, e.Lookup(input, ""))
	}
	// A request's insight, IP and velocity included.
	abuse := &Velocity{Seen: 30, DistinctIPs: 7, DistinctNetworks: 6, Window: "10m0s", RecentAbuse: true}
	insights = append(insights, e.ForRequest(e.Lookup("+447400123456", ""), netip.MustParseAddr("8.8.8.8"), abuse))
	for _, in := range insights {
		input := in.Input
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var fromJSON map[string]any
		if err := json.Unmarshal(b, &fromJSON); err != nil {
			t.Fatal(err)
		}
		// Round-trip the map through JSON too, so numbers compare as float64.
		b2, _ := json.Marshal(in.AsMap())
		var fromMap map[string]any
		json.Unmarshal(b2, &fromMap)
		// The map always has ip and velocity, so rules never fail on them;
		// the JSON form omits them when the insight has none.
		for _, k := range []string{"ip", "velocity"} {
			if _, ok := fromJSON[k]; !ok {
				delete(fromMap, k)
			}
		}
		if !reflect.DeepEqual(omitEmpty(fromJSON), omitEmpty(fromMap)) {
			t.Errorf("%s: AsMap differs from the JSON form\n json %s\n map  %s", input, b, b2)
		}
		if m1, m2 := in.AsMap(), in.AsMap(); reflect.ValueOf(m1).Pointer() != reflect.ValueOf(m2).Pointer() {
			t.Errorf("%s: AsMap built twice", input)
		}
	}
}

// omitEmpty drops empty strings and empty maps, which the JSON form omits
// (omitempty) and the map keeps, so the two compare on content.
func omitEmpty(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			val = omitEmpty(val)
			if s, ok := val.(string); ok && s == "" {
				continue
			}
			if m, ok := val.(map[string]any); ok && len(m) == 0 {
				continue
			}
			out[k] = val
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = omitEmpty(x[i])
		}
		return out
	}
	return v
}
